import { resolve } from 'node:path';
import { Field, PublicKey, Signature, UInt32, UInt64, VerificationKey, type PrivateKey } from 'o1js';
import { BlockProposal, ProposalPayload, Ruling, RulingPayload, SignedBlockProposal, UpgradeTarget, poolTagOf, type ProposalKindName } from '../../contracts/types.js';
import { z } from 'zod';
import type { Log } from '../chain/poster.js';
import { PoolError } from '../errors.js';
import { readJsonFile } from '../json-file.js';
import { PoolActionError, type PoolClient } from './client.js';
import { paramsFromJson, type PoolParamsJson } from './params.js';

/** What a proposal does, as the commands take it. */
export type ProposalInput =
  | { kind: 'addMember' | 'removeMember' | 'setOracle'; key: PublicKey }
  | { kind: 'amendConstitution'; hash: Field }
  | { kind: 'setParameters'; params: PoolParamsJson }
  | { kind: 'arbitrationRuling'; epoch: number; decision: 'uphold' | 'replace'; eligible?: string[] }
  | { kind: 'treasurySpend'; key: PublicKey; amount: bigint }
  | { kind: 'upgrade'; target: keyof typeof UpgradeTarget; vkHash: Field };

/** The payload of a proposal; a ruling answers the epoch's open dispute. */
export function payloadFor(client: PoolClient, input: ProposalInput): { kind: ProposalKindName; payload: ProposalPayload } {
  const empty = ProposalPayload.empty();
  switch (input.kind) {
    case 'addMember':
    case 'removeMember':
    case 'setOracle':
      return { kind: input.kind, payload: new ProposalPayload({ ...empty, key: input.key }) };
    case 'amendConstitution':
      return { kind: input.kind, payload: new ProposalPayload({ ...empty, hash: input.hash }) };
    case 'setParameters':
      return { kind: input.kind, payload: new ProposalPayload({ ...empty, params: paramsFromJson(input.params) }) };
    case 'treasurySpend':
      return { kind: input.kind, payload: new ProposalPayload({ ...empty, key: input.key, amount: UInt64.from(input.amount) }) };
    case 'upgrade':
      return { kind: input.kind, payload: new ProposalPayload({ ...empty, target: UInt32.from(UpgradeTarget[input.target]), hash: input.vkHash }) };
    case 'arbitrationRuling': {
      const r = client.report(input.epoch);
      if (input.decision === 'replace' && (input.eligible === undefined || input.eligible.length === 0)) throw new PoolActionError('BAD_RULING', 'a ruling that replaces names the new eligible members (--eligible NAME,KEY,…)');
      const ruling = new RulingPayload({ epoch: UInt32.from(input.epoch), dispute: r.record.disputes, decision: UInt32.from(Ruling[input.decision]), eligible: client.eligibilityOf(input.eligible ?? []) });
      return { kind: input.kind, payload: new ProposalPayload({ ...empty, ruling }) };
    }
  }
}

/**
 * Executes a passed proposal and then applies what it decides in RewardPool (a spend, a
 * ruling, an upgrade), in two transactions as Mina's cost limit requires.
 */
export async function executeProposal(client: PoolClient, sender: PrivateKey, number: number, options: { vk?: VerificationKey; log?: Log } = {}): Promise<{ applied?: string }> {
  const p = client.proposal(number);
  const executedBefore = p.status === 'executed';
  if (!executedBefore) await client.submit(() => client.execute(sender, number, { vk: options.vk }));
  const pending = await client.pendingApplication(number);
  if (pending === undefined) {
    if (executedBefore) throw new PoolActionError('NOT_EXECUTABLE', `proposal #${number} cannot be executed: it was already executed`, { number });
    return {};
  }
  options.log?.(`proposal #${number} is executed; now applying its ${pending}`);
  await client.submit(() => client.applyExecuted(sender, number, { vk: options.vk }));
  return { applied: pending };
}

/** Claims a share, opening the epoch's claims first if nobody has (another member may race to it: fine). */
export async function claimShare(client: PoolClient, sender: PrivateKey, epoch: number, log?: Log): Promise<{ amount: bigint; opened: boolean }> {
  let opened = false;
  if (!(await client.claimsOpen(epoch))) {
    const why = await client.whyClaimsClosed(epoch);
    if (why) throw new PoolActionError('CLAIMS_NOT_OPEN', why, { epoch });
    log?.(`claims of epoch ${epoch} are not open yet: opening them (this pays the operator's fee)`);
    try {
      await client.submit(() => client.openClaims(sender, epoch));
      opened = true;
    } catch (e) {
      await client.sync();
      if (!(await client.claimsOpen(epoch))) throw e; // someone else opened them meanwhile: go on
    }
  }
  const { amount } = await client.submit(() => client.claim(sender, epoch));
  return { amount, opened };
}

/** A member signs the block it proposes for a slot (what the emitter receives and what slashing uses). */
export function signBlockProposal(dac: PublicKey, signer: PrivateKey, slot: number, blockHash: bigint): SignedBlockProposal {
  const proposal = new BlockProposal({ slot: UInt32.from(slot), blockHash: Field(blockHash) });
  return new SignedBlockProposal({ proposal, signature: Signature.create(signer, proposal.message(poolTagOf(dac))) });
}

const vkFileSchema = z.object({ data: z.string().min(1), hash: z.string().regex(/^\d+$/, 'expected a field element (decimal)') });

/** Reads a verification key file (`{ data, hash }`, as `pool vk` writes it); errors name the file. */
export async function readVerificationKeyFile(file: string): Promise<VerificationKey> {
  const json = await readJsonFile(resolve(file), vkFileSchema, 'verification key file');
  try {
    return new VerificationKey({ data: json.data, hash: Field(json.hash) });
  } catch (e) {
    throw new PoolError('BAD_INPUT', `${file}: not a verification key (${(e as Error).message})`);
  }
}
