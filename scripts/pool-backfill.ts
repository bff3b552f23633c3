import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { JsonProof, PrivateKey } from 'o1js';
import { nanoToMina } from '../oracle/amount.js';
import { fetchSlotCommitment, readBackfillLedgers, rebuildSlotCommitment, type BackfillLedgers } from '../oracle/backfill/slot-commitment.js';
import { designationSchema } from '../oracle/emitter/designation.js';
import { InputError, PoolError, UsageError } from '../oracle/errors.js';
import { readJsonFile, writeJsonAtomic } from '../oracle/json-file.js';
import type { PoolSession } from '../oracle/pool/session.js';
import { NANOMINA_PER_MILLIMINA, SLOTS_PER_EPOCH } from '../contracts/types.js';
import { output, progress, urlOption, wholeNumber } from './cli.js';

/** What the `pool` command gives its backfill subcommands. */
export interface PoolCommandContext {
  opts(cmd: Command): { alias: string; as?: string; key?: string; json?: boolean };
  requireActor(o: { as?: string; key?: string }): void;
  open(o: { alias: string }): Promise<PoolSession>;
  connect(o: { alias: string }): Promise<PoolSession>;
  actor(s: PoolSession, o: { as?: string; key?: string }): Promise<PrivateKey>;
}

interface LedgerOptions {
  emitter: string;
  ledger: string;
  seed: string;
  previousLedger?: string;
  previousSeed?: string;
}

/**
 * `mina-pool pool backfill …`: designated producers on chain, by hand. The emitter does the
 * oracle's part by itself (it commits a designated slot once it has passed and pays the
 * producer with the proof delivered with its block); these commands let a producer prove its
 * designation, the operator commit a slot, and anyone submit a proof for payment.
 */
export function addBackfillCommands(pool: Command, ctx: PoolCommandContext): void {
  const backfill = pool.command('backfill').description("designated producers of empty slots: the registry, a producer's proof, the oracle's commitment, the compensation");
  const ledgerOptions = (c: Command) =>
    c
      .requiredOption('--emitter <url>', "the pool's emitter, which serves the slot's live commitment (GET /v1/backfill/:slot)", urlOption())
      .requiredOption('--ledger <file>', "the slot's epoch's staking ledger (explorer export), to rebuild the commitment from one's own copy")
      .requiredOption('--seed <seed>', "that epoch's seed (decimal field or 2v…)")
      .option('--previous-ledger <file>', "the previous epoch's staking ledger (when the lost slot was in it)")
      .option('--previous-seed <seed>', "the previous epoch's seed");

  backfill
    .command('status')
    .description("the registry: the commitment in force, the designations recorded under it, the compensation")
    .action(async (_: unknown, cmd: Command) => {
      const o = ctx.opts(cmd);
      const c = (await ctx.open(o)).client();
      const records = await c.backfill();
      const compensation = BigInt(c.mirror.params.backfillCompensation) * NANOMINA_PER_MILLIMINA;
      const commitment = records.commitment;
      const recorded = [...records.recorded].sort(([x], [y]) => x - y).map(([slot, producer]) => ({ slot, producer }));
      const lines = [
        commitment
          ? `commitment in force: epoch ${commitment.epoch.toString()}, slots ${commitment.from.toString()}–${commitment.to.toString()}, window ${commitment.window.toString()} (hash ${commitment.hash().toString()})`
          : 'commitment in force: none yet',
        `next slot a commitment may cover: ${records.nextFrom()}`,
        `compensation per designated slot: ${nanoToMina(compensation)} MINA`,
        `recorded designations (${recorded.length})${recorded.map((r) => `\n  slot ${r.slot}: ${c.who(r.producer)}`).join('')}`,
      ];
      output(o.json, lines.join('\n'), {
        commitment: commitment ? { epoch: Number(commitment.epoch.toBigint()), from: Number(commitment.from.toBigint()), to: Number(commitment.to.toBigint()), window: Number(commitment.window.toBigint()), hash: commitment.hash().toString() } : null,
        nextFrom: records.nextFrom(),
        compensation: compensation.toString(),
        recorded,
      });
    });

  ledgerOptions(
    backfill
      .command('prove')
      .description("a designated producer proves it is slot S's designated producer (DesignatedProducer), against the commitment the emitter serves, checked against its own ledgers")
      .argument('<slot>', 'the empty slot it is designated for', wholeNumber(0, 2 ** 32 - 1))
      .requiredOption('--out <file>', 'where to write the proof (JSON): deliver it with the block, then pay with it'),
  ).action(async (slot: number, cmdOpts: LedgerOptions & { out: string }, cmd: Command) => {
    const o = ctx.opts(cmd);
    ctx.requireActor(o);
    const ledgers = await ledgersOf(slot, cmdOpts);
    const s = await ctx.connect(o);
    const producer = await ctx.actor(s, o);
    const me = producer.toPublicKey().toBase58();
    const plan = await servedPlan(slot, cmdOpts.emitter, ledgers);
    if (plan.view.producer !== me) throw new PoolError('NOT_DESIGNATED', `slot ${slot} is designated to ${s.names.get(plan.view.producer) ?? plan.view.producer}, not to ${s.names.get(me) ?? me}`, { slot });
    const { statement, witness } = plan.plan.eligibility(producer, slot);
    const { DesignatedProducer } = await import('../contracts/DesignatedProducer.js');
    if (s.chain.proofsEnabled) {
      const { Cache } = await import('o1js');
      progress('compiling DesignatedProducer (about a minute the first time, then from cache/)…');
      await DesignatedProducer.compile({ cache: Cache.FileSystem(resolve(s.root, 'cache')) });
      progress(`proving slot ${slot}'s designation (about 35 s)…`);
    } else {
      DesignatedProducer.setProofsEnabled(false);
      progress(`${s.chain.label} does not check proofs: the program's checks run, the proof is a mock one`);
    }
    const { proof } = await DesignatedProducer.prove(statement, witness, producer);
    await writeJsonAtomic(resolve(cmdOpts.out), proof.toJSON());
    output(
      o.json,
      `slot ${slot}: ${s.names.get(me) ?? me} is its designated producer (it lost slot ${plan.view.lostSlot}); proof written to ${cmdOpts.out}\nit goes with the block (npm run member -- --designations DIR delivers DIR/slot-${slot}.json with it); the emitter's oracle then commits the slot and pays, or by hand: npm run pool -- backfill pay --proof ${cmdOpts.out} --as …`,
      { slot, producer: me, lostSlot: plan.view.lostSlot, commitment: plan.view.commitment, file: cmdOpts.out, mock: !s.chain.proofsEnabled },
    );
  });

  ledgerOptions(
    backfill
      .command('commit')
      .description("the operator posts slot S's live commitment (signed with the oracle key) once S has passed; the emitter does this by itself for a designated block it emitted")
      .argument('<slot>', 'the slot, passed on chain', wholeNumber(0, 2 ** 32 - 1))
      .option('--oracle <name>', 'the oracle key (a name or a key file)', 'oracle'),
  ).action(async (slot: number, cmdOpts: LedgerOptions & { oracle: string }, cmd: Command) => {
    const o = ctx.opts(cmd);
    const ledgers = await ledgersOf(slot, cmdOpts);
    const s = await ctx.open(o);
    const c = s.client();
    const oracle = await s.key(cmdOpts.oracle);
    const sender = o.as !== undefined || o.key !== undefined ? await ctx.actor(s, o) : oracle;
    const { plan, view } = await servedPlan(slot, cmdOpts.emitter, ledgers);
    const records = await c.backfill();
    if (records.commitment?.hash().toString() === view.commitment) return output(o.json, `slot ${slot}'s commitment is already in force: nothing to post`, { slot, commitment: view.commitment, posted: false });
    await c.submit(() => c.commitBackfill(sender, plan.commitment, plan.sign(oracle, c.dac.address), oracle.toPublicKey()));
    output(o.json, `slot ${slot}'s commitment posted: ${c.who(view.producer)} designated (it lost slot ${view.lostSlot}); it can be paid now (backfill pay), until the next commitment`, { slot, commitment: view.commitment, producer: view.producer, posted: true });
  });

  backfill
    .command('pay')
    .description("anyone submits a designated producer's proof: RewardPool pays it the compensation once, against the commitment in force")
    .requiredOption('--proof <file>', 'the proof (backfill prove --out)')
    .action(async (cmdOpts: { proof: string }, cmd: Command) => {
      const o = ctx.opts(cmd);
      ctx.requireActor(o);
      const json = await readJsonFile(resolve(cmdOpts.proof), designationSchema, 'DesignatedProducer proof');
      const { DesignatedProducerProof } = await import('../contracts/DesignatedProducer.js');
      let proof: InstanceType<typeof DesignatedProducerProof>;
      try {
        proof = (await DesignatedProducerProof.fromJSON(json as JsonProof)) as InstanceType<typeof DesignatedProducerProof>;
      } catch (e) {
        throw new InputError(`${cmdOpts.proof}: not a DesignatedProducer proof (${e instanceof Error ? e.message : String(e)})`, { file: cmdOpts.proof });
      }
      const s = await ctx.open(o);
      const c = s.client();
      const me = await ctx.actor(s, o);
      const slot = Number(proof.publicInput.slot.toBigint());
      const producer = proof.publicInput.producer.toBase58();
      const { amount } = await c.submit(() => c.payBackfill(me, proof));
      output(o.json, `${c.who(producer)} compensated ${nanoToMina(amount)} MINA for slot ${slot}`, { slot, producer, amount: amount.toString() });
    });
}

/** The ledgers of the slot's epoch (and the previous one), read before anything else happens. */
function ledgersOf(slot: number, o: LedgerOptions): Promise<BackfillLedgers> {
  if ((o.previousLedger === undefined) !== (o.previousSeed === undefined)) throw new UsageError('the previous epoch needs both --previous-ledger and --previous-seed', { field: 'previous-ledger' });
  return readBackfillLedgers({
    epoch: Math.floor(slot / SLOTS_PER_EPOCH),
    ledger: resolve(o.ledger),
    seed: o.seed,
    ...(o.previousLedger !== undefined ? { previousLedger: resolve(o.previousLedger), previousSeed: o.previousSeed! } : {}),
  });
}

/** The slot's commitment as the emitter serves it, rebuilt here and checked. */
async function servedPlan(slot: number, emitter: string, ledgers: BackfillLedgers) {
  progress(`asking ${emitter} for slot ${slot}'s live commitment…`);
  const view = await fetchSlotCommitment(emitter, slot, { onWait: progress });
  return { view, plan: rebuildSlotCommitment(view, ledgers) };
}
