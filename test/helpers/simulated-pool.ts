import { AccountUpdate, Field, Mina, PrivateKey, PublicKey } from 'o1js';
import { SLOTS_PER_EPOCH, poolTagOf } from '../../contracts/types.js';
import { TransactionRejected } from '../../oracle/chain/chain.js';
import { ContractRuleError, TransactionPoster } from '../../oracle/chain/poster.js';
import { SimulatedChain } from '../../oracle/chain/simulated.js';
import { PoolClient, type Action } from '../../oracle/pool/client.js';
import { deployPool } from '../../oracle/pool/deploy.js';
import type { PoolParamsJson } from '../../oracle/pool/params.js';

export const MINA = 1_000_000_000n;

/** Parameters small enough to walk through a proposal's life in a test. */
export function testParams(operator: PublicKey, overrides: Partial<PoolParamsJson> = {}): PoolParamsJson {
  return {
    quorumPercent: 50,
    approvalPercent: 60,
    votingPeriod: 10,
    timelock: 5,
    executionWindow: 20,
    challengeWindow: 30,
    emitterStrategy: 0,
    backfillWindow: 47,
    backfillCompensation: 10_000,
    rewardPolicy: 0,
    operatorFeePercent: 0,
    operator: operator.toBase58(),
    ...overrides,
  };
}

/**
 * A simulated pool: a simulated chain (o1js LocalBlockchain, mock proofs) with the pool
 * deployed by the real deploy code, `memberCount` funded members, an outsider, the oracle
 * and the operator. Everything goes through the real client and poster.
 */
export async function simulatedPool(memberCount: number, options: { params?: Partial<PoolParamsJson>; slot?: number; proofsEnabled?: boolean } = {}) {
  const chain = await SimulatedChain.create({ slot: options.slot ?? 3 * SLOTS_PER_EPOCH + 100, proofsEnabled: options.proofsEnabled });
  const fund = (k: PrivateKey) => chain.local.addAccount(k.toPublicKey(), (1000n * MINA).toString());
  const members = Array.from({ length: memberCount }, () => PrivateKey.random());
  const [outsider, oracle, operator, deployer] = [PrivateKey.random(), PrivateKey.random(), PrivateKey.random(), PrivateKey.random()] as const;
  for (const k of [...members, outsider, oracle, operator, deployer]) fund(k);
  const keys = { dac: PrivateKey.random(), pool: PrivateKey.random(), vault: PrivateKey.random() };
  const poster = new TransactionPoster({ chain, fee: 100_000_000n });
  const params = testParams(operator.toPublicKey(), options.params);
  const { addresses } = await deployPool({
    poster,
    deployer,
    dacKey: keys.dac,
    poolKey: keys.pool,
    vaultKey: keys.vault,
    members: members.map((m) => m.toPublicKey().toBase58()),
    oracle: oracle.toPublicKey().toBase58(),
    params,
    constitutionHash: Field(12345),
  });
  const names = new Map<string, string>(members.map((m, i) => [m.toPublicKey().toBase58(), `member${i}`]));
  const client = await PoolClient.open({ chain, poster, addresses, names });
  return { chain, poster, client, dac: client.dac, pool: client.pool, vault: client.vault, members, outsider, oracle, operator, deployer, keys, addresses, params, poolTag: poolTagOf(addresses.dac) };
}

export type SimulatedPool = Awaited<ReturnType<typeof simulatedPool>>;

/** Runs an action through the client (checks, build, send, read the pool again). */
export function run<T>(env: SimulatedPool, action: () => Promise<Action<T>>) {
  return env.client.submit(action);
}

/** Pays MINA into the reward pool from a fresh rich account, as the pool's income. */
export async function fundPool(env: SimulatedPool, amount: bigint): Promise<void> {
  const donor = PrivateKey.random();
  env.chain.local.addAccount(donor.toPublicKey(), (amount + 10n * MINA).toString());
  await run(env, () => env.client.deposit(donor, amount));
}

/** An epoch report signed by `signer` (the oracle unless said otherwise), eligibility by registry index. */
export function signedReport(env: SimulatedPool, epoch: number, reward: bigint, eligible: PublicKey[], signer = env.oracle) {
  const report = env.client.reportOf(epoch, reward, eligible.map((k) => k.toBase58()), { metricsRoot: Field(7), eventLogHash: Field(8) });
  return { report, signature: env.client.signReport(signer, report) };
}

/**
 * Builds, proves, signs and sends a transaction straight to the chain, skipping the
 * client's checks: what an attacker (or a buggy client) would do. Returns the refusal:
 * a contract rule that fails while proving, or the chain's rejection.
 */
export async function rawTransaction(env: SimulatedPool, sender: PrivateKey, body: () => Promise<void>, options: { newAccounts?: number; signers?: PrivateKey[] } = {}): Promise<void> {
  await env.poster.post({
    label: 'raw transaction',
    sender,
    signers: options.signers,
    build: async () => {
      if (options.newAccounts) AccountUpdate.fundNewAccount(sender.toPublicKey(), options.newAccounts);
      await body();
    },
  });
}

/** Expects `attempt` to be refused with a message matching `message` (a contract rule or the chain's failure code). */
export async function expectRefused(attempt: () => Promise<unknown>, message: RegExp | string): Promise<void> {
  let error: unknown;
  try {
    await attempt();
  } catch (e) {
    error = e;
  }
  if (error === undefined) throw new Error(`expected a refusal matching ${message}, but it succeeded`);
  const text = error instanceof Error ? error.message : String(error);
  if (typeof message === 'string' ? !text.includes(message) : !message.test(text)) throw new Error(`expected a refusal matching ${message}, got: ${text.slice(0, 800)}`);
  if (!(error instanceof ContractRuleError || error instanceof TransactionRejected || (error as { code?: string }).code !== undefined)) throw error;
}

/** Moves the simulated chain to `slot`. */
export function advanceTo(env: SimulatedPool, slot: number): Promise<number> {
  return env.chain.advanceTo(slot);
}

export { Mina };
