import { describe, expect, it } from '@jest/globals';
import { getEventListeners } from 'node:events';
import { ManualTime } from '../../../oracle/emitter/slot-clock.js';

describe('the manual clock the tests drive', () => {
  it('wakes sleepers in order when set, rejects them when their signal aborts, and leaves no listener on the signal once woken', async () => {
    const time = new ManualTime(1_000);
    const abort = new AbortController();
    const woken: number[] = [];
    // A loop sleeps once a slot with the same signal: 50 sleeps, each woken by the clock.
    for (let slot = 1; slot <= 50; slot++) {
      const sleep = time.sleepUntil(1_000 + slot * 10, abort.signal).then(() => woken.push(slot));
      await time.advance(10);
      await sleep;
    }
    expect(woken).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(getEventListeners(abort.signal, 'abort')).toHaveLength(0);
    // One still asleep keeps its listener until the signal aborts, then rejects with its reason.
    const pending = time.sleepUntil(10_000, abort.signal);
    expect(getEventListeners(abort.signal, 'abort')).toHaveLength(1);
    abort.abort(new Error('stopped'));
    await expect(pending).rejects.toThrow('stopped');
    await time.set(20_000);
    await expect(time.sleepUntil(30_000, abort.signal)).rejects.toThrow('stopped');
    await expect(time.set(5)).rejects.toThrow(/does not go back/);
  });
});
