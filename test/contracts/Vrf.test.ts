import { describe, expect, it } from '@jest/globals';
import { Field, PrivateKey, Provable } from 'o1js';
import { C_POWERS, groupMap, HALF_ODD_PLUS_ONE, isSquareP, powMod, rootExponent, VrfProgram, WinStatement, type GroupMapWitness } from '../../contracts/Vrf.js';
import { loadO1jsModule } from '../../oracle/chain/o1js-internals.js';
import { evaluateVrf, groupMap as groupMapOff } from '../../oracle/vrf/evaluate.js';
import { vrfStatement } from '../../oracle/vrf/statement.js';
import { isWinning } from '../../oracle/vrf/threshold.js';

const KEY_B = 'EKEEpMELfQkMbJDt2fB4cFXKwSf1x4t7YD4twREy5yuJ84HBZtF9';

/**
 * Runs `check` with no stack frames captured for the errors raised meanwhile. A constraint that
 * fails is raised from inside o1js's bindings, and o1js reads the error's stack to tidy it; Jest
 * then maps each frame through that file's source map, looking for it with a regular expression
 * over the bindings' 40 MB file, whose inline map is one 17 MB line. Now and then (not
 * reproduced on demand) that search overflowed ("Maximum call stack size exceeded") and the
 * overflow stood in place of the refusal these tests check. The refusals' messages are unchanged.
 */
async function withoutFrames<T>(check: () => Promise<T>): Promise<T> {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return await check();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** Runs `f` as a circuit (its inputs witnessed) with every constraint checked, and reads the fields it returns. */
async function inCircuit(f: () => Field[]): Promise<bigint[]> {
  let out: bigint[] = [];
  await withoutFrames(() =>
    Provable.runAndCheck(() => {
      const r = f();
      Provable.asProver(() => {
        out = r.map((x) => x.toBigInt());
      });
    }),
  );
  return out;
}

describe('Mina VRF in circuit', () => {
  it('maps to the same point as off circuit, including the root', async () => {
    for (let i = 0; i < 6; i++) {
      const t = BigInt(i) * 0x1234567890abcdefn + 17n;
      const expected = groupMapOff(t);
      const g = await inCircuit(() => {
        const p = groupMap(Provable.witness(Field, () => Field(t)));
        return [p.x, p.y];
      });
      expect(g).toEqual([expected.x, expected.y]);
    }
  }, 300_000);
});

describe('group map attacks (a dishonest witness, refused by the constraints)', () => {
  // A t whose first candidate is a square (so claiming it is not must fail) — found by search.
  const ts = Array.from({ length: 40 }, (_, i) => BigInt(i) * 0x9e3779b97f4a7c15n + 3n);

  it('refuses calling a square candidate a non-square, and the other root of the chosen one', async () => {
    const { GroupMapPallas } = await loadO1jsModule<{ GroupMapPallas: { potentialXs(t: bigint): bigint[] } }>('bindings/crypto/elliptic-curve.js');
    const isSq = (x: bigint) => isSquareP((x * x * x + 5n) % Field.ORDER);
    const firstSquare = ts.find((t) => isSq(GroupMapPallas.potentialXs(t)[0]!))!;
    const secondFirst = ts.find((t) => !isSq(GroupMapPallas.potentialXs(t)[0]!) && isSq(GroupMapPallas.potentialXs(t)[1]!))!;
    const mapped = (t: bigint, cheat: GroupMapWitness) => inCircuit(() => {
      const p = groupMap(Provable.witness(Field, () => Field(t)), cheat);
      return [p.x, p.y];
    });
    // Skipping a square first candidate to take the second.
    await expect(mapped(firstSquare, { isSquare: [false, true, true] })).rejects.toThrow(/not decided/);
    // Claiming a non-square is a square.
    await expect(mapped(secondFirst, { isSquare: [true, true, true] })).rejects.toThrow(/not decided/);
    // The root: y = r·c^s with s < 2^31, r = f^((ODD+1)/2). The honest s gives Tonelli–Shanks's
    // root; −y would need s + 2^31 (c^(2^31) = −1), which 31 bits cannot hold; any other s fails.
    const honest = groupMapOff(firstSquare);
    const f = (honest.x ** 3n + 5n) % Field.ORDER;
    const r = powMod(f, HALF_ODD_PLUS_ONE);
    const cPow = (e: bigint) => C_POWERS.reduce((acc, c, i) => (((e >> BigInt(i)) & 1n) === 1n ? (acc * c) % Field.ORDER : acc), 1n);
    const s = rootExponent(honest.y, r);
    expect((r * cPow(s)) % Field.ORDER).toBe(honest.y);
    expect((r * cPow(s) * powMod(C_POWERS[30]!, 2n)) % Field.ORDER).toBe(Field.ORDER - honest.y); // c^(2^31) = −1
    expect(await mapped(firstSquare, { rootExponent: s })).toEqual([honest.x, honest.y]);
    for (const other of [s ^ 1n, s ^ (1n << 30n), s ^ 12345n]) await expect(mapped(firstSquare, { rootExponent: other })).rejects.toThrow(/not a square root/);
    expect(await mapped(firstSquare, {})).toEqual([honest.x, honest.y]);
  }, 300_000);
});

describe('VrfProgram (constraints checked, no proof)', () => {
  const sk = PrivateKey.fromBase58(KEY_B);
  const statement = (slot: number, output: bigint) => vrfStatement(sk, { seed: 0n, slot, index: 2, stake: 1000000000000000n, total: 6000000000001000n, output });
  const run = (method: 'evaluate' | 'wins', s: WinStatement, key = sk) =>
    withoutFrames(() =>
      Provable.runAndCheck(async () => {
        const w = Provable.witness(WinStatement, () => s);
        const k = Provable.witness(PrivateKey, () => key);
        await VrfProgram.rawMethods[method](w, k);
      }),
    );

  it('proves vector B wins at slot 6, and refuses a wrong output, a wrong key and a losing slot claimed as winning', async () => {
    const b = evaluateVrf(sk.s.toBigInt(), 0n, 6, 2).truncated;
    await run('wins', statement(6, b));
    await expect(run('evaluate', statement(6, b + 1n))).rejects.toThrow(/not this key's VRF output/);
    await expect(run('evaluate', statement(6, b), PrivateKey.random())).rejects.toThrow();
    const lost = evaluateVrf(sk.s.toBigInt(), 0n, 518, 2).truncated;
    expect(isWinning(lost, 1000000000000000n, 6000000000001000n)).toBe(false);
    await run('evaluate', statement(518, lost));
    await expect(run('wins', statement(518, lost))).rejects.toThrow(/does not win/);
  }, 600_000);

  it('gives the off-circuit output for vector A and for random keys, seeds, slots and indices', async () => {
    const cases = [
      { key: PrivateKey.fromBase58('EKFKgDtU3rcuFTVSEpmpXSkukjmX4cKefYREi6Sdsk7E7wsT7KRw'), seed: 0n, slot: 0, index: 0 },
      ...Array.from({ length: 4 }, (_, i) => ({ key: PrivateKey.random(), seed: Field.random().toBigInt(), slot: 1000 * i + 7, index: 2 ** (8 * i) + i })),
      { key: PrivateKey.random(), seed: Field.ORDER - 1n, slot: 2 ** 32 - 1, index: 2 ** 35 - 1 },
    ];
    for (const c of cases) {
      await run('evaluate', vrfStatement(c.key, { ...c, stake: 1n, total: 1n }), c.key);
    }
    await expect(run('evaluate', statement(6, 0n))).rejects.toThrow();
  }, 600_000);
});
