import { describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { Cache, PrivateKey, verify } from 'o1js';
import { VrfProgram } from '../../contracts/Vrf.js';
import { projectRoot } from '../../oracle/paths.js';
import { vrfStatement } from '../../oracle/vrf/statement.js';
import { vrfOutputToBase58 } from '../../oracle/vrf/output.js';

const log = (message: string) => process.stderr.write(`${message}\n`);

/** The VRF program, compiled with the file cache (cache/) and proved for real: each method once. */
describe('VrfProgram, proved for real', () => {
  it('proves vector B evaluated and winning; the proofs verify; a losing slot cannot be proved winning', async () => {
    const t0 = performance.now();
    const { verificationKey } = await VrfProgram.compile({ cache: Cache.FileSystem(join(projectRoot(), 'cache')) });
    log(`compiled VrfProgram in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const sk = PrivateKey.fromBase58('EKEEpMELfQkMbJDt2fB4cFXKwSf1x4t7YD4twREy5yuJ84HBZtF9');
    const statement = (slot: number) => vrfStatement(sk, { seed: 0n, slot, index: 2, stake: 1000000000000000n, total: 6000000000001000n });
    const b = statement(6);
    expect(vrfOutputToBase58(b.vrf.output.toBigInt())).toBe('48HHFYbaz4d7XkJpWWJw5jN1vEBfPvU31nsX4Ljn74jDo3WyTojL');
    let t = performance.now();
    const { proof: won } = await VrfProgram.wins(b, sk);
    log(`proved wins in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    expect(await verify(won, verificationKey)).toBe(true);
    expect(won.publicInput.vrf.output.toBigInt()).toBe(b.vrf.output.toBigInt());
    t = performance.now();
    const lost = statement(518);
    const { proof: evaluated } = await VrfProgram.evaluate(lost, sk);
    log(`proved evaluate in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    expect(await verify(evaluated, verificationKey)).toBe(true);
    await expect(VrfProgram.wins(lost, sk)).rejects.toThrow(/does not win/);
  }, 1_800_000);
});
