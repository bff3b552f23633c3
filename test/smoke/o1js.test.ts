import { Field, Poseidon } from 'o1js';
import { describe, expect, it } from '@jest/globals';
describe('o1js', () => {
  it('hashes', () => {
    expect(Poseidon.hash([Field(1)]).toBigInt()).toBeGreaterThan(0n);
  });
});
