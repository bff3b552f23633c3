import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Field, PublicKey, Signature, UInt32, type PrivateKey } from 'o1js';
import { z } from 'zod';
import { InvalidArgumentError, type Command } from 'commander';
import { nanoToMina } from '../oracle/amount.js';
import { b62 } from '../oracle/config.js';
import { stateHashToField } from '../oracle/chain/base58.js';
import { InputError, UsageError } from '../oracle/errors.js';
import { fileProblem, readJsonFile } from '../oracle/json-file.js';
import { claimShare, executeProposal, payloadFor, readVerificationKeyFile, signBlockProposal, type ProposalInput } from '../oracle/pool/operations.js';
import { parametersFileSchema, constitutionHashOf } from '../oracle/pool/pool-file.js';
import { loadAlias, PoolSession } from '../oracle/pool/session.js';
import { poolStatus } from '../oracle/pool/status.js';
import { BlockProposal, SignedBlockProposal } from '../contracts/types.js';
import { command, minaAmount, oneOf, output, progress, wholeNumber } from './cli.js';
import { KeyRing } from '../oracle/pool/keyring.js';
import { addBackfillCommands } from './pool-backfill.js';

interface PoolOptions {
  alias: string;
  as?: string;
  key?: string;
  json?: boolean;
}

const proposalsFileSchema = z
  .array(z.object({ member: b62, slot: z.number().int().min(0), blockHash: z.string().regex(/^\d+$/, 'expected a field element (decimal)'), signature: z.string().min(1) }))
  .length(2, 'expected exactly two signed proposals of one member for one slot');

/**
 * `mina-pool pool …`: what members and the operator do. Each command checks its
 * arguments first, then opens the pool (its chain, its events), then acts through the
 * oracle's pool client, which explains any refusal in the pool's words.
 */
export function poolCommand(): Command {
  const pool = command('pool', 'members and the operator: read the pool, govern it, report and claim rewards')
    .option('--alias <name>', 'alias of deploy.config.json', 'local')
    .option('--as <name>', 'act as a named key (alice, oracle, deployer…; see status)')
    .option('--key <file>', 'act with a key file ({ privateKey, publicKey })')
    .option('--json', 'print one JSON object')
    .addHelpText('after', '\nExit codes: 0 done, 1 refused or failed (the reason is printed), 2 bad input or usage.');

  const opts = (cmd: Command) => cmd.optsWithGlobals() as PoolOptions;
  /** Whoever acts must be named before anything else happens. */
  const requireActor = (o: PoolOptions) => {
    if (o.as === undefined && o.key === undefined) throw new UsageError('say who acts: --as NAME or --key FILE');
  };
  const open = (o: PoolOptions) => PoolSession.open({ root: process.cwd(), alias: o.alias, log: progress });
  const actor = (s: PoolSession, o: PoolOptions): Promise<PrivateKey> => s.key(o.key ?? o.as!);
  /** Opens the pool for whoever acts (named with `requireActor` first). */
  const acting = async (o: PoolOptions) => {
    const s = await open(o);
    return { s, c: s.client(), me: await actor(s, o) };
  };
  /** `NAME,KEY,…` → B62 keys. */
  const keysOf = (s: PoolSession, list: string) => Promise.all(list.split(',').map(async (t) => (await s.publicKey(t.trim())).toBase58()));

  pool
    .command('status')
    .description('the pool: balances, parameters, members, proposals and reports')
    .action(async (_: unknown, cmd: Command) => {
      const o = opts(cmd);
      const s = await open(o);
      const { text, json } = await poolStatus(s.client(), s.aliasName);
      output(o.json, text, json);
    });

  pool
    .command('members')
    .description('the active members')
    .action(async (_: unknown, cmd: Command) => {
      const o = opts(cmd);
      const s = await open(o);
      const keys = s.client().mirror.activeMembers();
      output(o.json, keys.map((k) => (s.names.has(k) ? `${s.names.get(k)} ${k}` : k)).join('\n'), keys.map((k) => ({ publicKey: k, name: s.names.get(k) })));
    });

  const propose = pool.command('propose').description('a member proposes; the others vote');
  /**
   * A `propose` subcommand: `prepare` checks the arguments and reads any file before the
   * chain is touched, and returns what builds the proposal once the pool is open.
   */
  type Prepare = (args: unknown[], cmdOpts: Record<string, string | undefined>) => Promise<(s: PoolSession) => Promise<ProposalInput>>;
  const proposeWith = (name: string, description: string, args: [string, string, ((v: string) => unknown)?][], configure: (c: Command) => Command, prepare: Prepare) => {
    let c = propose.command(name).description(description);
    for (const [arg, desc, parse] of args) c = parse ? c.argument(arg, desc, parse) : c.argument(arg, desc);
    configure(c).action(async (...all: unknown[]) => {
      const cmd = all[all.length - 1] as Command;
      const o = opts(cmd);
      requireActor(o);
      const toInput = await prepare(all.slice(0, args.length), cmd.opts());
      const { s, c: client, me } = await acting(o);
      const { kind, payload } = payloadFor(client, await toInput(s));
      const result = await client.submit(await client.propose(me, kind, payload));
      output(o.json, `proposal #${result.number} (${name}) made; voting is open until slot ${result.voteEnd}`, { number: result.number, id: result.id.toString(), voteEnd: result.voteEnd });
    });
  };
  const keyArg = ['<key>', 'B62… key or a name'] as [string, string];
  const aboutKey = (kind: 'addMember' | 'removeMember' | 'setOracle'): Prepare => async ([k]) => async (s) => ({ kind, key: await s.publicKey(String(k)) });

  proposeWith('add-member', 'add a member', [keyArg], (c) => c, aboutKey('addMember'));
  proposeWith('remove-member', 'remove a member', [keyArg], (c) => c, aboutKey('removeMember'));
  proposeWith('set-oracle', 'set the key that signs epoch reports', [keyArg], (c) => c, aboutKey('setOracle'));
  proposeWith('amend-constitution', 'set the constitution to a document', [], (c) => c.option('--file <file>', 'the new constitution', 'CONSTITUTION.md'), async (_a, o) => {
    const document = await readFile(resolve(o.file!)).catch((e) => Promise.reject(new InputError(`${o.file}: cannot read the constitution (${fileProblem(e)})`)));
    const hash = constitutionHashOf(document);
    return async () => ({ kind: 'amendConstitution', hash });
  });
  proposeWith('set-parameters', 'set the parameters (all published on chain)', [], (c) => c.requiredOption('--params <file>', 'JSON with every parameter and the operator (a key or a name)'), async (_a, o) => {
    const params = await readJsonFile(resolve(o.params!), parametersFileSchema, 'parameters');
    return async (s) => ({ kind: 'setParameters', params: { ...params, operator: (await s.publicKey(params.operator)).toBase58() } });
  });
  proposeWith('ruling', 'rule on a disputed epoch: uphold its report, or replace its eligible members', [['<epoch>', 'the disputed epoch', wholeNumber()], ['<decision>', 'uphold or replace', oneOf('uphold', 'replace')]], (c) => c.option('--eligible <names>', 'replace: the eligible members, NAME,KEY,…'), async ([epoch, decision], o) => async (s) => ({
    kind: 'arbitrationRuling',
    epoch: epoch as number,
    decision: decision as 'uphold' | 'replace',
    eligible: o.eligible === undefined ? undefined : await keysOf(s, o.eligible),
  }));
  proposeWith('spend', 'pay an amount from the treasury (what is not owed to members)', [['<to>', 'B62… key or a name'], ['<mina>', 'amount in MINA', minaAmount()]], (c) => c, async ([to, amount]) => async (s) => ({ kind: 'treasurySpend', key: await s.publicKey(String(to)), amount: amount as bigint }));
  proposeWith('upgrade', "set a contract's verification key (its code)", [['<contract>', 'PoolDac or RewardPool', oneOf('PoolDac', 'RewardPool')]], (c) => c.requiredOption('--vk <file>', 'the new verification key ({ data, hash }, see pool vk)'), async ([target], o) => {
    const { hash } = await readVerificationKeyFile(o.vk!);
    return async () => ({ kind: 'upgrade', target: target as 'PoolDac', vkHash: hash });
  });

  pool
    .command('vote')
    .description('a member votes on an open proposal, once')
    .argument('<number>', 'the proposal number (#n in status)', wholeNumber())
    .argument('<choice>', 'for, against or abstain', oneOf('for', 'against', 'abstain'))
    .action(async (number: number, choice: 'for', _: unknown, cmd: Command) => {
      const o = opts(cmd);
      requireActor(o);
      const { c, me } = await acting(o);
      await c.submit(await c.vote(me, number, choice));
      const { tally } = await c.tally(number);
      output(o.json, `voted ${choice} on proposal #${number} (for ${tally.for}, against ${tally.against}, abstain ${tally.abstain})`, { number, choice });
    });

  pool
    .command('execute')
    .description('anyone executes a passed proposal after its timelock (and pays a spend, applies a ruling or an upgrade)')
    .argument('<number>', 'the proposal number', wholeNumber())
    .option('--vk <file>', 'an upgrade: the verification key it voted for')
    .action(async (number: number, cmdOpts: { vk?: string }, cmd: Command) => {
      const o = opts(cmd);
      requireActor(o);
      const vk = cmdOpts.vk === undefined ? undefined : await readVerificationKeyFile(cmdOpts.vk);
      const { c, me } = await acting(o);
      const { applied } = await executeProposal(c, me, number, { vk, log: progress });
      output(o.json, `proposal #${number} executed${applied ? ` and its ${applied} applied` : ''}`, { number, state: 'executed', applied });
    });

  pool
    .command('cancel')
    .description('the proposer cancels its proposal while voting is open')
    .argument('<number>', 'the proposal number', wholeNumber())
    .action(async (number: number, _: unknown, cmd: Command) => {
      const o = opts(cmd);
      requireActor(o);
      const { c, me } = await acting(o);
      await c.submit(await c.cancel(me, number));
      output(o.json, `proposal #${number} canceled`, { number, state: 'canceled' });
    });

  pool
    .command('deposit')
    .description('pay MINA into the reward pool')
    .argument('<mina>', 'amount in MINA', minaAmount())
    .action(async (amount: bigint, _: unknown, cmd: Command) => {
      const o = opts(cmd);
      requireActor(o);
      const { c, me } = await acting(o);
      await c.submit(await c.deposit(me, amount));
      output(o.json, `deposited ${nanoToMina(amount)} MINA`, { amount: amount.toString() });
    });

  pool
    .command('sweep')
    .description("anyone moves the vault's coinbase rewards into the reward pool")
    .argument('[mina]', 'amount in MINA (default: all of it)', minaAmount())
    .action(async (amount: bigint | undefined, _: unknown, cmd: Command) => {
      const o = opts(cmd);
      requireActor(o);
      const { c, me } = await acting(o);
      const r = await c.submit(await c.sweep(me, amount));
      output(o.json, `swept ${nanoToMina(r.amount)} MINA from the vault into the reward pool`, { amount: r.amount.toString() });
    });

  pool
    .command('report')
    .description('the operator posts an epoch report signed with the oracle key')
    .argument('<epoch>', 'an epoch that has ended on chain', wholeNumber())
    .requiredOption('--reward <mina>', "the epoch's reward in MINA", minaAmount({ allowZero: true }))
    .requiredOption('--eligible <names>', 'the eligible members, NAME,KEY,…')
    .option('--metrics-root <field>', 'Merkle root of the metrics (decimal)', fieldOption)
    .option('--event-log-hash <field>', "hash of the emitter's event log (decimal)", fieldOption)
    .option('--oracle <name>', 'the oracle key (a name or a key file)', 'oracle')
    .action(async (epoch: number, cmdOpts: { reward: bigint; eligible: string; metricsRoot?: Field; eventLogHash?: Field; oracle: string }, cmd: Command) => {
      const o = opts(cmd);
      const s = await open(o);
      const c = s.client();
      const oracle = await s.key(cmdOpts.oracle);
      const eligible = await keysOf(s, cmdOpts.eligible);
      const report = c.reportOf(epoch, cmdOpts.reward, eligible, { metricsRoot: cmdOpts.metricsRoot, eventLogHash: cmdOpts.eventLogHash });
      const sender = o.as !== undefined || o.key !== undefined ? await actor(s, o) : oracle;
      await c.submit(() => c.postReport(sender, report, c.signReport(oracle, report), oracle.toPublicKey()));
      const r = c.report(epoch).record;
      output(o.json, `report for epoch ${epoch} posted: ${nanoToMina(cmdOpts.reward)} MINA (fee ${nanoToMina(r.fee.toBigInt())}) among ${r.sharers.toString()}; claims open at slot ${r.claimsOpenAt.toString()}`, { epoch, claimsOpenAt: Number(r.claimsOpenAt.toBigint()), sharers: Number(r.sharers.toBigint()) });
    });

  pool
    .command('open-claims')
    .description("anyone opens a final report's claims (pays the operator's fee); claim does it when needed")
    .argument('<epoch>', 'the epoch', wholeNumber())
    .action(async (epoch: number, _: unknown, cmd: Command) => {
      const o = opts(cmd);
      requireActor(o);
      const { c, me } = await acting(o);
      await c.submit(() => c.openClaims(me, epoch));
      output(o.json, `claims of epoch ${epoch} are open`, { epoch });
    });

  pool
    .command('claim')
    .description('an eligible member claims its share of an epoch, once, after the challenge window')
    .argument('<epoch>', 'the epoch', wholeNumber())
    .action(async (epoch: number, _: unknown, cmd: Command) => {
      const o = opts(cmd);
      requireActor(o);
      const { c, me } = await acting(o);
      const { amount } = await claimShare(c, me, epoch, progress);
      output(o.json, `claimed ${nanoToMina(amount)} MINA for epoch ${epoch}`, { epoch, amount: amount.toString() });
    });

  pool
    .command('dispute')
    .description("a member disputes a report during its challenge window; claims wait for a ruling")
    .argument('<epoch>', 'the epoch', wholeNumber())
    .action(async (epoch: number, _: unknown, cmd: Command) => {
      const o = opts(cmd);
      requireActor(o);
      const { c, me } = await acting(o);
      await c.submit(await c.dispute(me, epoch));
      output(o.json, `epoch ${epoch} disputed: claims wait for a ruling (propose ruling ${epoch} uphold|replace)`, { epoch, disputed: true });
    });

  pool
    .command('sign-proposal')
    .description('a member signs a block proposal for a slot (prints JSON: evidence the emitter and slashing use)')
    .argument('<slot>', 'global slot', wholeNumber())
    .argument('<stateHash>', "the block's state hash (3N…) or a field element")
    .action(async (slot: number, hashText: string, _: unknown, cmd: Command) => {
      const o = opts(cmd);
      requireActor(o);
      const blockHash = stateHashToField(hashText) ?? (/^\d+$/.test(hashText) ? BigInt(hashText) : undefined);
      if (blockHash === undefined) throw new UsageError(`not a state hash (3N…) or a field element: ${hashText}`);
      const { alias } = await loadAlias(process.cwd(), o.alias);
      if (!alias.addresses) throw new UsageError(`no pool is deployed under alias '${o.alias}': a proposal is signed for one pool`);
      const signer = await (await KeyRing.load(process.cwd(), o.alias)).key(o.key ?? o.as!);
      const signed = signBlockProposal(PublicKey.fromBase58(alias.addresses.PoolDac), signer, slot, blockHash);
      process.stdout.write(JSON.stringify({ member: signer.toPublicKey().toBase58(), slot, blockHash: blockHash.toString(), signature: signed.signature.toBase58() }) + '\n');
    });

  pool
    .command('slash')
    .description('anyone slashes a member that signed two blocks for one slot of an epoch')
    .argument('<epoch>', 'the epoch', wholeNumber())
    .requiredOption('--proposals <file>', 'JSON array of the two signed proposals (see sign-proposal)')
    .action(async (epoch: number, cmdOpts: { proposals: string }, cmd: Command) => {
      const o = opts(cmd);
      requireActor(o);
      const list = await readJsonFile(resolve(cmdOpts.proposals), proposalsFileSchema, 'signed proposals');
      const [first, second] = list as [(typeof list)[number], (typeof list)[number]];
      if (first.member !== second.member) throw new InputError(`${cmdOpts.proposals}: the two proposals are from different members`);
      const signed = list.map((p, i) => {
        try {
          return new SignedBlockProposal({ proposal: new BlockProposal({ slot: UInt32.from(p.slot), blockHash: Field(p.blockHash) }), signature: Signature.fromBase58(p.signature) });
        } catch (e) {
          throw new InputError(`${cmdOpts.proposals}: proposal ${i + 1}: ${(e as Error).message}`);
        }
      }) as [SignedBlockProposal, SignedBlockProposal];
      const member = PublicKey.fromBase58(first.member);
      const { c, me } = await acting(o);
      await c.submit(await c.slash(me, epoch, member, signed[0], signed[1]));
      output(o.json, `${c.who(member)} slashed for epoch ${epoch}: its share goes to the others`, { epoch, member: first.member });
    });

  addBackfillCommands(pool, { opts, requireActor, open, connect: (o) => PoolSession.connect({ root: process.cwd(), alias: o.alias, log: progress }), actor });

  pool
    .command('vk')
    .description("compile a contract and write its verification key (for an upgrade proposal)")
    .argument('<contract>', 'PoolDac or RewardPool', oneOf('PoolDac', 'RewardPool'))
    .requiredOption('--out <file>', 'where to write { data, hash }')
    .action(async (contract: 'PoolDac' | 'RewardPool', cmdOpts: { out: string }, cmd: Command) => {
      const o = opts(cmd);
      const { writeVerificationKey } = await import('../oracle/pool/verification-key.js');
      const hash = await writeVerificationKey(process.cwd(), o.alias, contract, cmdOpts.out, progress);
      output(o.json, `${contract}'s verification key (hash ${hash}) written to ${cmdOpts.out}`, { contract, hash, file: cmdOpts.out });
    });

  pool
    .command('wait')
    .description('local chain only: let slots pass')
    .argument('<slots>', 'how many', wholeNumber(1, 10_000_000))
    .action(async (slots: number, _: unknown, cmd: Command) => {
      const o = opts(cmd);
      const s = await PoolSession.connect({ root: process.cwd(), alias: o.alias, log: progress });
      if (s.chain.kind !== 'local') throw new UsageError(`${s.chain.label} is not the local chain: on a network, slots pass by themselves`);
      const slot = await s.chain.advance(slots);
      output(o.json, `slot ${slot}`, { slot });
    });

  pool
    .command('fund')
    .description("local chain only: pay MINA to a key from the chain's faucet")
    .argument('<key>', 'B62… key or a name')
    .argument('<mina>', 'amount in MINA', minaAmount())
    .action(async (key: string, amount: bigint, _: unknown, cmd: Command) => {
      const o = opts(cmd);
      const s = await PoolSession.connect({ root: process.cwd(), alias: o.alias, log: progress });
      if (s.chain.kind !== 'local') throw new UsageError(`${s.chain.label} is not the local chain: it has no faucet`);
      const pk = await s.publicKey(key);
      await s.chain.fund(pk, amount);
      output(o.json, `paid ${nanoToMina(amount)} MINA to ${s.names.get(pk.toBase58()) ?? pk.toBase58()}`, { publicKey: pk.toBase58(), amount: amount.toString() });
    });

  return pool;
}

/** An option holding a field element in decimal. */
function fieldOption(value: string): Field {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`expected a field element (decimal), got ${JSON.stringify(value)}`);
  return Field(value);
}
