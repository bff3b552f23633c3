import { Field, Mina, PrivateKey, PublicKey, Signature, UInt32, UInt64 } from 'o1js';
import { EpochReport, poolTagOf } from '../../contracts/types.js';
import { deployPool } from '../../oracle/chain/deploy-pool.js';
import { PoolClient, sendTransaction, type BuiltTransaction } from '../../oracle/chain/pool-client.js';
import { KeySet, type PoolParamsJson } from '../../oracle/chain/pool-mirror.js';

/** Parameters small enough to walk through a proposal's life in a test. */
export const TEST_PARAMS: PoolParamsJson = {
  quorumPercent: 50,
  approvalPercent: 60,
  votingPeriod: 10,
  timelock: 5,
  executionWindow: 20,
  challengeWindow: 30,
  emitterStrategy: 0,
  backfillWindow: 47,
  rewardPolicy: 0,
};

export const MINA = 1_000_000_000n;

/**
 * A simulated pool: a Mina.LocalBlockchain (mock proofs) with PoolDac and RewardPool
 * deployed by the real deploy code, `memberCount` funded members and an oracle key.
 */
export async function simulatedPool(memberCount: number, params: PoolParamsJson = TEST_PARAMS) {
  const local = await Mina.LocalBlockchain({ proofsEnabled: false });
  Mina.setActiveInstance(local);
  local.setGlobalSlot(1000);
  const deployer = local.testAccounts[0]!.key;
  const members = Array.from({ length: memberCount }, () => PrivateKey.random());
  for (const m of members) local.addAccount(m.toPublicKey(), (100n * MINA).toString());
  const outsider = PrivateKey.random();
  local.addAccount(outsider.toPublicKey(), (100n * MINA).toString());
  const oracle = PrivateKey.random();
  const dacKey = PrivateKey.random();
  const poolKey = PrivateKey.random();
  const { dac, pool, mirror } = await deployPool({
    deployer,
    dacKey,
    poolKey,
    members: members.map((m) => m.toPublicKey().toBase58()),
    oracle: oracle.toPublicKey().toBase58(),
    params,
    constitutionHash: Field(12345),
  });
  const client = new PoolClient({ dac, pool, mirror });
  return { local, deployer, members, outsider, oracle, dac, pool, mirror, client, poolTag: poolTagOf(dac.address) };
}

export type SimulatedPool = Awaited<ReturnType<typeof simulatedPool>>;

/** Deposits MINA into the reward pool from a rich account, as the pool's income. */
export async function fundPool(env: SimulatedPool, amount: bigint): Promise<void> {
  const donor = PrivateKey.random();
  env.local.addAccount(donor.toPublicKey(), (amount + 10n * MINA).toString());
  await sendTransaction(await env.client.deposit(donor, amount));
}

/** An epoch report signed by `signer` (the oracle unless said otherwise). */
export function signedReport(env: SimulatedPool, epoch: number, reward: bigint, eligible: PublicKey[], signer = env.oracle) {
  const set = new KeySet(eligible.map((k) => k.toBase58()));
  const report = new EpochReport({
    epoch: UInt32.from(epoch),
    reward: UInt64.from(reward),
    eligibleRoot: set.root(),
    eligibleCount: UInt32.from(set.size),
    metricsRoot: Field(7),
    eventLogHash: Field(8),
  });
  return { report, signature: Signature.create(signer, report.message(env.poolTag)), eligible: set.keys };
}

export async function send<T>(built: Promise<BuiltTransaction<T>>): Promise<T> {
  return sendTransaction(await built);
}

/** Sends a transaction and expects the chain (not the client) to reject it with `message`. */
export async function expectRejected(build: () => Promise<unknown>, message: RegExp | string): Promise<void> {
  let error: unknown;
  try {
    await build();
  } catch (e) {
    error = e;
  }
  if (error === undefined) throw new Error(`expected a rejection matching ${message}, but it succeeded`);
  const text = error instanceof Error ? error.message : String(error);
  if (typeof message === 'string' ? !text.includes(message) : !message.test(text)) {
    throw new Error(`expected a rejection matching ${message}, got: ${text.slice(0, 600)}`);
  }
}

/**
 * Builds, proves, signs and sends a transaction straight to the chain, skipping the
 * client's off-chain checks: what an attacker (or a buggy client) would do.
 */
export async function rawTransaction(sender: PrivateKey, body: () => Promise<void>, newAccounts = 0): Promise<void> {
  const { AccountUpdate } = await import('o1js');
  const tx = await Mina.transaction({ sender: sender.toPublicKey(), fee: 100_000_000 }, async () => {
    if (newAccounts > 0) AccountUpdate.fundNewAccount(sender.toPublicKey(), newAccounts);
    await body();
  });
  await tx.prove();
  const sent = await tx.sign([sender]).send();
  if (sent.status !== 'pending') throw new Error(`rejected: ${sent.errors.join('; ')}`);
}
