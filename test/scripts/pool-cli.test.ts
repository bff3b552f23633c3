import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrivateKey } from 'o1js';
import { writeKey } from '../../oracle/chain/keys.js';
import { projectRoot } from '../../oracle/paths.js';

/** A temporary project: the shipped deploy.config.json, pool.json and CONSTITUTION.md. */
let dir: string;

function run(script: 'deploy' | 'pool', args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('node', [join(projectRoot(), 'dist', 'scripts', `${script}.js`), ...args], { cwd: dir, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}
const pool = (...args: string[]) => run('pool', args);

async function ok(p: Promise<{ code: number; stdout: string; stderr: string }>) {
  const r = await p;
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

async function refused(p: Promise<{ code: number; stdout: string; stderr: string }>, code: number, message: RegExp) {
  const r = await p;
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code, stderr: expect.stringMatching(message) });
  expect(r.stderr).not.toMatch(/unexpected error| at .*\.js:\d+/);
}

describe('deploy and pool commands on the local alias', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pool-project-'));
    for (const f of ['deploy.config.json', 'pool.json', 'CONSTITUTION.md']) await copyFile(join(projectRoot(), f), join(dir, f));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('deploys the pool file, writes the addresses back and keeps the state', async () => {
    const out = await ok(run('deploy', ['local']));
    expect(out).toMatch(/Deployed pool 'Example pool' under alias 'local'/);
    const config = JSON.parse(await readFile(join(dir, 'deploy.config.json'), 'utf8'));
    expect(config.deployAliases.local.addresses.PoolDac).toMatch(/^B62/);
    expect(out).toContain(config.deployAliases.local.addresses.RewardPool);
    const status = await ok(pool('status'));
    expect(status).toMatch(/members \(4\):\n {2}alice \(B62/);
    expect(status).toMatch(/quorum 50 %, approval 60 %, voting 480 slots/);
    await refused(run('deploy', ['local']), 1, /already deployed under 'local'.*--force/);
    // A dry run builds and signs the deploy transaction and leaves the deployment alone.
    const dry = JSON.parse(await ok(run('deploy', ['local', '--dry-run'])));
    expect(dry.feePayer.body.fee).toBe('100000000');
    expect(dry.accountUpdates.map((u: { body: { publicKey: string } }) => u.body.publicKey)).toContain(config.deployAliases.local.addresses.PoolDac);
    expect(await ok(pool('status'))).toMatch(/proposals \(0\)/);
  }, 120_000);

  it('walks a proposal through propose, vote, timelock and execute', async () => {
    const newcomer = PrivateKey.random().toPublicKey().toBase58();
    expect(await ok(pool('propose', 'add-member', newcomer, '--as', 'alice'))).toMatch(/proposal #0 \(add-member\) created; voting is open until slot 100480/);
    await ok(pool('vote', '0', 'for', '--as', 'alice'));
    expect(await ok(pool('vote', '0', 'for', '--as', 'bob'))).toMatch(/for 2, against 0, abstain 0/);
    await refused(pool('vote', '0', 'against', '--as', 'bob'), 1, /already voted on proposal 0/);
    await refused(pool('execute', '0', '--as', 'carol'), 1, /cannot be executed: voting is still open/);
    expect(await ok(pool('wait', '721'))).toMatch(/slot 100721/);
    expect(await ok(pool('execute', '0', '--as', 'carol'))).toMatch(/proposal #0 executed/);
    expect(await ok(pool('members'))).toContain(newcomer);
    await refused(pool('execute', '0', '--as', 'carol'), 1, /already executed/);
    // A proposal without a key in its payload is saved and read back by the next command.
    expect(await ok(pool('propose', 'amend-constitution', '--as', 'bob'))).toMatch(/proposal #1 \(amend-constitution\) created/);
    expect(await ok(pool('status'))).toMatch(/#1 amend-constitution by bob — active/);
  }, 180_000);

  it('refuses a non-member in words', async () => {
    await writeKey(join(dir, 'keys', 'outsider.json'), PrivateKey.random());
    await refused(pool('propose', 'amend-constitution', '--key', 'keys/outsider.json'), 1, /is not a pool member/);
  }, 60_000);

  it('posts a report, opens claims after the window, pays each share once', async () => {
    await ok(pool('deposit', '100', '--as', 'dave'));
    const posted = await ok(pool('report', '30', '--reward', '12.5', '--eligible', 'alice,bob,carol'));
    expect(posted).toMatch(/report for epoch 30 posted: 12\.5 MINA among 3; claims open at slot 101201/);
    await refused(pool('report', '29', '--reward', '1', '--eligible', 'alice'), 1, /epoch 29 is not after the last reported epoch 30/);
    await refused(pool('claim', '30', '--as', 'alice'), 1, /claims for epoch 30 open at slot 101201/);
    await ok(pool('wait', '480'));
    expect(await ok(pool('claim', '30', '--as', 'alice'))).toMatch(/claimed 4\.166666666 MINA for epoch 30/);
    await refused(pool('claim', '30', '--as', 'alice'), 1, /already claimed its share of epoch 30/);
    await refused(pool('claim', '30', '--as', 'dave'), 1, /not eligible in epoch 30: nothing to claim/);
    expect(await ok(pool('status'))).toMatch(/epoch 30: reward 12\.5 MINA, 3 eligible, share 4\.166666666 MINA/);
  }, 180_000);

  it('slashes an equivocation from two signed proposals, and a dispute freezes claims', async () => {
    await ok(pool('report', '31', '--reward', '2', '--eligible', 'alice,dave'));
    const slot = String(31 * 7140 + 2);
    const a = JSON.parse(await ok(pool('sign-proposal', slot, '3NK4BpDSekaqsG6tx8Nse2zJchRft2JpnbvMiog55WCr5xJZaKeP', '--as', 'dave')));
    const b = JSON.parse(await ok(pool('sign-proposal', slot, '3NKxezeG7TbnhK5RiBrQfs2CWKT5rWe4Fheosbxii48Yts57tUSe', '--as', 'dave')));
    await writeFile(join(dir, 'same.json'), JSON.stringify([a, a]));
    await refused(pool('slash', '31', '--proposals', 'same.json', '--as', 'bob'), 1, /The two proposals are for the same block/);
    await writeFile(join(dir, 'equivocation.json'), JSON.stringify([a, b]));
    expect(await ok(pool('slash', '31', '--proposals', 'equivocation.json', '--as', 'bob'))).toMatch(/slashed for epoch 31/);
    expect(await ok(pool('dispute', '31', '--as', 'carol'))).toMatch(/epoch 31 disputed/);
    await ok(pool('wait', '480'));
    await refused(pool('claim', '31', '--as', 'alice'), 1, /epoch 31 is disputed: claims wait for a ruling/);
    expect(await ok(pool('status'))).toMatch(/epoch 31: reward 2 MINA, 2 eligible, share 2\.000000002 MINA, claims open at slot \d+, DISPUTED, slashed 1/);
  }, 180_000);

  it('rejects bad input with exit code 2 and a message naming it', async () => {
    await refused(pool('vote', 'x', 'for', '--as', 'alice'), 2, /--the proposal id: expected an integer, got "x"/);
    await refused(pool('vote', '0', 'maybe', '--as', 'alice'), 2, /a vote is for, against or abstain, got 'maybe'/);
    await refused(pool('frobnicate'), 2, /unknown command 'frobnicate'/);
    await refused(pool('vote', '0', 'for'), 2, /say who acts: --as NAME/);
    await refused(pool('status', '--alias', 'nowhere'), 2, /no alias 'nowhere' in deploy.config.json/);
    await refused(run('deploy', ['local', '--pool', 'missing.json']), 2, /missing\.json: cannot read the pool file/);
    const broken = JSON.parse(await readFile(join(dir, 'pool.json'), 'utf8'));
    broken.params.quorumPercent = 0;
    await writeFile(join(dir, 'broken.json'), JSON.stringify(broken));
    await refused(run('deploy', ['local', '--force', '--pool', 'broken.json']), 2, /broken\.json: field 'params\.quorumPercent': must be 1–100/);
  }, 60_000);

  it('devnet: asks for the alias\'s key files, and names an unreachable endpoint', async () => {
    await refused(run('deploy', ['devnet']), 2, /keys\/devnet\.json: cannot read the key file \(no such file\)/);
    const config = JSON.parse(await readFile(join(dir, 'deploy.config.json'), 'utf8'));
    config.deployAliases.devnet.url = 'http://127.0.0.1:9/graphql';
    await writeFile(join(dir, 'deploy.config.json'), JSON.stringify(config));
    for (const f of ['devnet.json', 'devnet-reward-pool.json', 'devnet-feepayer.json']) await writeKey(join(dir, 'keys', f), PrivateKey.random());
    const remotePool = { ...JSON.parse(await readFile(join(dir, 'pool.json'), 'utf8')), oracle: { publicKey: PrivateKey.random().toPublicKey().toBase58() }, members: [{ name: 'x', publicKey: PrivateKey.random().toPublicKey().toBase58() }] };
    await writeFile(join(dir, 'remote.json'), JSON.stringify(remotePool));
    await refused(run('deploy', ['devnet', '--pool', 'remote.json']), 1, /http:\/\/127\.0\.0\.1:9\/graphql: cannot (reach the network to )?fetch account/);
  }, 60_000);
});
