import { AccountUpdate, Field, MerkleTree, Mina, PrivateKey, PublicKey, UInt32, UInt64 } from 'o1js';
import { PoolDac } from '../../contracts/PoolDac.js';
import { RewardPool } from '../../contracts/RewardPool.js';
import { TREE_HEIGHT, memberKey } from '../../contracts/types.js';
import { PoolError } from '../errors.js';
import { KeySet, PoolMirror, paramsFromJson, type PoolParamsJson } from './pool-mirror.js';

export interface DeployPoolParams {
  /** Pays the fees and the new accounts. */
  deployer: PrivateKey;
  dacKey: PrivateKey;
  poolKey: PrivateKey;
  members: string[];
  oracle: string;
  params: PoolParamsJson;
  constitutionHash: Field;
  fee?: bigint;
  /** Progress messages (deploying, proving, sending). */
  onProgress?: (message: string) => void;
  /** Called between the two transactions (a remote network refreshes its account cache here). */
  beforeSecond?: () => Promise<void>;
  /** Build, prove and sign the deploy transaction, but send nothing. */
  dryRun?: boolean;
}

export interface DeployPoolResult {
  dac: PoolDac;
  pool: RewardPool;
  mirror: PoolMirror;
  transactions: string[];
}

/**
 * Deploys PoolDac and RewardPool (two transactions: deploy both, then open the reward
 * pool's paid counter) and returns the mirror of their initial state.
 *
 * @example
 * const { mirror } = await deployPool({ deployer, dacKey, poolKey, members, oracle, params, constitutionHash });
 */
export async function deployPool(p: DeployPoolParams): Promise<DeployPoolResult> {
  if (p.members.length === 0) throw new PoolError('BAD_POOL', 'a pool needs at least one member');
  if (new Set(p.members).size !== p.members.length) throw new PoolError('BAD_POOL', 'the member list has duplicates');
  const log = p.onProgress ?? (() => {});
  const fee = UInt64.from(p.fee ?? 100_000_000n);
  const deployer = p.deployer.toPublicKey();
  const dac = new PoolDac(p.dacKey.toPublicKey());
  const pool = new RewardPool(p.poolKey.toPublicKey());
  const members = new KeySet(p.members);
  const emptyTree = new MerkleTree(TREE_HEIGHT).getRoot();
  const transactions: string[] = [];

  log('building the deploy transaction');
  const deployTx = await Mina.transaction({ sender: deployer, fee }, async () => {
    AccountUpdate.fundNewAccount(deployer, 2);
    await dac.deploy({
      init: {
        constitutionHash: p.constitutionHash,
        membersRoot: members.root(),
        memberCount: UInt32.from(members.size),
        paramsHash: paramsFromJson(p.params).hash(),
        oracleKeyHash: memberKey(PublicKey.fromBase58(p.oracle)),
        proposalsRoot: emptyTree,
      },
    });
    await pool.deploy({ init: { dac: dac.address, reportsRoot: emptyTree } });
  });
  log('proving the deploy transaction');
  await deployTx.prove();
  deployTx.sign([p.deployer, p.dacKey, p.poolKey]);
  if (p.dryRun) {
    log('dry run: the deploy transaction is built and signed, not sent');
    const mirror = new PoolMirror({ dac: dac.address, pool: pool.address, constitutionHash: p.constitutionHash, params: p.params, oracle: p.oracle, members: p.members });
    return { dac, pool, mirror, transactions: [deployTx.toJSON()] };
  }
  log('sending the deploy transaction');
  const sent = await deployTx.send();
  if (sent.status !== 'pending') throw new PoolError('REJECTED', `deploy: the chain rejected the transaction: ${sent.errors.join('; ')}`);
  transactions.push(deployTx.toJSON());
  await sent.wait();
  await p.beforeSecond?.();

  log('opening the reward pool\'s paid counter (proving)');
  const counterTx = await Mina.transaction({ sender: deployer, fee }, async () => {
    AccountUpdate.fundNewAccount(deployer, 1);
    await pool.openCounter();
  });
  await counterTx.prove();
  const counterSent = await counterTx.sign([p.deployer]).send();
  if (counterSent.status !== 'pending') throw new PoolError('REJECTED', `open counter: the chain rejected the transaction: ${counterSent.errors.join('; ')}`);
  transactions.push(counterTx.toJSON());

  const mirror = new PoolMirror({ dac: dac.address, pool: pool.address, constitutionHash: p.constitutionHash, params: p.params, oracle: p.oracle, members: p.members });
  return { dac, pool, mirror, transactions };
}
