import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Option, type Command } from 'commander';
import { PublicKey, type PrivateKey } from 'o1js';
import { SLOTS_PER_EPOCH } from '../contracts/types.js';
import { nanoToMina } from '../oracle/amount.js';
import { isLocalUrl } from '../oracle/config.js';
import { NetworkChain } from '../oracle/chain/network.js';
import type { LoggedEvent } from '../oracle/emitter/event-log.js';
import { startPoolEmitter } from '../oracle/emitter/pool-emitter.js';
import { SpoolSink } from '../oracle/emitter/sink.js';
import { startChainProcess, type ChildChain } from '../oracle/localnet/process.js';
import { readPoolInfo } from '../oracle/member/deliver.js';
import { deployAlias } from '../oracle/pool/deploy-alias.js';
import { loadAlias, PoolSession } from '../oracle/pool/session.js';
import { SimulatedDaemon } from '../oracle/sim/daemon.js';
import { SimulatedGateway, SimulatedMembers } from '../oracle/sim/members.js';
import { command, minaAmount, progress, wholeNumber } from './cli.js';

interface StartOptions {
  alias: string;
  exit?: boolean;
  slotSeconds: number;
  lead: number;
  port: number;
  coinbase: bigint;
  members: boolean;
  daemon?: string;
}

const MINA = 1_000_000_000n;

/** One line per closed slot: who proposed, what was emitted, what was refused. */
function slotLine(slot: number, events: LoggedEvent[], name: (k: string) => string): string {
  const parts: string[] = [];
  for (const e of events) {
    const who = e.member ? name(e.member) : '';
    if (e.type === 'emitted') parts.unshift(`${who} emitted (+${Math.round(e.latencyMs ?? 0)} ms to the sink)`);
    else if (e.type === 'ignored') parts.push(`${who} ignored`);
    else if (e.type === 'equivocation') parts.push(`${who} EQUIVOCATED (kept as evidence)`);
    else if (e.type === 'rejected') parts.push(`${who || 'someone'} refused ${e.code}`);
    else if (e.type === 'missed') parts.push('missed: no valid proposal');
  }
  return `slot ${slot}: ${parts.join(', ') || 'open'}`;
}

/**
 * `npm start`: the whole product on the local chain — the chain (started if it is not
 * running), the example pool (deployed if it is not), the emitter and the bridge as the
 * operator runs them, and simulated member nodes delivering over HTTP; fast slots so an
 * epoch closes, its report is posted and members are paid within minutes.
 */
export function startCommand(): Command {
  return command('start', 'the whole pool on the local chain: emitter, bridge and simulated members, until an epoch is reported and paid')
    .option('--alias <name>', "the local chain's alias", 'local')
    .option('--slot-seconds <n>', 'slot duration of the run (mainnet: 180)', wholeNumber(1, 600), 3)
    .option('--lead <slots>', 'slots to play before the epoch ends', wholeNumber(3, 1000), 10)
    .option('--port <n>', "the emitter's port (0: any free port)", wholeNumber(0, 65535), 8480)
    .addOption(new Option('--coinbase <mina>', 'reward counted per canonical block').argParser(minaAmount()).default(MINA, '1'))
    .option('--no-members', 'no simulated members: the emitter and bridge wait for real member nodes')
    .option('--daemon <url>', "a real daemon's GraphQL for the chain watcher (default: the simulated gateway's)")
    .option('--exit', 'stop once the epoch is paid, instead of running on until Ctrl-C')
    .addHelpText(
      'after',
      "\nThe dashboard URL is printed first. With an alias of a real network (devnet, mainnet) it runs that pool's emitter and bridge instead (npm run emitter), with no simulated members.\nThe backfill analysis is its own command: npm run backfill -- --help.",
    )
    .action(async (o: StartOptions) => {
      const root = process.cwd();
      const { alias } = await loadAlias(root, o.alias);
      if (!isLocalUrl(alias.url)) {
        // A real network: the emitter and the bridge as the operator runs them, no simulated members.
        progress(`alias '${o.alias}' is a real network (${alias.url}): running its emitter and bridge, with no simulated members`);
        const { emitterCommand } = await import('./emitter.js');
        await emitterCommand().parseAsync(['--alias', o.alias, '--port', String(o.port), ...(o.daemon ? ['--daemon', o.daemon, '--waitlist'] : [])], { from: 'user' });
        return;
      }
      const stop = new AbortController();
      const onSignal = () => {
        progress('stopping…');
        stop.abort();
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      let child: ChildChain | undefined;
      try {
        await NetworkChain.connect({ url: alias.url, networkId: alias.networkId });
        progress(`using the local chain already running at ${alias.url}`);
      } catch {
        progress(`starting the local chain at ${alias.url} (state in state/chain)`);
        child = await startChainProcess({ bin: fileURLToPath(new URL('./mina-pool.js', import.meta.url)), args: ['--alias', o.alias], url: alias.url, cwd: root });
      }
      const cleanups: (() => Promise<void>)[] = [async () => void (await child?.stop())];
      try {
        const first = await PoolSession.connect({ root, alias: o.alias, log: progress });
        if (first.chain.kind !== 'local') throw new Error(`npm start runs on the local chain; alias '${o.alias}' is ${alias.url}: run the emitter there with npm run emitter`);
        const deployed = alias.addresses && (await first.chain.account(PublicKey.fromBase58(alias.addresses.PoolDac)))?.zkapp;
        if (!deployed) {
          progress('deploying the example pool of pool.json');
          await deployAlias({ root, alias: o.alias, poolFile: 'pool.json', log: progress });
        }
        await play(root, o, stop.signal, cleanups);
      } finally {
        // The run's loops end with the signal; then each part stops, the last started first.
        if (!stop.signal.aborted) stop.abort();
        for (const c of cleanups.reverse()) await c().catch(() => undefined);
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}

async function play(root: string, o: StartOptions, signal: AbortSignal, cleanups: (() => Promise<void>)[]): Promise<void> {
  const session = await PoolSession.open({ root, alias: o.alias, log: () => {} });
  const client = session.client();
  const chain = session.chain;
  const name = (k: string) => client.who(k);
  const slotMs = o.slotSeconds * 1000;

  // Place the run just before an epoch ends, so that epoch closes within the run.
  let now = await chain.slot();
  let end = (Math.floor(now / SLOTS_PER_EPOCH) + 1) * SLOTS_PER_EPOCH;
  if (end - now < o.lead + 1) end += SLOTS_PER_EPOCH;
  if (end - o.lead > now) now = await chain.advance(end - o.lead - now);
  const epoch = end / SLOTS_PER_EPOCH - 1;

  // The pool's income: on a real network the pool's blocks pay their coinbase to it; here the faucet stands in.
  const operator = await session.key('operator');
  const oracle = await session.key('oracle');
  const income = BigInt(o.lead) * o.coinbase + 10n * MINA;
  if ((await client.funds()).spendable < income) {
    await chain.fund(operator.toPublicKey(), income + MINA);
    await client.submit(() => client.deposit(operator, income));
    progress(`the faucet paid ${nanoToMina(income)} MINA into the reward pool (standing in for the coinbase of the pool's blocks)`);
  }

  const dataDir = resolve(root, 'state', 'start', new Date().toISOString().replace(/[:.]/g, '-'));
  const daemon = o.daemon ? undefined : await SimulatedDaemon.start();
  if (daemon) cleanups.push(() => daemon.stop());
  const { service, clock, strategy } = await startPoolEmitter({
    session,
    dataDir,
    operator,
    oracle,
    slotMs,
    ...(daemon ? { sink: new SimulatedGateway(new SpoolSink(join(dataDir, 'spool')), daemon, { producerOf: (m) => m }) } : {}),
    daemonUrl: o.daemon ?? daemon!.url,
    confirmations: 2,
    watchIntervalMs: Math.max(250, slotMs / 3),
    waitlist: { settleSlots: 2, intervalMs: Math.max(250, slotMs / 3) },
    perBlock: o.coinbase,
    reportDelaySlots: 2,
    threads: 2,
    progress: (m) => (/^(bridge|emitter: (delivery|the selector)|waitlist: (notice|slot))/.test(m) ? progress(m) : undefined),
  });
  cleanups.push(() => service.stop());
  const url = await service.listen(o.port);
  progress(`\ndashboard: ${url}/\n`);
  progress(`pool on the local chain, slot ${now}: ${client.mirror.activeMembers().length} members, strategy ${strategy}, ${o.slotSeconds} s slots; epoch ${epoch} ends in ${end - now} slots, then the bridge reports it`);
  progress(`event log, spool and reports in ${dataDir}`);

  // The chain follows the emitter's clock: one slot per slot.
  const ticker = (async () => {
    for (let s = now + 1; !signal.aborted; s++) {
      try {
        await clock.sleepUntil(clock.slotStart(s), signal);
        const current = await chain.slot();
        if (s > current) await chain.advance(s - current);
      } catch {
        if (signal.aborted) return;
      }
    }
  })();
  cleanups.push(async () => void (await ticker));

  // Simulated member nodes, over HTTP to the emitter.
  if (o.members) {
    const info = await readPoolInfo(url);
    const keys: { name: string; key: PrivateKey }[] = [];
    for (const k of client.mirror.activeMembers()) {
      const who = name(k);
      const key = await session.key(who).catch(() => undefined);
      if (key) keys.push({ name: who, key });
    }
    const members = new SimulatedMembers({ emitter: url, info, clock, members: keys, winChance: 0.4 });
    progress(`simulated member nodes: ${keys.map((k) => k.name).join(', ')} (each wins a slot with chance 0.4; now and then one is late or equivocates)`);
    const playing = (async () => {
      for (let s = clock.currentSlot() + 1; !signal.aborted; s++) {
        try {
          await clock.sleepUntil(clock.slotStart(s) - 50, signal);
        } catch {
          return;
        }
        void members.playSlot(s);
      }
    })();
    cleanups.push(async () => void (await playing));
  }

  // Progress: one line per closed slot, until the epoch is reported.
  const report = async () => service.bridge?.reportFile(epoch);
  let shown = clock.currentSlot();
  const showSlots = () => {
    for (; shown < clock.currentSlot() - 1 + (clock.now() - clock.slotStart(clock.currentSlot()) > 300 ? 1 : 0); shown++) {
      if (shown >= now) progress(slotLine(shown, service.log.eventsOfSlot(shown), name) + (shown === end - 1 ? `   ← epoch ${epoch} ends` : ''));
    }
  };
  const started = clock.currentSlot();
  while (!signal.aborted && !(await report())?.posted) {
    showSlots();
    if (clock.currentSlot() > end + 60) throw new Error(`epoch ${epoch} was not reported within 60 slots of its end (see the bridge's messages above)`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const summary = async (paid: { name: string; amount: bigint }[]) => {
    const events = service.log.eventsOfSlots(started, clock.currentSlot());
    const count = (t: string) => events.filter((e) => e.type === t).length;
    const refusals = new Map<string, number>();
    for (const e of events) if (e.type === 'rejected') refusals.set(e.code ?? '?', (refusals.get(e.code ?? '?') ?? 0) + 1);
    const r = await report();
    process.stdout.write(
      [
        '',
        `Summary: slots ${started}–${clock.currentSlot()} (${o.slotSeconds} s each), strategy ${strategy}`,
        `  proposals accepted ${count('received')}, emitted ${count('emitted')}, missed ${count('missed')}, ignored ${count('ignored')}, equivocations ${count('equivocation')}`,
        `  refused: ${[...refusals].map(([c, n]) => `${c} ${n}`).join(', ') || 'none'}`,
        `  on the (simulated) network: canonical ${count('canonical')}, orphaned ${count('orphaned')}`,
        waitlistSummary(),
        r ? `  epoch ${epoch} report: ${r.eligible.map(name).join(', ') || 'nobody'} eligible, reward ${nanoToMina(BigInt(r.reward.nanomina))} MINA, metrics root ${r.metricsRoot.slice(0, 16)}…, posted in ${r.posted?.hash ?? '(not yet)'}` : `  epoch ${epoch}: not reported yet`,
        ...paid.map((p) => `  ${p.name} claimed ${nanoToMina(p.amount)} MINA`),
        `  dashboard ${url}/ · report ${url}/v1/reports/${epoch} · check it: npm run report -- --epoch ${epoch} --log ${join(dataDir, 'events.sqlite')}`,
        '',
      ].join('\n'),
    );
  };
  const waitlistSummary = () => {
    const w = service.waitlist;
    if (!w) return '  live waitlist: not kept';
    const s = w.snapshot();
    return `  live waitlist at slot ${s.slot}: ${s.entries.length} waiting${s.entries.length ? ` (${s.entries.map((e) => name(e.producer)).join(', ')})` : ''}, ${s.designations.length} designated · ${url}/v1/waitlist`;
  };
  if (signal.aborted) return summary([]);
  showSlots();
  const posted = (await report())!;
  progress(`epoch ${epoch} reported on chain: ${posted.eligible.map(name).join(', ') || 'nobody'} eligible, reward ${nanoToMina(BigInt(posted.reward.nanomina))} MINA`);

  // Claims open after the challenge window: the local chain jumps there.
  const paid: { name: string; amount: bigint }[] = [];
  if (posted.eligible.length > 0 && BigInt(posted.reward.nanomina) > 0n) {
    await client.sync();
    const opensAt = Number(client.mirror.report(epoch)!.record.claimsOpenAt.toBigint());
    const current = await chain.slot();
    if (opensAt > current) {
      progress(`the challenge window runs to slot ${opensAt}: the local chain jumps ${opensAt - current} slots there`);
      await chain.advance(opensAt - current);
    }
    await client.submit(() => client.openClaims(operator, epoch));
    for (const k of posted.eligible) {
      const key = await session.key(name(k)).catch(() => undefined);
      if (!key) continue;
      const { amount } = await client.submit(() => client.claim(key, epoch));
      paid.push({ name: name(k), amount });
      progress(`${name(k)} claimed ${nanoToMina(amount)} MINA`);
    }
  }
  await summary(paid);
  if (o.exit || signal.aborted) return;
  progress('the pool keeps running (the chain waits for the emitter\'s clock to catch up with the jump); Ctrl-C to stop');
  await new Promise<void>((done) => signal.addEventListener('abort', () => done(), { once: true }));
  await summary(paid);
}
