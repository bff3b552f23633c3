import { describe, expect, it } from '@jest/globals';
import { fieldToStateHash, stateHashToField } from '../../../oracle/chain/base58.js';
import { parseVrfOutput, vrfOutputToBase58, vrfOutputToBase64Url } from '../../../oracle/vrf/output.js';
import { isWinning, outputFraction, thresholdFraction, winningBound } from '../../../oracle/vrf/threshold.js';

describe('VRF output encodings (spec/MINA-VRF.md vectors)', () => {
  it('decodes vector A from base64url and base58 to the same value and encodes it back', () => {
    const a = parseVrfOutput('39cyg4ZmMtnb_aFUIerNAoAJV8qtkfOpq0zFzPspjgM=')!;
    expect(parseVrfOutput('48H9Qk4D6RzS9kAJQX9HCDjiJ5qLiopxgxaS6xbDCWNaKQMQ9Y4C')).toBe(a);
    expect(vrfOutputToBase58(a)).toBe('48H9Qk4D6RzS9kAJQX9HCDjiJ5qLiopxgxaS6xbDCWNaKQMQ9Y4C');
    expect(vrfOutputToBase64Url(a)).toBe('39cyg4ZmMtnb_aFUIerNAoAJV8qtkfOpq0zFzPspjgM=');
    expect(parseVrfOutput(a.toString())).toBe(a);
  });

  it('encodes the all-zero output', () => {
    expect(vrfOutputToBase58(0n)).toBe('48FSq2zFhVrXiBXjBbqchBFR1RsQWbEESTY1CM4zzroAKk7KKErp');
  });

  it('rejects a corrupted checksum, outputs of 253 bits or more, and junk', () => {
    expect(parseVrfOutput('48H9Qk4D6RzS9kAJQX9HCDjiJ5qLiopxgxaS6xbDCWNaKQMQ9Y4D')).toBeUndefined();
    expect(parseVrfOutput((2n ** 253n).toString())).toBeUndefined();
    expect(parseVrfOutput('hello')).toBeUndefined();
  });
});

describe('state hashes', () => {
  it('decodes a real mainnet state hash and encodes it back', () => {
    const h = '3NK4BpDSekaqsG6tx8Nse2zJchRft2JpnbvMiog55WCr5xJZaKeP';
    const f = stateHashToField(h)!;
    expect(f).toBeGreaterThan(0n);
    expect(fieldToStateHash(f)).toBe(h);
    expect(stateHashToField('B62qiy32p8kAKnny8ZFwoMhYpBppM1DWVCqAPBYNcXnsAHhnfAAuXgg')).toBeUndefined();
  });
});

describe('threshold (spec/MINA-VRF.md)', () => {
  it('matches the published threshold values', () => {
    expect(thresholdFraction(1n, 100n)).toBe(0.013766295160563383);
    expect(thresholdFraction(1n, 2n)).toBe(0.4999997364357114);
    expect(thresholdFraction(1000000000000000n, 6000000000001000n)).toBe(0.2062986418864849);
  });

  it('vector B: output fraction 0.16978997004532187 wins at stake 10^15 of 6000000000001000', () => {
    const out = parseVrfOutput('48HHFYbaz4d7XkJpWWJw5jN1vEBfPvU31nsX4Ljn74jDo3WyTojL')!;
    expect(outputFraction(out)).toBe(0.16978997004532187);
    expect(isWinning(out, 1000000000000000n, 6000000000001000n)).toBe(true);
    // The same output loses with a tenth of the stake (threshold ≈ 0.023).
    expect(isWinning(out, 100000000000000n, 6000000000001000n)).toBe(false);
  });

  it('wins exactly up to the bound', () => {
    const bound = winningBound(1n, 100n);
    expect(isWinning(bound, 1n, 100n)).toBe(true);
    expect(isWinning(bound + 1n, 1n, 100n)).toBe(false);
    expect(winningBound(0n, 100n)).toBe(0n);
  });

  it('rejects a stake outside 0..total', () => {
    expect(() => winningBound(5n, 0n)).toThrow(/total stake must be positive/);
    expect(() => winningBound(101n, 100n)).toThrow(/between 0 and total/);
  });
});
