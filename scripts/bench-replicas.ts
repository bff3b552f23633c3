import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { progress } from './cli.js';
import { Members, percentile, proposalSigner, startBenchEmitter, type BenchEmitterConfig } from './bench-util.js';
import { freePort, killAndWait } from '../oracle/processes.js';

/**
 * The replicas' figures: what agreeing through etcd adds to a winner's path (arrival → the
 * relay has it) with three replicas against one, and how long emission takes to resume after
 * the replica holding a slot is killed, or etcd's leader is. Everything is real and on this
 * machine: a three-member etcd cluster, the gateway's relay (`mina-pool relay`), each replica
 * (or the one emitter) a process of its own; this process plays the members.
 */

const summary = (xs: number[]) => ({ p50: percentile(xs, 50), p99: percentile(xs, 99), max: Math.max(...xs), slots: xs.length });

interface Started {
  proc: ChildProcess;
  url: string;
}

export async function replicasBench(dir: string, json: boolean, viaLeader: boolean) {
  const { PrivateKey } = await import('o1js');
  const { LocalEtcd } = await import('../oracle/emitter/local-etcd.js');
  const { Etcd3 } = await import('etcd3');
  const script = fileURLToPath(new URL('./mina-pool.js', import.meta.url));
  const MEMBERS = 50;
  const ALONE = 600;
  const CHUNK = 50;
  const BURST_CHUNK = 10;
  const WARM_UP = 10;
  const BURSTS = 100;
  const ROUNDS = 5;
  const slotMs = 600;
  const poolTag = '161803';
  const keys = Array.from({ length: MEMBERS }, () => PrivateKey.random());
  const operator = PrivateKey.random();
  const signer = await proposalSigner(poolTag);

  progress('starting a three-member etcd cluster and the relay…');
  const etcd = await LocalEtcd.start({ dir: join(dir, 'etcd') });
  const relayPort = await freePort();
  const relay = spawn(process.execPath, [script, 'relay', '--spool', join(dir, 'gateway'), '--port', String(relayPort)], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let err = '';
    relay.stderr!.on('data', (d: Buffer) => ((err += d.toString()), /relay: POST/.test(err) && resolve()));
    relay.once('exit', (code) => reject(new Error(`the relay exited (${code}): ${err}`)));
  });
  const relayBase = `http://127.0.0.1:${relayPort}`;
  const idle = await idleAgreement(etcd.endpoints, poolTag, viaLeader);
  const observer = new Etcd3({ hosts: etcd.endpoints });
  const held = async () => new Set(((await (await fetch(`${relayBase}/v1/blocks`)).json()) as { blocks: { slot: number }[] }).blocks.map((b) => b.slot));

  let run = 0;
  const start = async (genesisMs: number, replica?: string, sinkDelayMs?: number): Promise<Started> => {
    const config = join(dir, `replica-${run++}.json`);
    const c: BenchEmitterConfig = {
      dataDir: join(dir, `data-${run}`),
      genesisMs,
      slotMs,
      earlyMs: 3_600_000,
      members: keys.map((k) => k.toPublicKey().toBase58()),
      poolTag,
      operator: { publicKey: operator.toPublicKey().toBase58(), privateKey: operator.toBase58() },
      relayUrl: `${relayBase}/v1/blocks`,
      ...(replica ? { replica: { id: replica, etcd: etcd.endpoints, viaLeader } } : {}),
      ...(sinkDelayMs ? { sinkDelayMs } : {}),
    };
    // Each replica (and the one emitter) runs as `npm run emitter` runs it.
    return startBenchEmitter(config, c);
  };
  const agreedMs: number[] = [];
  const stop = async (s: Started): Promise<Record<string, number>> => {
    const done = new Promise<{ latencies: Record<string, number>; agreedMs: number[] }>((resolve) => s.proc.once('message', (m) => resolve(m as never)));
    s.proc.send('stop');
    const r = await done;
    agreedMs.push(...r.agreedMs);
    return r.latencies;
  };
  const kill = (s: Started) => killAndWait(s.proc);
  // The members post from a thread below the services; this one, which starts them, stays at their level.
  const members = new Members();
  const urls = (services: Started[]) => services.map((s) => `${s.url}/v1/proposals`);
  const postTo = (targets: string[], body: string) => members.post([{ urls: targets, body }]);

  /**
   * Arrival → relay, for the one emitter and the three replicas in turns: one member alone, then
   * all members at once, each setup's services given every proposal. Both setups run throughout
   * and take turns every CHUNK slots (ABBA…), so a drift in the machine's speed over the
   * minutes of the run falls on both alike rather than on whichever ran second.
   */
  const pairedRun = async (setups: [{ services: Started[]; base: number }, { services: Started[]; base: number }]) => {
    const plans = setups.map(({ services, base }) => {
      const targets = urls(services);
      const alone = Array.from({ length: ALONE }, (_, k) => signer(keys[k % MEMBERS]!, k % MEMBERS, base + 2 * k));
      // The bursts' slots come after the lone member's.
      const burstBase = base + 2 * ALONE + 100;
      const bursts = Array.from({ length: BURSTS }, (_, b) => keys.map((key, m) => signer(key, m, burstBase + 2 * b)));
      return { services, base, targets, alone, burstBase, bursts };
    });
    // Warm-up, not counted: a replica runs for months, so its first slots (cold code paths, new connections) are not the figure.
    for (const { targets, base } of plans) {
      for (let k = 0; k < WARM_UP; k++) {
        await postTo(targets, signer(keys[k % MEMBERS]!, k % MEMBERS, base - 2 * WARM_UP + 2 * k));
        await new Promise((r) => setTimeout(r, 60));
      }
    }
    /** Each setup's items, `chunk` at a time, the setups taking turns (each first in every other turn). */
    const inTurns = async <T>(items: (plan: (typeof plans)[number]) => T[], chunk: number, gapMs: number, send: (targets: string[], item: T) => Promise<unknown>) => {
      for (let from = 0, turn = 0; from < items(plans[0]!).length; from += chunk, turn++) {
        for (const plan of turn % 2 === 0 ? plans : [...plans].reverse()) {
          for (const item of items(plan).slice(from, from + chunk)) {
            await send(plan.targets, item);
            await new Promise((r) => setTimeout(r, gapMs));
          }
        }
      }
    };
    await inTurns((plan) => plan.alone, CHUNK, 60, postTo);
    await inTurns((plan) => plan.bursts, BURST_CHUNK, 120, (targets, burst) => members.post(burst.map((body) => ({ urls: targets, body }))));
    // Let the last forwardings finish.
    await new Promise((r) => setTimeout(r, 500));
    const [a, b] = await Promise.all(
      plans.map(async ({ services, base, alone, burstBase, bursts }) => {
        const latencies: Record<string, number> = Object.assign({}, ...(await Promise.all(services.map(stop))));
        const pick = (slots: number[]) => slots.map((s) => latencies[String(s)]).filter((x): x is number => x !== undefined);
        return { alone: pick(alone.map((_, k) => base + 2 * k)), burst: pick(bursts.map((_, b) => burstBase + 2 * b)) };
      }),
    );
    return [a!, b!] as const;
  };

  try {
    // Slots 1000… open some minutes from now, after both runs (proposals are taken early, up to an hour).
    const genesisMs = Date.now() + 240_000 - 1000 * slotMs;
    progress(`one emitter and three replicas agreeing through etcd, in turns of ${CHUNK} slots: ${ALONE} slots each with one member, ${BURSTS} with all ${MEMBERS} at once, every member posting to every replica…`);
    const one = await start(genesisMs);
    const trio = [await start(genesisMs, 'r1'), await start(genesisMs, 'r2'), await start(genesisMs, 'r3')];
    // Each setup's slots: its warm-up, the lone member's, then the bursts'.
    const span = 2 * (WARM_UP + ALONE) + 100 + 2 * BURSTS;
    const [single, replicated] = await pairedRun([
      { services: [one], base: 1000 },
      { services: trio, base: 1000 + span },
    ]);

    // Recovery: the holder of a slot killed before its block (which takes 250 ms to the relay) arrives.
    progress(`recovery: ${ROUNDS} times the replica holding a slot killed, ${ROUNDS} times etcd's leader…`);
    // Its slots come after all of those (an outcome agreed there stands in etcd).
    const recoveryGenesis = Date.now() - (1000 + 2 * span + 100) * slotMs;
    const live = new Map<string, Started>();
    for (const id of ['r1', 'r2', 'r3']) live.set(id, await start(recoveryGenesis, id, 250));
    const slotNow = () => Math.floor((Date.now() - recoveryGenesis) / slotMs);
    const waitHeld = async (slot: number, since: number) => {
      for (;;) {
        if ((await held()).has(slot)) return Date.now() - since;
        if (Date.now() - since > 30_000) return Number.NaN;
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    const replicaKill: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const slot = slotNow() + 1;
      await new Promise((r) => setTimeout(r, recoveryGenesis + slot * slotMs + 50 - Date.now()));
      await postTo(urls([...live.values()]), signer(keys[round]!, round, slot));
      let holder: string | null = null;
      const key = `/mina-pool/${poolTag}/slot/${String(slot).padStart(10, '0')}/forwarder`;
      for (let i = 0; i < 500 && !holder; i++) {
        holder = await observer.get(key).string();
        if (!holder) await new Promise((r) => setTimeout(r, 2));
      }
      if (!holder) continue;
      const killedAt = Date.now();
      await kill(live.get(holder)!);
      live.delete(holder);
      replicaKill.push(await waitHeld(slot, killedAt));
      live.set(holder, await start(recoveryGenesis, holder, 250));
    }
    const leaderKill: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const leader = (await etcd.leader())!;
      const slot = slotNow() + 1;
      await new Promise((r) => setTimeout(r, recoveryGenesis + slot * slotMs + 50 - Date.now()));
      const killedAt = Date.now();
      await etcd.kill(leader);
      await postTo(urls([...live.values()]), signer(keys[10 + round]!, 10 + round, slot));
      leaderKill.push(await waitHeld(slot, killedAt));
      await etcd.restart(leader);
      await etcd.waitHealthy();
    }
    for (const s of live.values()) await kill(s);

    const figures = {
      members: MEMBERS,
      etcdVia: viaLeader ? 'leader' : 'any',
      one: { alone: summary(single.alone), burst: summary(single.burst) },
      three: { alone: summary(replicated.alone), burst: summary(replicated.burst) },
      idleAgreementMs: idle,
      agreementMs: summary(agreedMs),
      added: { aloneP50: percentile(replicated.alone, 50) - percentile(single.alone, 50), aloneP99: percentile(replicated.alone, 99) - percentile(single.alone, 99), burstP50: percentile(replicated.burst, 50) - percentile(single.burst, 50), burstP99: percentile(replicated.burst, 99) - percentile(single.burst, 99) },
      recoveryMs: { replicaKilled: replicaKill, etcdLeaderKilled: leaderKill, sinkDelayMs: 250 },
    };
    if (!json) {
      const line = (name: string, x: ReturnType<typeof summary>) => `${name}: p50 ${x.p50} ms, p99 ${x.p99} ms, max ${x.max} ms (${x.slots} slots)`;
      process.stdout.write(`\nreplicas, ${MEMBERS} members over loopback HTTP, winners to the relay (arrival → the relay has it); each slot's decision to ${viaLeader ? "etcd's leader" : 'any etcd member'}\n`);
      process.stdout.write(`${line('one emitter, one member alone', figures.one.alone)}\n${line('one emitter, all members at once', figures.one.burst)}\n`);
      process.stdout.write(`${line('three replicas, one member alone', figures.three.alone)}\n${line('three replicas, all members at once', figures.three.burst)}\n`);
      process.stdout.write(`the compare-and-create alone, etcd otherwise idle: one replica p50 ${idle.one.p50.toFixed(1)} ms, p99 ${idle.one.p99.toFixed(1)} ms; the first of three racing p50 ${idle.three.p50.toFixed(1)} ms, p99 ${idle.three.p99.toFixed(1)} ms (${idle.one.slots} slots each)\n`);
      process.stdout.write(`the winning proposal's compare-and-create in etcd, timed in the replicas: p50 ${figures.agreementMs.p50.toFixed(1)} ms, p99 ${figures.agreementMs.p99.toFixed(1)} ms, max ${figures.agreementMs.max.toFixed(1)} ms (${figures.agreementMs.slots} slots)\n`);
      process.stdout.write(`three replicas against one, end to end: alone p50 ${figures.added.aloneP50} ms, p99 ${figures.added.aloneP99} ms; all at once p50 ${figures.added.burstP50} ms, p99 ${figures.added.burstP99} ms\n`);
      process.stdout.write(`emission resumes after the holding replica is killed: ${replicaKill.join(', ')} ms (the block takes 250 ms to the relay, counted)\n`);
      process.stdout.write(`after etcd's leader is killed: ${leaderKill.join(', ')} ms\n`);
    }
    return figures;
  } finally {
    observer.close();
    await members.close();
    relay.kill('SIGKILL');
    await etcd.stop();
  }
}

/**
 * What a slot's compare-and-create costs with nothing else running (the cluster just started,
 * no replica service, no members): the real `EtcdAgreement.propose`, from one replica, then
 * from three racing for each slot (the winner's time). It bounds what agreement adds where each
 * replica and etcd member has a machine of its own; the figures under load are the others.
 */
async function idleAgreement(endpoints: string[], poolTag: string, viaLeader: boolean) {
  const { EtcdAgreement } = await import('../oracle/emitter/agreement.js');
  const SLOTS = 300;
  progress(`the compare-and-create alone on the idle cluster: ${SLOTS} slots from one replica, ${SLOTS} raced by three…`);
  const agreements = await Promise.all(['idle-1', 'idle-2', 'idle-3'].map((replica) => EtcdAgreement.start({ endpoints, replica, poolTag: `${poolTag}-idle`, viaLeader })));
  try {
    const propose = async (a: (typeof agreements)[number], slot: number) => {
      const t0 = performance.now();
      const agreed = await a.propose({ kind: 'decided', slot, member: 'bench', blockHash: `block-${slot}`, replica: a.replica, at: Date.now() });
      return { ms: performance.now() - t0, won: agreed.kind === 'decided' && agreed.replica === a.replica };
    };
    for (let slot = 0; slot < 20; slot++) await propose(agreements[0]!, slot); // warm-up, not counted
    const one: number[] = [];
    for (let slot = 100; slot < 100 + SLOTS; slot++) one.push((await propose(agreements[0]!, slot)).ms);
    const three: number[] = [];
    for (let slot = 1000; slot < 1000 + SLOTS; slot++) {
      const results = await Promise.all(agreements.map((a) => propose(a, slot)));
      three.push(results.find((r) => r.won)!.ms);
    }
      return { one: summary(one), three: summary(three) };
  } finally {
    await Promise.all(agreements.map((a) => a.close()));
  }
}
