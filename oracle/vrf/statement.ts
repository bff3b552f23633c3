import { Field, type PrivateKey, UInt32, UInt64 } from 'o1js';
import { VrfStatement, WinStatement } from '../../contracts/Vrf.js';
import { evaluateVrf } from './evaluate.js';

/**
 * The statement a producer proves with `VrfProgram`: its public key, (seed, slot, index), its
 * truncated output evaluated off circuit (or `output`, to build a false one), and the account's
 * stake and the ledger's total (read by `wins` only).
 *
 * @example
 * const { proof } = await VrfProgram.wins(vrfStatement(key, { seed: 0n, slot: 6, index: 2, stake, total }), key);
 */
export function vrfStatement(key: PrivateKey, o: { seed: bigint; slot: number; index: number; stake: bigint; total: bigint; output?: bigint }): WinStatement {
  const output = o.output ?? evaluateVrf(key.s.toBigInt(), o.seed, o.slot, o.index).truncated;
  return new WinStatement({
    vrf: new VrfStatement({ publicKey: key.toPublicKey(), seed: Field(o.seed), slot: UInt32.from(o.slot), index: Field(o.index), output: Field(output) }),
    stake: UInt64.from(o.stake),
    total: UInt64.from(o.total),
  });
}
