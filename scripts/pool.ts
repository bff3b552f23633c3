import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Field, Mina, PrivateKey, PublicKey, Signature, UInt32, UInt64 } from 'o1js';
import { BlockProposal, EpochReport, ProposalKind, ProposalPayload, Ruling, SignedBlockProposal, poolTagOf, type ProposalKindName } from '../contracts/types.js';
import { shareOf } from '../contracts/RewardPool.js';
import { nanoToMina, requireMina } from '../oracle/amount.js';
import { stateHashToField } from '../oracle/chain/base58.js';
import { KeySet, paramsFromJson, type PoolParamsJson } from '../oracle/chain/pool-mirror.js';
import { PoolSession } from '../oracle/chain/pool-session.js';
import { InputError, UsageError, schemaError } from '../oracle/errors.js';
import { constitutionHashOf, paramsSchema } from '../oracle/pool-file.js';
import { intOption, parseCommandLine, runCli } from './cli.js';

const HELP = `Pool commands for members and the operator.

Usage: npm run pool -- <command> [arguments] [--alias local] [--as NAME | --key FILE] [--json]

Reading:
  status                                  the pool: members, parameters, proposals, reports, balance
  members                                 the members

Governance (members):
  propose add-member <KEY|NAME>
  propose remove-member <KEY|NAME>
  propose amend-constitution [--file CONSTITUTION.md]
  propose set-parameters --params FILE.json
  propose set-oracle <KEY|NAME>
  propose ruling <EPOCH> uphold
  propose ruling <EPOCH> replace --eligible NAME,KEY,…
  vote <ID> for|against|abstain
  execute <ID> [--params FILE.json]       anyone; set-parameters needs the new parameters
  cancel <ID>                             the proposer, while voting is open

Rewards:
  report <EPOCH> --reward MINA --eligible NAME,KEY,… [--metrics-root F] [--event-log-hash F]
                                          operator: posts a report signed with the oracle key
  claim <EPOCH>                           an eligible member claims its share
  dispute <EPOCH>                         a member, during the challenge window
  apply-ruling <EPOCH> <PROPOSAL> [--eligible …]   anyone, after the ruling is executed
  sign-proposal <SLOT> <STATE_HASH>       a member signs a block proposal (prints JSON)
  slash <EPOCH> --proposals FILE.json     anyone: two signed proposals of one member, one slot
  deposit <MINA>                          add MINA to the reward pool

Local chain only:
  wait <SLOTS>                            let slots pass

Options:
  --alias A      alias of deploy.config.json (default local)
  --as NAME      act as a named key (alice, oracle, deployer…; see status), or --key FILE
  --json         machine-readable output
Exit codes: 0 done, 1 refused or failed (the reason is printed), 2 bad input or usage.`;

const KINDS: Record<string, ProposalKindName> = {
  'add-member': 'addMember',
  'remove-member': 'removeMember',
  'amend-constitution': 'amendConstitution',
  'set-parameters': 'setParameters',
  'set-oracle': 'setOracle',
  ruling: 'arbitrationRuling',
};

/** Proposal kind number → its command-line name. */
const KIND_ARG: Record<number, string> = Object.fromEntries(Object.entries(KINDS).map(([name, kind]) => [ProposalKind[kind], name]));

const nano = requireMina;
const mina = nanoToMina;

function arg(positionals: string[], i: number, what: string): string {
  const v = positionals[i];
  if (v === undefined) throw new UsageError(`missing ${what} (see --help)`);
  return v;
}

function intArg(positionals: string[], i: number, what: string): number {
  return intOption(what, arg(positionals, i, what))!;
}

async function readParams(file: string): Promise<PoolParamsJson> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(resolve(file), 'utf8'));
  } catch (e) {
    throw new InputError(`${file}: cannot read the parameters (${(e as Error).message})`, { file });
  }
  const parsed = paramsSchema.safeParse(value);
  if (!parsed.success) throw schemaError(parsed.error.issues, file);
  return parsed.data;
}

async function main(): Promise<number> {
  const { values, positionals } = parseCommandLine(
    process.argv.slice(2),
    {
      alias: { type: 'string' },
      as: { type: 'string' },
      key: { type: 'string' },
      json: { type: 'boolean' },
      file: { type: 'string' },
      params: { type: 'string' },
      eligible: { type: 'string' },
      reward: { type: 'string' },
      'metrics-root': { type: 'string' },
      'event-log-hash': { type: 'string' },
      proposals: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    true,
  );
  const command = positionals[0];
  if (values.help || command === undefined) {
    process.stdout.write(HELP + '\n');
    return command === undefined && !values.help ? 2 : 0;
  }
  const session = await PoolSession.open(process.cwd(), values.alias ?? 'local');
  const { client } = session;
  const mirror = client.mirror;
  const out = (text: string, json?: unknown) => process.stdout.write((values.json && json !== undefined ? JSON.stringify(json) : text) + '\n');

  /** The acting key: --key FILE, --as NAME. */
  const actor = async (): Promise<PrivateKey> => {
    if (values.key !== undefined) return session.key(values.key);
    if (values.as !== undefined) return session.key(values.as);
    throw new UsageError(`say who acts: --as NAME (${Object.keys(session.state.keys).join(', ')}) or --key FILE`, { field: 'as' });
  };
  /** A public key given as B62… or as a known name. */
  const keyOf = async (text: string): Promise<PublicKey> => {
    if (/^B62/.test(text)) {
      try {
        return PublicKey.fromBase58(text);
      } catch {
        throw new UsageError(`not a valid public key: ${text}`);
      }
    }
    return (await session.key(text)).toPublicKey();
  };
  const keyList = async (text: string | undefined, field: string): Promise<string[]> => {
    if (text === undefined || text.trim() === '') throw new UsageError(`--${field}: give the members as NAME,KEY,…`, { field });
    return Promise.all(text.split(',').map(async (t) => (await keyOf(t.trim())).toBase58()));
  };

  // Names of the keys held here: read from the key files, only by the commands that show them.
  const names = command === 'status' || command === 'members' ? await session.names() : new Map<string, string>();
  const label = (key: string) => (names.has(key) ? `${names.get(key)} (${key})` : key);

  switch (command) {
    case 'status': {
      await session.refresh();
      const now = client.now();
      const balance = Mina.getBalance(client.pool.address).toBigInt();
      const paid = client.paid().toBigInt();
      const proposals = mirror.proposals.map((p) => {
        const id = Number(p.record.id.toBigint());
        const t = client.tally(id);
        return {
          id,
          kind: KIND_ARG[Number(p.record.kind.toBigint())] ?? p.record.kind.toString(),
          proposer: p.record.proposer.toBase58(),
          state: client.proposalState(id, now),
          voteEnd: Number(p.record.voteEnd.toBigint()),
          votes: { for: t.for.toString(), against: t.against.toString(), abstain: t.abstain.toString() },
        };
      });
      const reports = [...mirror.reports.entries()].map(([epoch, r]) => ({
        epoch,
        reward: mina(r.record.report.reward.toBigInt()),
        carryIn: r.record.carryIn.toString(),
        eligible: Number(r.record.report.eligibleCount.toBigint()),
        slashed: r.slashed.keys,
        share: mina(shareOf(r.record).share.toBigInt()),
        claimsOpenAt: Number(r.record.claimsOpenAt.toBigint()),
        disputed: r.record.disputed.toBoolean(),
      }));
      const status = {
        alias: session.name,
        slot: now,
        dac: mirror.dac.toBase58(),
        pool: mirror.pool.toBase58(),
        balance: mina(balance),
        paid: mina(paid),
        constitutionHash: mirror.constitutionHash.toString(),
        params: mirror.params,
        oracle: mirror.oracle,
        members: mirror.members.keys,
        keys: Object.keys(session.state.keys),
        proposals,
        reports,
      };
      const lines = [
        `Pool on '${session.name}' at slot ${now}`,
        `PoolDac ${status.dac}`,
        `RewardPool ${status.pool}: balance ${status.balance} MINA, paid ${status.paid} MINA`,
        `constitution hash ${status.constitutionHash}`,
        `parameters: quorum ${mirror.params.quorumPercent} %, approval ${mirror.params.approvalPercent} %, voting ${mirror.params.votingPeriod} slots, timelock ${mirror.params.timelock}, execution window ${mirror.params.executionWindow}, challenge window ${mirror.params.challengeWindow}, backfill window ${mirror.params.backfillWindow}`,
        `oracle ${label(status.oracle)}`,
        `members (${status.members.length}):`,
        ...status.members.map((k) => `  ${label(k)}`),
        `keys here: ${status.keys.join(', ')}`,
        `proposals (${proposals.length}):`,
        ...proposals.map((p) => `  #${p.id} ${p.kind} by ${names.get(p.proposer) ?? p.proposer} — ${p.state} (voting ends at slot ${p.voteEnd}; for ${p.votes.for}, against ${p.votes.against}, abstain ${p.votes.abstain})`),
        `reports (${reports.length}):`,
        ...reports.map((r) => `  epoch ${r.epoch}: reward ${r.reward} MINA, ${r.eligible} eligible, share ${r.share} MINA, claims open at slot ${r.claimsOpenAt}${r.disputed ? ', DISPUTED' : ''}${r.slashed.length ? `, slashed ${r.slashed.length}` : ''}`),
      ];
      out(lines.join('\n'), status);
      return 0;
    }
    case 'members': {
      out(mirror.members.keys.map(label).join('\n'), mirror.members.keys.map((k) => ({ publicKey: k, name: names.get(k) })));
      return 0;
    }
    case 'propose': {
      const kindArg = arg(positionals, 1, 'the proposal kind (add-member, remove-member, amend-constitution, set-parameters, set-oracle, ruling)');
      const kind = KINDS[kindArg];
      if (kind === undefined) throw new UsageError(`unknown proposal kind '${kindArg}' (one of ${Object.keys(KINDS).join(', ')})`);
      let payload = ProposalPayload.empty();
      if (kind === 'addMember' || kind === 'removeMember' || kind === 'setOracle') {
        payload = new ProposalPayload({ ...payload, key: await keyOf(arg(positionals, 2, 'the key (B62… or a name)')) });
      } else if (kind === 'amendConstitution') {
        const file = values.file ?? 'CONSTITUTION.md';
        payload = new ProposalPayload({ ...payload, hash: constitutionHashOf(await readFile(resolve(file))) });
      } else if (kind === 'setParameters') {
        if (values.params === undefined) throw new UsageError('set-parameters needs --params FILE.json');
        payload = new ProposalPayload({ ...payload, hash: paramsFromJson(await readParams(values.params)).hash() });
      } else {
        const epoch = intArg(positionals, 2, 'the epoch');
        const decision = arg(positionals, 3, 'the decision (uphold or replace)');
        if (decision !== 'uphold' && decision !== 'replace') throw new UsageError(`a ruling upholds or replaces, got '${decision}'`);
        payload = new ProposalPayload({ ...payload, epoch: UInt32.from(epoch), decision: UInt32.from(Ruling[decision]) });
        if (decision === 'replace') {
          const set = new KeySet(await keyList(values.eligible, 'eligible'));
          payload = new ProposalPayload({ ...payload, root: set.root(), count: UInt32.from(set.size) });
        }
      }
      const sender = await actor();
      await session.refresh([sender.toPublicKey()]);
      const { id } = await session.submit(await client.propose(sender, kind, payload));
      const p = mirror.proposal(id)!;
      out(`proposal #${id} (${kindArg}) created; voting is open until slot ${p.record.voteEnd.toString()}`, { id, voteEnd: Number(p.record.voteEnd.toBigint()) });
      return 0;
    }
    case 'vote': {
      const id = intArg(positionals, 1, 'the proposal id');
      const choice = arg(positionals, 2, 'the vote (for, against or abstain)');
      if (!['for', 'against', 'abstain'].includes(choice)) throw new UsageError(`a vote is for, against or abstain, got '${choice}'`);
      const sender = await actor();
      await session.refresh([sender.toPublicKey()]);
      await session.submit(await client.vote(sender, id, choice as 'for'));
      const t = client.tally(id);
      out(`voted ${choice} on proposal #${id} (for ${t.for}, against ${t.against}, abstain ${t.abstain})`, { id, choice });
      return 0;
    }
    case 'execute': {
      const id = intArg(positionals, 1, 'the proposal id');
      const newParams = values.params === undefined ? undefined : await readParams(values.params);
      const sender = await actor();
      await session.refresh([sender.toPublicKey()]);
      await session.submit(await client.execute(sender, id, newParams));
      out(`proposal #${id} executed`, { id, state: 'executed' });
      return 0;
    }
    case 'cancel': {
      const id = intArg(positionals, 1, 'the proposal id');
      const sender = await actor();
      await session.submit(await client.cancel(sender, id));
      out(`proposal #${id} canceled`, { id, state: 'canceled' });
      return 0;
    }
    case 'report': {
      const epoch = intArg(positionals, 1, 'the epoch');
      if (values.reward === undefined) throw new UsageError('report needs --reward MINA');
      const eligible = await keyList(values.eligible, 'eligible');
      const set = new KeySet(eligible);
      const oracle = await session.key('oracle').catch(() => {
        throw new UsageError('the oracle key is not available here (no key named oracle)');
      });
      const field = (text: string | undefined, name: string) => {
        if (text === undefined) return Field(0);
        if (!/^\d+$/.test(text)) throw new UsageError(`--${name}: expected a field element (decimal), got ${JSON.stringify(text)}`);
        return Field(text);
      };
      const report = new EpochReport({
        epoch: UInt32.from(epoch),
        reward: UInt64.from(nano(values.reward, 'reward')),
        eligibleRoot: set.root(),
        eligibleCount: UInt32.from(set.size),
        metricsRoot: field(values['metrics-root'], 'metrics-root'),
        eventLogHash: field(values['event-log-hash'], 'event-log-hash'),
      });
      const signature = Signature.create(oracle, report.message(poolTagOf(mirror.dac)));
      const sender = values.as !== undefined || values.key !== undefined ? await actor() : oracle;
      await session.refresh([sender.toPublicKey()]);
      await session.submit(await client.postReport(sender, report, signature, oracle.toPublicKey(), set.keys));
      const r = mirror.report(epoch)!;
      out(`report for epoch ${epoch} posted: ${values.reward} MINA among ${set.size}; claims open at slot ${r.record.claimsOpenAt.toString()}`, { epoch, claimsOpenAt: Number(r.record.claimsOpenAt.toBigint()) });
      return 0;
    }
    case 'claim': {
      const epoch = intArg(positionals, 1, 'the epoch');
      const sender = await actor();
      await session.refresh([sender.toPublicKey()]);
      const { amount } = await session.submit(await client.claim(sender, epoch));
      out(`claimed ${mina(amount)} MINA for epoch ${epoch}`, { epoch, amount: amount.toString() });
      return 0;
    }
    case 'dispute': {
      const epoch = intArg(positionals, 1, 'the epoch');
      const sender = await actor();
      await session.submit(await client.dispute(sender, epoch));
      out(`epoch ${epoch} disputed: claims wait for a ruling`, { epoch, disputed: true });
      return 0;
    }
    case 'apply-ruling': {
      const epoch = intArg(positionals, 1, 'the epoch');
      const id = intArg(positionals, 2, 'the ruling proposal id');
      const eligible = values.eligible === undefined ? undefined : await keyList(values.eligible, 'eligible');
      const sender = await actor();
      await session.submit(await client.applyRuling(sender, epoch, id, eligible));
      out(`ruling #${id} applied to epoch ${epoch}`, { epoch, id });
      return 0;
    }
    case 'sign-proposal': {
      const slot = intArg(positionals, 1, 'the slot');
      const hashText = arg(positionals, 2, 'the block state hash (3N…)');
      const blockHash = stateHashToField(hashText) ?? (/^\d+$/.test(hashText) ? BigInt(hashText) : undefined);
      if (blockHash === undefined) throw new UsageError(`not a state hash (3N…) or a field element: ${hashText}`);
      const signer = await actor();
      const proposal = new BlockProposal({ slot: UInt32.from(slot), blockHash: Field(blockHash) });
      const signature = Signature.create(signer, proposal.message(poolTagOf(mirror.dac)));
      process.stdout.write(JSON.stringify({ member: signer.toPublicKey().toBase58(), slot, blockHash: blockHash.toString(), signature: signature.toBase58() }) + '\n');
      return 0;
    }
    case 'slash': {
      const epoch = intArg(positionals, 1, 'the epoch');
      if (values.proposals === undefined) throw new UsageError('slash needs --proposals FILE.json (an array of two signed proposals, see sign-proposal)');
      let list: { member: string; slot: number; blockHash: string; signature: string }[];
      try {
        list = JSON.parse(await readFile(resolve(values.proposals), 'utf8'));
      } catch (e) {
        throw new InputError(`${values.proposals}: cannot read the proposals (${(e as Error).message})`);
      }
      if (!Array.isArray(list) || list.length !== 2) throw new InputError(`${values.proposals}: expected an array of two signed proposals`);
      const signed = list.map((p, i) => {
        try {
          return new SignedBlockProposal({ proposal: new BlockProposal({ slot: UInt32.from(p.slot), blockHash: Field(p.blockHash) }), signature: Signature.fromBase58(p.signature) });
        } catch (e) {
          throw new InputError(`${values.proposals}: proposal ${i + 1}: ${(e as Error).message}`);
        }
      });
      if (list[0]!.member !== list[1]!.member) throw new InputError(`${values.proposals}: the two proposals are from different members`);
      const sender = await actor();
      await session.submit(await client.slash(sender, epoch, PublicKey.fromBase58(list[0]!.member), signed[0]!, signed[1]!));
      out(`${list[0]!.member} slashed for epoch ${epoch}: its share goes to the others`, { epoch, member: list[0]!.member });
      return 0;
    }
    case 'deposit': {
      const amount = nano(arg(positionals, 1, 'the amount in MINA'), 'amount');
      const sender = await actor();
      await session.submit(await client.deposit(sender, amount));
      out(`deposited ${mina(amount)} MINA`, { amount: amount.toString() });
      return 0;
    }
    case 'wait': {
      if (session.chain === undefined) throw new UsageError('wait applies to the local chain only: on a network, slots pass by themselves');
      const slots = intArg(positionals, 1, 'the number of slots');
      session.chain.advance(slots);
      await session.save();
      out(`slot ${session.chain.slot}`, { slot: session.chain.slot });
      return 0;
    }
    default:
      throw new UsageError(`unknown command '${command}' (see --help)`);
  }
}

await runCli(main);
