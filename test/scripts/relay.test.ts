import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fieldToStateHash } from '../../oracle/chain/base58.js';
import { projectRoot } from '../../oracle/paths.js';
import { expectRefusal, freePort, runBin } from '../helpers/project.js';

/** `mina-pool relay` as a process, as the gateway's operator runs it: one block per slot into the spool. */

const block = (n: number) => fieldToStateHash(BigInt(n) * 31n + 7n);

describe('relay command', () => {
  let dir: string;
  let child: ChildProcess | undefined;

  afterAll(async () => {
    child?.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('keeps one block per slot: the same block again is confirmed once, another is refused; a port in use is said', async () => {
    dir = await mkdtemp(join(tmpdir(), 'relay-'));
    const port = await freePort();
    const spool = join(dir, 'spool');
    const c = spawn(process.execPath, [join(projectRoot(), 'dist', 'scripts', 'mina-pool.js'), 'relay', '--spool', spool, '--port', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = c;
    let err = '';
    c.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const deadline = Date.now() + 20_000;
    while (!/Ctrl-C to stop/.test(err)) {
      if (Date.now() > deadline || c.exitCode !== null) throw new Error(`the relay did not start: ${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const post = async (slot: number, hash: string, headers: Record<string, string> = {}) => {
      const r = await fetch(`http://127.0.0.1:${port}/v1/blocks`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': hash, ...headers }, body: JSON.stringify({ slot, member: 'B62member', blockHash: hash, block: { slot } }) });
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    };
    expect(await post(5, block(1))).toEqual({ status: 200, body: { stored: true } });
    expect(await post(5, block(1))).toEqual({ status: 200, body: { stored: false } });
    expect(await post(5, block(2))).toMatchObject({ status: 409, body: { code: 'SLOT_TAKEN', message: expect.stringContaining('another block for slot 5') } });
    expect(await post(6, block(3), { 'idempotency-key': block(4) })).toMatchObject({ status: 400, body: { code: 'MALFORMED' } });
    expect((await fetch(`http://127.0.0.1:${port}/v1/blocks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"slot":-1}' })).status).toBe(400);
    expect(await readdir(spool)).toEqual([`slot-0000000005-${block(1)}.json`]);
    expect(JSON.parse(await readFile(join(spool, `slot-0000000005-${block(1)}.json`), 'utf8'))).toEqual({ slot: 5, member: 'B62member', blockHash: block(1), block: { slot: 5 } });
    expect(await (await fetch(`http://127.0.0.1:${port}/v1/blocks`)).json()).toEqual({ blocks: [{ slot: 5, blockHash: block(1) }] });
    expect(err).toMatch(new RegExp(`slot 5: ${block(1)} from B62member\\n.*slot 5: ${block(1)} from B62member \\(already held\\)`, 's'));
    expectRefusal(await runBin(dir, ['relay', '--port', String(port), '--spool', spool]), 1, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use`));
    c.kill('SIGTERM');
    expect(await new Promise((r) => c.once('exit', r))).toBe(0);
  }, 60_000);
});
