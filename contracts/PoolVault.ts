import { Bool, DeployArgs, PublicKey, SmartContract, State, Struct, UInt64, method, state } from 'o1js';
import { RewardPool } from './RewardPool.js';
import { vaultPermissions } from './types.js';

export const PoolVaultErrors = {
  nothingToSweep: 'The amount to sweep must be positive',
} as const;

/**
 * The pool's coinbase receiver. Mina burns a coinbase (and refuses a payment) whose
 * receiver needs an authorization to be accessed, and RewardPool needs one (a proof) so
 * that no key can touch its tokens; so rewards land here, where anyone can pay in, and
 * the only way out is `sweep`, into RewardPool.
 */
export class PoolVault extends SmartContract {
  /** The RewardPool this vault feeds. */
  @state(PublicKey) pool = State<PublicKey>();

  readonly events = { swept: SweptEvent };

  /** Deploys the vault for `pool`; the account may already hold MINA (anyone can pay an address). */
  async deploy(args: DeployArgs & { pool: PublicKey }): Promise<void> {
    await super.deploy(args);
    this.self.body.implicitAccountCreationFee = Bool(true);
    this.account.permissions.set(vaultPermissions());
    this.pool.set(args.pool);
  }

  /** Anyone moves `amount` of the vault's MINA into RewardPool (as a RewardPool deposit). */
  @method async sweep(amount: UInt64) {
    amount.assertGreaterThan(UInt64.zero, PoolVaultErrors.nothingToSweep);
    this.balance.subInPlace(amount);
    await new RewardPool(this.pool.getAndRequireEquals()).deposit(amount);
    this.emitEvent('swept', new SweptEvent({ amount }));
  }
}

export class SweptEvent extends Struct({ amount: UInt64 }) {}
