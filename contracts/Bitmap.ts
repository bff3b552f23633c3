import { Bool, Field, Provable, Struct, UInt32, UInt64 } from 'o1js';

/** Bits per chunk and chunks per bitmap: 8 × 64 = 512 bits, one per member registry index. */
export const CHUNK_BITS = 64;
export const CHUNKS = 8;
export const BITMAP_BITS = CHUNK_BITS * CHUNKS;

/** `mask[k] = (value == k)` for k < n: a one-hot selector. */
function oneHot(value: UInt32, n: number): Bool[] {
  return Array.from({ length: n }, (_, k) => value.value.equals(Field(k)));
}

/**
 * A set of member registry indexes (0..511) as eight 64-bit chunks: who is eligible in an
 * epoch, who was slashed. In a circuit a lookup costs one 64-bit decomposition, so a claim
 * stays small; off-circuit it reads and writes as a list of indexes.
 */
export class Bitmap extends Struct({ chunks: Provable.Array(UInt64, CHUNKS) }) {
  static empty(): Bitmap {
    return new Bitmap({ chunks: Array.from({ length: CHUNKS }, () => UInt64.zero) });
  }

  /** The bitmap with exactly these indexes set (off-circuit). */
  static fromIndexes(indexes: Iterable<number>): Bitmap {
    const chunks = Array.from({ length: CHUNKS }, () => 0n);
    for (const i of indexes) {
      if (!Number.isSafeInteger(i) || i < 0 || i >= BITMAP_BITS) throw new RangeError(`bitmap index ${i} is outside 0..${BITMAP_BITS - 1}`);
      chunks[Math.floor(i / CHUNK_BITS)]! |= 1n << BigInt(i % CHUNK_BITS);
    }
    return new Bitmap({ chunks: chunks.map((c) => UInt64.from(c)) });
  }

  /** The indexes set, in increasing order (off-circuit). */
  indexes(): number[] {
    const out: number[] = [];
    this.chunks.forEach((chunk, c) => {
      const v = chunk.toBigInt();
      for (let b = 0; b < CHUNK_BITS; b++) if ((v >> BigInt(b)) & 1n) out.push(c * CHUNK_BITS + b);
    });
    return out;
  }

  /** Whether index `i` is set (in a circuit: one chunk decomposed). */
  has(i: UInt32): Bool {
    const { chunk, bit } = split(i);
    const bits = Provable.switch(oneHot(chunk, CHUNKS), UInt64, this.chunks).value.toBits(CHUNK_BITS);
    return Provable.switch(oneHot(bit, CHUNK_BITS), Bool, bits);
  }

  /** The bitmap with index `i` flipped; it must currently hold `from` (else `error`). */
  flip(i: UInt32, from: Bool, error: string): Bitmap {
    this.has(i).assertEquals(from, error);
    const { chunk, bit } = split(i);
    const chunkMask = oneHot(chunk, CHUNKS);
    const power = oneHot(bit, CHUNK_BITS).reduce((sum, m, k) => sum.add(m.toField().mul(Field(1n << BigInt(k)))), Field(0));
    const selected = Provable.switch(chunkMask, UInt64, this.chunks).value;
    const flipped = UInt64.Unsafe.fromField(Provable.if(from, selected.sub(power), selected.add(power)));
    return new Bitmap({ chunks: this.chunks.map((c, k) => Provable.if(chunkMask[k]!, flipped, c)) });
  }

  /** Requires every index set to be below `n` (at most 511): indexes no registered key holds stay unset. */
  assertBelow(n: UInt32, error: string): void {
    const { quotient: boundary, rest } = n.divMod(CHUNK_BITS);
    // Chunks from the boundary on hold nothing above it: wholly past it, nothing at all.
    this.chunks.forEach((c, k) => c.equals(UInt64.zero).or(n.greaterThan(UInt32.from(k * CHUNK_BITS))).assertTrue(error));
    // The boundary chunk holds bits below `n mod 64` only: shifted up by 64 − rest, it stays below 2^64.
    const shift = Field(CHUNK_BITS).sub(rest.value).toBits(7).reduce((m, b, j) => m.mul(Provable.if(b, Field(1n << (1n << BigInt(j))), Field(1))), Field(1));
    const selected = Provable.switch(oneHot(boundary, CHUNKS), UInt64, this.chunks).value;
    const high = selected.mul(shift).toBits(2 * CHUNK_BITS).slice(CHUNK_BITS);
    high.reduce((sum, b) => sum.add(b.toField()), Field(0)).assertEquals(Field(0), error);
  }

  /** Number of indexes set. */
  count(): UInt32 {
    let total = Field(0);
    for (const c of this.chunks) for (const b of c.value.toBits(CHUNK_BITS)) total = total.add(b.toField());
    return UInt32.Unsafe.fromField(total);
  }

  /** Indexes set here and not in `other`. */
  without(other: Bitmap): Bitmap {
    const chunks = this.chunks.map((c, k) => {
      const mine = c.value.toBits(CHUNK_BITS);
      const theirs = other.chunks[k]!.value.toBits(CHUNK_BITS);
      const kept = mine.reduce((sum, b, j) => sum.add(Provable.if(b.and(theirs[j]!.not()), Field(1n << BigInt(j)), Field(0))), Field(0));
      return UInt64.Unsafe.fromField(kept);
    });
    return new Bitmap({ chunks });
  }
}

function split(i: UInt32): { chunk: UInt32; bit: UInt32 } {
  const { quotient, rest } = i.divMod(CHUNK_BITS);
  quotient.assertLessThan(UInt32.from(CHUNKS), 'Registry index is outside the bitmap');
  return { chunk: quotient, bit: rest };
}
