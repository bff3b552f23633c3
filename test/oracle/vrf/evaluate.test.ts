import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Field, Group, Poseidon, PrivateKey, Scalar } from 'o1js';
import { o1jsInternals } from '../../../oracle/chain/o1js-internals.js';
import { P, Q } from '../../../oracle/crypto/pallas.js';
import { permuteWasm, scaleWasm } from '../../../oracle/crypto/kimchi-wasm.js';
import { permute, prefixedHash } from '../../../oracle/crypto/poseidon.js';
import { privateKeyScalar } from '../../../oracle/crypto/keys.js';
import { evaluateVrf, groupMap, nextEpochSeed, packMessage, parseSeed } from '../../../oracle/vrf/evaluate.js';
import { vrfOutputToBase58, vrfOutputToBase64Url } from '../../../oracle/vrf/output.js';
import { isWinning, outputFraction } from '../../../oracle/vrf/threshold.js';
import { runBin } from '../../helpers/project.js';

const KEY_A = 'EKFKgDtU3rcuFTVSEpmpXSkukjmX4cKefYREi6Sdsk7E7wsT7KRw';
const KEY_B = 'EKEEpMELfQkMbJDt2fB4cFXKwSf1x4t7YD4twREy5yuJ84HBZtF9';
const STAKE_B = 1000000000000000n;
const TOTAL_B = 6000000000001000n;
/** A real mainnet staking epoch seed (block 359606's `staking_epoch_data.seed`). */
const MAINNET_SEED = '2vahsgRV5nDPmtgr2Xo2Uq2dkngfSgvg7d1TKqQbY3wUS2ZDxCC3';

describe('Mina VRF off circuit (spec/MINA-VRF.md vectors)', () => {
  it('reproduces vector A: seed 0, slot 0, index 0', () => {
    const { truncated } = evaluateVrf(privateKeyScalar(KEY_A), 0n, 0, 0);
    expect(vrfOutputToBase58(truncated)).toBe('48H9Qk4D6RzS9kAJQX9HCDjiJ5qLiopxgxaS6xbDCWNaKQMQ9Y4C');
    expect(vrfOutputToBase64Url(truncated)).toBe('39cyg4ZmMtnb_aFUIerNAoAJV8qtkfOpq0zFzPspjgM=');
  });

  it('reproduces vector B: slot 6, index 2 wins with fraction 0.16978997004532187; slot 518 loses', () => {
    const sk = privateKeyScalar(KEY_B);
    const b = evaluateVrf(sk, 0n, 6, 2);
    expect(vrfOutputToBase58(b.truncated)).toBe('48HHFYbaz4d7XkJpWWJw5jN1vEBfPvU31nsX4Ljn74jDo3WyTojL');
    expect(outputFraction(b.truncated)).toBe(0.16978997004532187);
    expect(isWinning(b.truncated, STAKE_B, TOTAL_B)).toBe(true);
    expect(isWinning(evaluateVrf(sk, 0n, 518, 2).truncated, STAKE_B, TOTAL_B)).toBe(false);
    // Every input matters: another index, slot or seed gives another output.
    expect(evaluateVrf(sk, 0n, 6, 3).truncated).not.toBe(b.truncated);
    expect(evaluateVrf(sk, 1n, 6, 2).truncated).not.toBe(b.truncated);
    expect(evaluateVrf(sk + 1n, 0n, 6, 2).truncated).not.toBe(b.truncated);
  });

  it('packs the slot above the index\'s 35 bits, reversed', () => {
    expect(packMessage(0, 1)).toBe(1n << 34n);
    expect(packMessage(0, 2 ** 34)).toBe(1n);
    expect(packMessage(3, 0)).toBe(3n << 35n);
    expect(packMessage(1, 6)).toBe((1n << 35n) | (1n << 33n) | (1n << 32n));
    expect(() => packMessage(2 ** 32, 0)).toThrow('slot must be an integer from 0 to 4294967295');
    expect(() => packMessage(0, 2 ** 35)).toThrow('a 35-bit ledger index');
    expect(() => packMessage(1.5, 0)).toThrow('slot must be an integer');
  });

  it("maps to Pallas as Mina's group map does: o1js's hashToGroup up to the sign of y", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: P - 1n }), (x) => {
        const point = groupMap(Poseidon.hash([Field(x)]).toBigInt());
        expect((point.y * point.y - point.x ** 3n - 5n) % P).toBe(0n);
        const o1js = Poseidon.hashToGroup([Field(x)]);
        expect(o1js.x.toBigInt()).toBe(point.x);
        expect([point.y, P - point.y]).toContain(o1js.y.toBigInt());
      }),
      { numRuns: 25, seed: 91 },
    );
  });

  it("multiplies as o1js's Group.scale, permutes and hashes as o1js's Poseidon", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: Q - 1n }), fc.bigInt({ min: 1n, max: Q - 1n }), (k, s) => {
        const base = Group.generator.scale(Scalar.from(k));
        const ours = scaleWasm({ x: base.x.toBigInt(), y: base.y.toBigInt() }, s)!;
        const theirs = base.scale(Scalar.from(s));
        expect([ours.x, ours.y]).toEqual([theirs.x.toBigInt(), theirs.y.toBigInt()]);
      }),
      { numRuns: 12, seed: 92 },
    );
    // The wasm permutation and the bigint one agree.
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: 0n, max: P - 1n }), { minLength: 3, maxLength: 3 }), (state) => {
        const a = [...state];
        const b = [...state];
        permute(a);
        permuteWasm(b);
        expect(b).toEqual(a);
      }),
      { numRuns: 20, seed: 93 },
    );
    const hash = prefixedHash('MinaVrfOutput*******', permuteWasm);
    expect(hash([1n, 2n, 3n, 4n])).toBe(Poseidon.hashWithPrefix('MinaVrfOutput*******', [Field(1), Field(2), Field(3), Field(4)]).toBigInt());
    expect(nextEpochSeed(5n, 7n)).toBe(Poseidon.hashWithPrefix('MinaEpochSeed*******', [Field(5), Field(7)]).toBigInt());
  });

  it("reads keys and seeds as o1js does, and names what is wrong with a bad one", async () => {
    for (let i = 0; i < 5; i++) {
      const k = PrivateKey.random();
      expect(privateKeyScalar(k.toBase58())).toBe(k.s.toBigInt());
    }
    const { EpochSeed } = await o1jsInternals();
    expect(parseSeed(MAINNET_SEED)).toBe(EpochSeed.fromBase58(MAINNET_SEED).toBigInt());
    expect(parseSeed('12345')).toBe(12345n);
    expect(() => privateKeyScalar('B62qiy32p8kAKnny8ZFwoMhYpBppM1DWVCqAPBYNcXnsAHhnfAAuXgg')).toThrow('not a Mina private key');
    expect(() => privateKeyScalar(KEY_A.slice(0, -1) + 'x')).toThrow('not a Mina private key');
    expect(() => parseSeed('2vbad')).toThrow('neither a decimal field element nor a base58 epoch seed');
    expect(() => parseSeed(P.toString())).toThrow('not below the field modulus');
  });
});

describe('npm run vrf', () => {
  it('prints one JSON object for the vectors, and exits 2 with one clear line on bad input', async () => {
    const a = await runBin(process.cwd(), ['vrf', '--key', KEY_A, '--seed', '0', '--slot', '0', '--index', '0', '--json']);
    expect(a.code).toBe(0);
    expect(JSON.parse(a.stdout)).toEqual({ output: '48H9Qk4D6RzS9kAJQX9HCDjiJ5qLiopxgxaS6xbDCWNaKQMQ9Y4C', outputBase64: '39cyg4ZmMtnb_aFUIerNAoAJV8qtkfOpq0zFzPspjgM=', fraction: expect.any(Number) });
    const b = await runBin(process.cwd(), ['vrf', '--key', KEY_B, '--seed', '0', '--slot', '6', '--index', '2', '--stake', String(STAKE_B), '--total', String(TOTAL_B), '--json']);
    expect(JSON.parse(b.stdout)).toEqual({ output: '48HHFYbaz4d7XkJpWWJw5jN1vEBfPvU31nsX4Ljn74jDo3WyTojL', outputBase64: expect.any(String), fraction: 0.16978997004532187, threshold: 0.2062986418864849, wins: true });
    const seeded = await runBin(process.cwd(), ['vrf', '--key', KEY_B, '--seed', MAINNET_SEED, '--slot', '518', '--index', '2', '--stake', '1', '--total', '100']);
    expect(seeded.code).toBe(0);
    expect(seeded.stdout).toMatch(/^output +48\w+\nbase64url .+\nfraction .+\nthreshold +0\.013766295160563383\nwins +(yes|no)\n$/);
    for (const [args, message] of [
      [['--key', 'EKbad', '--seed', '0', '--slot', '0', '--index', '0'], /^error: not a Mina private key/],
      [['--key', KEY_A, '--seed', 'x', '--slot', '0', '--index', '0'], /^error: the seed is neither/],
      [['--key', KEY_A, '--seed', '0', '--slot', '-1', '--index', '0'], /--slot.*must be from 0 to 4294967295/],
      [['--key', KEY_A, '--seed', '0', '--slot', '0', '--index', '34359738368'], /--index.*must be from 0 to 34359738367/],
      [['--key', KEY_A, '--seed', '0', '--slot', '0', '--index', '0', '--stake', '5'], /^error: --stake and --total go together/],
      [['--key', KEY_A, '--seed', '0', '--slot', '0', '--index', '0', '--stake', '5', '--total', '4'], /^error: --stake \(5\) is more than --total \(4\)/],
      [['--key', KEY_A, '--seed', '0', '--slot', '0', '--index', '0', '--stake', '1.5', '--total', '4'], /whole number of nanomina/],
      [['--seed', '0', '--slot', '0', '--index', '0'], /required option '--key/],
    ] as const) {
      const r = await runBin(process.cwd(), ['vrf', ...args]);
      expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code: 2, stdout: '' });
      expect(r.stderr).toMatch(message);
    }
  }, 60_000);
});

describe('keys without o1js', () => {
  it('derives public keys and encodes private keys as o1js does', async () => {
    const { privateKeyToBase58, publicKeyOf } = await import('../../../oracle/crypto/keys.js');
    for (let i = 0; i < 5; i++) {
      const k = PrivateKey.random();
      const s = k.s.toBigInt();
      expect(privateKeyToBase58(s)).toBe(k.toBase58());
      expect(publicKeyOf(s).base58).toBe(k.toPublicKey().toBase58());
    }
    expect(() => publicKeyOf(0n)).toThrow('nonzero Pallas scalar');
    expect(() => privateKeyToBase58(Q)).toThrow('nonzero Pallas scalar');
  });
});
