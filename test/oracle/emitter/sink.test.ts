import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpoolSink, type Emission } from '../../../oracle/emitter/sink.js';

/** The spool sink on a real directory: the handoff, the flush, and what a crash leaves behind. */

const emission = (slot: number, blockHash: string): Emission => ({ slot, member: 'B62member', blockHash, payload: { protocol_state: { slot }, pad: 'x'.repeat(3000) } });

describe('spool sink', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spool-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('hands the block over (whole, under its final name) before the flush, and resolves after it', async () => {
    const sink = new SpoolSink(dir);
    const file = join(dir, SpoolSink.fileName(7, '3NKa'));
    let seenAtHandoff: unknown;
    let resolved = false;
    const delivery = sink.deliver(emission(7, '3NKa'), () => {
      // The consumer's view at the handoff: the block is readable, and deliver has not resolved yet.
      seenAtHandoff = JSON.parse(readFileSync(file, 'utf8'));
      expect(resolved).toBe(false);
    });
    void delivery.then(() => (resolved = true));
    await delivery;
    expect(seenAtHandoff).toEqual({ slot: 7, member: 'B62member', blockHash: '3NKa', block: emission(7, '3NKa').payload });
    expect(await readdir(dir)).toEqual([SpoolSink.fileName(7, '3NKa')]);
  });

  it('does nothing for the same block again, and refuses another block for the slot', async () => {
    const sink = new SpoolSink(dir);
    await sink.deliver(emission(7, '3NKa'));
    const before = await stat(join(dir, SpoolSink.fileName(7, '3NKa')));
    let handed = 0;
    await sink.deliver(emission(7, '3NKa'), () => handed++);
    expect(handed).toBe(1);
    expect((await stat(join(dir, SpoolSink.fileName(7, '3NKa')))).mtimeMs).toBe(before.mtimeMs);
    await expect(sink.deliver(emission(7, '3NKb'))).rejects.toThrow('the spool already holds another block for slot 7');
    expect(await readdir(dir)).toEqual([SpoolSink.fileName(7, '3NKa')]);
  });

  it('keeps a whole file an earlier run left, and rewrites one a crash left empty', async () => {
    const whole = join(dir, SpoolSink.fileName(8, '3NKw'));
    const broken = join(dir, SpoolSink.fileName(9, '3NKe'));
    await new SpoolSink(dir).deliver(emission(8, '3NKw'));
    const kept = await stat(whole);
    // A power cut after the rename and before the flush can leave the name with no data.
    await writeFile(broken, '');
    const restarted = new SpoolSink(dir);
    await restarted.deliver(emission(8, '3NKw'));
    await restarted.deliver(emission(9, '3NKe'));
    expect((await stat(whole)).mtimeMs).toBe(kept.mtimeMs);
    expect(JSON.parse(await readFile(broken, 'utf8'))).toMatchObject({ slot: 9, blockHash: '3NKe' });
    await expect(restarted.deliver(emission(9, '3NKx'))).rejects.toThrow('another block for slot 9');
    expect((await readdir(dir)).sort()).toEqual([SpoolSink.fileName(8, '3NKw'), SpoolSink.fileName(9, '3NKe')]);
  });
});
