import { ProposalKind, SLOTS_PER_EPOCH, type ProposalKindName } from '../../contracts/types.js';
import { nanoToMina } from '../amount.js';
import type { PoolClient } from './client.js';

/** Proposal kind → its command-line name. */
const KIND_NAMES: Record<ProposalKindName, string> = {
  addMember: 'add-member',
  removeMember: 'remove-member',
  amendConstitution: 'amend-constitution',
  setParameters: 'set-parameters',
  setOracle: 'set-oracle',
  arbitrationRuling: 'ruling',
  treasurySpend: 'spend',
  upgrade: 'upgrade',
};
const KIND_OF_NUMBER = Object.fromEntries(Object.entries(ProposalKind).map(([k, n]) => [n, KIND_NAMES[k as ProposalKindName]])) as Record<number, string>;

/**
 * The pool as a member sees it: the chain's slot, balances, parameters, members,
 * proposals (state and votes) and reports, as text and as one JSON object.
 */
export async function poolStatus(client: PoolClient, alias: string): Promise<{ text: string; json: Record<string, unknown> }> {
  const m = client.mirror;
  const now = await client.now();
  const funds = await client.funds();
  const who = (k: string) => client.who(k);
  const proposals = [];
  for (const p of m.proposals) {
    const read = await client.tally(p.number);
    const { tally } = read;
    proposals.push({
      number: p.number,
      id: p.id.toString(),
      kind: KIND_OF_NUMBER[Number(p.record.kind.toBigint())] ?? p.record.kind.toString(),
      proposer: p.record.proposer.toBase58(),
      state: await client.proposalState(p.number, now, read),
      pending: await client.pendingApplication(p.number),
      voteEnd: Number(p.record.voteEnd.toBigint()),
      opensAt: Number(p.record.opensAt.toBigint()),
      closesAt: Number(p.record.closesAt.toBigint()),
      votes: { for: Number(tally.for.toBigint()), against: Number(tally.against.toBigint()), abstain: Number(tally.abstain.toBigint()) },
    });
  }
  const reports = [];
  for (const [epoch, r] of m.reports) {
    reports.push({
      epoch,
      reward: nanoToMina(r.record.report.reward.toBigInt()),
      fee: nanoToMina(r.record.fee.toBigInt()),
      carryIn: r.record.carryIn.toString(),
      eligible: m.keysOf(r.record.eligible),
      slashed: m.keysOf(r.record.slashed),
      share: nanoToMina(r.record.share().share.toBigInt()),
      claimsOpenAt: Number(r.record.claimsOpenAt.toBigint()),
      disputed: r.record.disputed.toBoolean(),
      claimsOpened: r.claimsOpened,
      claimed: r.claimed.size,
    });
  }
  const json = {
    alias,
    chain: client.chain.label,
    slot: now,
    epoch: Math.floor(now / SLOTS_PER_EPOCH),
    addresses: { PoolDac: m.addresses.dac.toBase58(), RewardPool: m.addresses.pool.toBase58(), PoolVault: m.addresses.vault.toBase58(), BackfillRegistry: m.addresses.registry.toBase58() },
    balance: nanoToMina(funds.pool),
    vault: nanoToMina(funds.vault),
    owed: nanoToMina(funds.owed),
    spendable: nanoToMina(funds.spendable),
    paid: nanoToMina(funds.paid),
    constitutionHash: m.constitutionHash.toString(),
    params: m.params,
    oracle: m.oracle,
    members: m.activeMembers(),
    proposals,
    reports,
  };
  const p = m.params;
  const text = [
    `Pool on '${alias}' (${client.chain.label}) at slot ${now}, epoch ${json.epoch}`,
    `PoolDac    ${json.addresses.PoolDac}`,
    `RewardPool ${json.addresses.RewardPool}: ${json.balance} MINA, ${json.owed} owed to members, ${json.spendable} spendable; paid so far ${json.paid}`,
    `PoolVault  ${json.addresses.PoolVault}: ${json.vault} MINA of rewards to sweep`,
    `constitution hash ${json.constitutionHash}`,
    `parameters: quorum ${p.quorumPercent} %, approval ${p.approvalPercent} %, voting ${p.votingPeriod} slots, timelock ${p.timelock}, execution window ${p.executionWindow}, challenge window ${p.challengeWindow}, backfill window ${p.backfillWindow}, backfill compensation ${p.backfillCompensation / 1000} MINA, operator fee ${p.operatorFeePercent} % to ${who(p.operator)}`,
    `oracle ${who(m.oracle)}`,
    `members (${json.members.length}):`,
    ...json.members.map((k) => `  ${client.names.has(k) ? `${client.names.get(k)} (${k})` : k}`),
    `proposals (${proposals.length}):`,
    ...proposals.map(
      (x) =>
        `  #${x.number} ${x.kind} by ${who(x.proposer)}: ${x.state}${x.pending ? ` (${x.pending} still to apply)` : ''}; for ${x.votes.for}, against ${x.votes.against}, abstain ${x.votes.abstain}; voting ends slot ${x.voteEnd}, executable ${x.opensAt}–${x.closesAt}`,
    ),
    `reports (${reports.length}):`,
    ...reports.map(
      (r) =>
        `  epoch ${r.epoch}: reward ${r.reward} MINA (fee ${r.fee}), ${r.eligible.length} eligible, share ${r.share} MINA, claims ${r.claimsOpened ? `open (${r.claimed} claimed)` : `open at slot ${r.claimsOpenAt}`}${r.disputed ? ', DISPUTED' : ''}${r.slashed.length ? `, slashed ${r.slashed.map(who).join(', ')}` : ''}`,
    ),
  ].join('\n');
  return { text, json };
}
