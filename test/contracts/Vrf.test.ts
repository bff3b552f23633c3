import { describe, expect, it } from '@jest/globals';
import { Field, PrivateKey, Provable, UInt32, UInt64 } from 'o1js';
import { groupMap, VrfProgram, VrfStatement, WinStatement } from '../../contracts/Vrf.js';
import { evaluateVrf, groupMap as groupMapOff } from '../../oracle/vrf/evaluate.js';
import { isWinning } from '../../oracle/vrf/threshold.js';

const KEY_B = 'EKEEpMELfQkMbJDt2fB4cFXKwSf1x4t7YD4twREy5yuJ84HBZtF9';

/** Runs `f` as a circuit (its inputs witnessed) with every constraint checked, and reads the fields it returns. */
async function inCircuit(f: () => Field[]): Promise<bigint[]> {
  let out: bigint[] = [];
  await Provable.runAndCheck(() => {
    const r = f();
    Provable.asProver(() => {
      out = r.map((x) => x.toBigInt());
    });
  });
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

describe('VrfProgram (constraints checked, no proof)', () => {
  const sk = PrivateKey.fromBase58(KEY_B);
  const statement = (slot: number, output: bigint, stake = 1000000000000000n, total = 6000000000001000n) =>
    new WinStatement({ vrf: new VrfStatement({ publicKey: sk.toPublicKey(), seed: Field(0), slot: UInt32.from(slot), index: Field(2), output: Field(output) }), stake: UInt64.from(stake), total: UInt64.from(total) });
  const run = (method: 'evaluate' | 'wins', s: WinStatement, key = sk) =>
    Provable.runAndCheck(async () => {
      const w = Provable.witness(WinStatement, () => s);
      const k = Provable.witness(PrivateKey, () => key);
      await VrfProgram.rawMethods[method](w, k);
    });

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
      const out = evaluateVrf(c.key.s.toBigInt(), c.seed, c.slot, c.index).truncated;
      const s = new WinStatement({ vrf: new VrfStatement({ publicKey: c.key.toPublicKey(), seed: Field(c.seed), slot: UInt32.from(c.slot), index: Field(c.index), output: Field(out) }), stake: UInt64.from(1), total: UInt64.from(1) });
      await run('evaluate', s, c.key);
    }
    await expect(run('evaluate', statement(6, 0n))).rejects.toThrow();
  }, 600_000);
});
