import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Field, PrivateKey, Signature } from 'o1js';
import { fieldToStateHash, stateHashToField } from '../../oracle/chain/base58.js';
import { verifyReceipt } from '../../oracle/emitter/receipt.js';
import type { Receipt } from '../../oracle/emitter/types.js';
import { readKey, writeKey } from '../../oracle/keys.js';
import { nanoToMina } from '../../oracle/amount.js';
import { exampleNetwork } from '../../oracle/backfill/example.js';
import { SlotCommitments } from '../../oracle/backfill/slot-commitment.js';
import { LocalEtcd } from '../../oracle/emitter/local-etcd.js';
import { Etcd3 } from 'etcd3';
import { projectRoot } from '../../oracle/paths.js';
import { expectRefusal, freePort, runBin, tempProject } from '../helpers/project.js';
import { until } from '../helpers/wait.js';

type Project = Awaited<ReturnType<typeof tempProject>>;

describe('deploy and pool commands on the local chain (npm run chain)', () => {
  let p: Project;
  const ok = async (...args: string[]) => {
    const r = await p.run(...args);
    if (r.code !== 0) throw new Error(`mina-pool ${args.join(' ')}: exit ${r.code}: ${r.stderr.slice(-1500)}`);
    return r.stdout;
  };
  const pool = (...args: string[]) => ok('pool', ...args);

  beforeAll(async () => {
    p = await tempProject();
    await p.startChain();
  }, 120_000);
  afterAll(async () => {
    await p.cleanup();
  });

  it('refuses bad arguments before touching the chain, with exit code 2 and a message naming them', async () => {
    const cases: [string[], RegExp][] = [
      [['pool', 'vote', 'x', 'for', '--as', 'alice'], /argument 'number'.*expected a whole number, got "x"/],
      [['pool', 'vote', '0', 'maybe', '--as', 'alice'], /argument 'choice'.*expected for, against, abstain; got "maybe"/],
      [['pool', 'deposit', '-5', '--as', 'alice'], /an amount of MINA must be positive, got -5/],
      [['pool', 'deposit', '0', '--as', 'alice'], /must be more than 0/],
      [['pool', 'wait', '-3'], /must be from 1 to 10000000, got -3/],
      [['pool', 'frobnicate'], /unknown command 'frobnicate'/],
      [['pool', 'vote', '0', 'for'], /say who acts: --as NAME or --key FILE/],
      [['pool', 'status', '--alias', 'nowhere'], /no alias 'nowhere' in deploy\.config\.json/],
      [['deploy', 'local', '--pool', 'missing.json'], /missing\.json: cannot read the pool file \(no such file\)/],
      [['pool', 'propose', 'set-parameters', '--params', 'nope.json', '--as', 'alice'], /nope\.json: cannot read the parameters \(no such file\)/],
    ];
    for (const [args, message] of cases) {
      const t0 = Date.now();
      expectRefusal(await p.run(...args), 2, message);
      expect(Date.now() - t0).toBeLessThan(15_000);
    }
    const broken = JSON.parse(await readFile(join(p.dir, 'pool.json'), 'utf8'));
    broken.params.quorumPercent = 0;
    await writeFile(join(p.dir, 'broken.json'), JSON.stringify(broken));
    expectRefusal(await p.run('deploy', 'local', '--pool', 'broken.json'), 2, /broken\.json: field 'params\.quorumPercent': must be a whole number from 1 to 100/);
  }, 120_000);

  it('every command answers --help without doing anything', async () => {
    for (const args of [['--help'], ['pool', '--help'], ['pool', 'vote', '--help'], ['pool', 'propose', 'spend', '--help'], ['deploy', '--help'], ['chain', '--help'], ['start', '--help'], ['emitter', '--help'], ['member', '--help'], ['report', '--help'], ['bench', '--help'], ['backfill', '--help'], ['simulate', '--help'], ['pool', 'backfill', '--help'], ['pool', 'backfill', 'prove', '--help'], ['relay', '--help']]) {
      const r = await p.run(...args);
      expect({ args, code: r.code }).toEqual({ args, code: 0 });
      expect(r.stdout).toMatch(/^Usage: mina-pool/);
    }
  }, 120_000);

  it('deploys the pool file in one transaction, writes the addresses back and says what the keys can do', async () => {
    const out = await ok('deploy', 'local');
    expect(out).toMatch(/Deployed pool 'Example pool' under alias 'local'/);
    expect(out).toMatch(/What the keys can still do:\n- PoolDac, RewardPool and BackfillRegistry keys: nothing/);
    const config = JSON.parse(await readFile(join(p.dir, 'deploy.config.json'), 'utf8'));
    expect(config.deployAliases.local.addresses.PoolVault).toMatch(/^B62/);
    expect(config.deployAliases.local.addresses.BackfillRegistry).toMatch(/^B62/);
    const status = await pool('status');
    expect(status).toMatch(/members \(4\):\n {2}alice \(B62/);
    expect(status).toMatch(/quorum 50 %, approval 60 %, voting 480 slots/);
    expectRefusal(await p.run('deploy', 'local'), 1, /already deployed under 'local'.*--force/);
    // A dry run builds and signs the deploy transaction and leaves the deployment alone.
    const dry = JSON.parse(await ok('deploy', 'local', '--dry-run'));
    expect(dry.feePayer.body.fee).toBe('100000000');
    expect(await pool('status')).toMatch(/proposals \(0\)/);
  }, 180_000);

  it('walks a proposal through propose, vote, timelock and execute, saying when each step opens', async () => {
    const newcomer = PrivateKey.random().toPublicKey().toBase58();
    expect(await pool('propose', 'add-member', newcomer, '--as', 'alice')).toMatch(/proposal #0 \(add-member\) made; voting is open until slot 100490/);
    expectRefusal(await p.run('pool', 'propose', 'add-member', 'bob', '--as', 'alice'), 1, /bob is already a member: there is nothing to add/);
    await pool('vote', '0', 'for', '--as', 'alice');
    expect(await pool('vote', '0', 'for', '--as', 'bob')).toMatch(/for 2, against 0, abstain 0/);
    expectRefusal(await p.run('pool', 'vote', '0', 'against', '--as', 'bob'), 1, /bob already voted on proposal #0/);
    expectRefusal(await p.run('pool', 'execute', '0', '--as', 'carol'), 1, /voting is open until slot 100490 \(in 490 slots; on the local chain: npm run pool -- wait 490\)/);
    await pool('wait', '491');
    expectRefusal(await p.run('pool', 'execute', '0', '--as', 'carol'), 1, /its timelock ends at slot 100731 \(in 240 slots/);
    expect(await pool('wait', '240')).toMatch(/slot 100731/);
    expect(await pool('execute', '0', '--as', 'carol')).toMatch(/proposal #0 executed/);
    expect(await pool('members')).toContain(newcomer);
    expectRefusal(await p.run('pool', 'execute', '0', '--as', 'carol'), 1, /already executed/);
  }, 300_000);

  it('refuses a non-member in words', async () => {
    await writeKey(join(p.dir, 'keys', 'outsider.json'), PrivateKey.random());
    expectRefusal(await p.run('pool', 'propose', 'amend-constitution', '--key', 'keys/outsider.json'), 1, /is not a pool member: only members propose/);
  }, 60_000);

  it('reports an ended epoch, pays each share once after the window (opening claims on the way), and the operator its fee', async () => {
    expectRefusal(await p.run('pool', 'deposit', '1000000', '--as', 'dave'), 1, /dave holds [\d.]+ MINA: not enough for 1000000 MINA/);
    await pool('deposit', '100', '--as', 'dave');
    expectRefusal(await p.run('pool', 'report', '14', '--reward', '1', '--eligible', 'alice'), 1, /epoch 14 has not ended on chain: it ends at slot 107099/);
    expect(await pool('report', '13', '--reward', '12.5', '--eligible', 'alice,bob,carol')).toMatch(/report for epoch 13 posted: 12\.5 MINA \(fee 0\.625\) among 3; claims open at slot 101221/);
    expectRefusal(await p.run('pool', 'report', '12', '--reward', '1', '--eligible', 'alice'), 1, /epoch 12 is not after the last reported epoch 13/);
    expectRefusal(await p.run('pool', 'claim', '13', '--as', 'alice'), 1, /claims for epoch 13 open at slot 101221 \(in 490 slots/);
    await pool('wait', '490');
    expect(await pool('claim', '13', '--as', 'alice')).toMatch(/claimed 3\.958333333 MINA for epoch 13/);
    expectRefusal(await p.run('pool', 'claim', '13', '--as', 'alice'), 1, /alice already claimed its share of epoch 13/);
    expectRefusal(await p.run('pool', 'claim', '13', '--as', 'dave'), 1, /dave is not eligible in epoch 13: nothing to claim/);
    const status = JSON.parse(await pool('status', '--json'));
    expect(status.reports[0]).toMatchObject({ epoch: 13, reward: '12.5', fee: '0.625', share: '3.958333333', claimsOpened: true, claimed: 1 });
  }, 300_000);

  it('a member whose machine never saw the deploy uses the pool with deploy.config.json and its own key', async () => {
    const other = await tempProject('pool-member-');
    try {
      // Only the alias (with the addresses) and the member's own key: no state/, no pool.json.
      await copyFile(join(p.dir, 'deploy.config.json'), join(other.dir, 'deploy.config.json'));
      await mkdir(join(other.dir, 'keys'), { recursive: true });
      await copyFile(join(p.dir, 'keys', 'local', 'bob.json'), join(other.dir, 'keys', 'me.json'));
      for (const f of ['pool.json', 'CONSTITUTION.md']) await writeFile(join(other.dir, f), '');
      const status = await runBin(other.dir, ['pool', 'status', '--json']);
      expect(status.code).toBe(0);
      const json = JSON.parse(status.stdout);
      expect(json.members).toHaveLength(5);
      expect(json.reports[0].epoch).toBe(13);
      const claimed = await runBin(other.dir, ['pool', 'claim', '13', '--key', 'keys/me.json']);
      expect(claimed.stdout).toMatch(/claimed 3\.958333333 MINA for epoch 13/);
    } finally {
      await other.cleanup();
    }
  }, 180_000);

  it('two processes act on one pool at once: both land', async () => {
    const [a, b] = await Promise.all([p.run('pool', 'claim', '13', '--as', 'carol'), p.run('pool', 'propose', 'amend-constitution', '--as', 'dave')]);
    expect({ a: a.code, b: b.code, err: a.stderr.slice(-300) + b.stderr.slice(-300) }).toMatchObject({ a: 0, b: 0 });
    expect(a.stdout).toMatch(/claimed 3\.958333333 MINA/);
    expect(b.stdout).toMatch(/proposal #1 \(amend-constitution\) made/);
    const [v1, v2] = await Promise.all([p.run('pool', 'vote', '1', 'for', '--as', 'alice'), p.run('pool', 'vote', '1', 'against', '--as', 'bob')]);
    expect([v1.code, v2.code]).toEqual([0, 0]);
    expect(await pool('status')).toMatch(/#1 amend-constitution by dave: active; for 1, against 1, abstain 0/);
  }, 180_000);

  it('slashes an equivocation from two signed proposals, and a dispute freezes claims', async () => {
    await pool('wait', String(15 * 7140 - 101221 + 5));
    await pool('report', '14', '--reward', '2', '--eligible', 'alice,dave');
    const slot = String(14 * 7140 + 2);
    const a = JSON.parse(await pool('sign-proposal', slot, '3NK4BpDSekaqsG6tx8Nse2zJchRft2JpnbvMiog55WCr5xJZaKeP', '--as', 'dave'));
    const b = JSON.parse(await pool('sign-proposal', slot, '3NKxezeG7TbnhK5RiBrQfs2CWKT5rWe4Fheosbxii48Yts57tUSe', '--as', 'dave'));
    await writeFile(join(p.dir, 'same.json'), JSON.stringify([a, a]));
    expectRefusal(await p.run('pool', 'slash', '14', '--proposals', 'same.json', '--as', 'bob'), 1, /the same block: that is not an equivocation/);
    await writeFile(join(p.dir, 'equivocation.json'), JSON.stringify([a, b]));
    expect(await pool('slash', '14', '--proposals', 'equivocation.json', '--as', 'bob')).toMatch(/dave slashed for epoch 14/);
    expect(await pool('dispute', '14', '--as', 'carol')).toMatch(/epoch 14 disputed/);
    await pool('wait', '480');
    expectRefusal(await p.run('pool', 'claim', '14', '--as', 'alice'), 1, /epoch 14 is disputed: claims wait for a ruling/);
    expect(await pool('status')).toMatch(/epoch 14: reward 2 MINA \(fee 0\.1\), 1 eligible, share [\d.]+ MINA, claims open at slot \d+, DISPUTED, slashed dave/);
  }, 300_000);

  it('backfill: a designated producer proves against the served commitment, the operator commits it, anyone pays it once', async () => {
    // Epoch 15 has passed up to about slot 107585 here. The example network's producer a lost a
    // slot of it and is designated three slots later; the ledgers are files in the explorer's format.
    const net = exampleNetwork(15, 47);
    const [lost] = net.wins(net.a, net.current, net.start + 10, 1) as [number];
    const S = lost + 3;
    const ledgerFile = async (name: string, ledger: typeof net.current) => {
      await writeFile(join(p.dir, name), JSON.stringify(ledger.accounts.map((x) => ({ pk: x.delegate, balance: nanoToMina(x.balance), delegate: x.delegate }))));
      return name;
    };
    const ledgerArgs = ['--ledger', await ledgerFile('ledger-15.json', net.current), '--seed', net.current.seed.toString(), '--previous-ledger', await ledgerFile('ledger-14.json', net.previous), '--previous-seed', net.previous.seed.toString()];
    await writeKey(join(p.dir, 'keys', 'producer.json'), net.a);
    // A stand-in for the emitter's GET /v1/backfill/:slot, answering with the view the emitter
    // builds (the same code); the emitter's own route is tested in test/oracle/emitter/live-commitment.test.ts.
    const commitments = new SlotCommitments({ epoch: 15, current: net.current, previous: net.previous }, 47);
    const view = commitments.view({ slot: S, producer: net.a.toPublicKey().toBase58(), lostSlot: lost });
    const emitter = createServer((req, res) => {
      const served = req.url === `/v1/backfill/${S}`;
      res.writeHead(served ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(served ? view : { code: 'NO_DESIGNATION', message: `nobody is waiting for slot ${req.url?.split('/').pop()}` }));
    });
    await new Promise<void>((r) => emitter.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(emitter.address() as AddressInfo).port}`;
    try {
      expect(await pool('backfill', 'status')).toMatch(/^commitment in force: none yet\n/);
      // Refusals: before anything is sent, and in the pool's words.
      expectRefusal(await p.run('pool', 'backfill', 'prove', String(S), '--emitter', url, ...ledgerArgs, '--key', 'keys/producer.json'), 2, /required option '--out <file>' not specified/);
      expectRefusal(await p.run('pool', 'backfill', 'prove', String(S), '--emitter', url, '--ledger', 'ledger-15.json', '--seed', '5', '--previous-ledger', 'ledger-14.json', '--previous-seed', net.previous.seed.toString(), '--key', 'keys/producer.json', '--out', 'x.json'), 2, /the current epoch's seed differs from the emitter's \(5 here, 24301 served\)/);
      expectRefusal(await p.run('pool', 'backfill', 'prove', String(S + 1), '--emitter', url, ...ledgerArgs, '--key', 'keys/producer.json', '--out', 'x.json'), 1, new RegExp(`has no commitment for slot ${S + 1}: nobody is waiting for slot ${S + 1}`));
      expectRefusal(await p.run('pool', 'backfill', 'prove', String(S), '--emitter', url, ...ledgerArgs, '--as', 'bob', '--out', 'x.json'), 1, new RegExp(`slot ${S} is designated to ${net.a.toPublicKey().toBase58()}, not to bob`));
      expectRefusal(await p.run('pool', 'backfill', 'pay', '--proof', 'missing.json', '--as', 'carol'), 2, /missing\.json: cannot read the DesignatedProducer proof \(no such file\)/);

      const proved = await pool('backfill', 'prove', String(S), '--emitter', url, ...ledgerArgs, '--key', 'keys/producer.json', '--out', 'designation.json');
      expect(proved).toMatch(new RegExp(`slot ${S}: B62\\w+ is its designated producer \\(it lost slot ${lost}\\); proof written to designation\\.json`));
      expectRefusal(await p.run('pool', 'backfill', 'pay', '--proof', 'designation.json', '--as', 'carol'), 1, /the oracle has not committed any backfill range yet/);
      expect(await pool('backfill', 'commit', String(S), '--emitter', url, ...ledgerArgs)).toMatch(new RegExp(`slot ${S}'s commitment posted`));
      expect(await pool('backfill', 'commit', String(S), '--emitter', url, ...ledgerArgs)).toMatch(/already in force: nothing to post/);
      const status = JSON.parse(await pool('backfill', 'status', '--json'));
      expect(status).toMatchObject({ commitment: { epoch: 15, from: S, to: S, window: 47, hash: view.commitment }, nextFrom: S + 1, compensation: '10000000000', recorded: [] });
      expect(await pool('backfill', 'pay', '--proof', 'designation.json', '--as', 'carol')).toMatch(new RegExp(`compensated 10 MINA for slot ${S}`));
      expectRefusal(await p.run('pool', 'backfill', 'pay', '--proof', 'designation.json', '--as', 'carol'), 1, new RegExp(`slot ${S} was already compensated`));
      expect(await pool('backfill', 'status')).toMatch(new RegExp(`recorded designations \\(1\\)\\n  slot ${S}: B62`));
    } finally {
      await new Promise((r) => emitter.close(r));
    }
  }, 300_000);

  it('devnet: names an unreachable endpoint', async () => {
    const config = JSON.parse(await readFile(join(p.dir, 'deploy.config.json'), 'utf8'));
    config.deployAliases.devnet.url = 'http://127.0.0.1:9/graphql';
    await writeFile(join(p.dir, 'deploy.config.json'), JSON.stringify(config));
    expectRefusal(await p.run('deploy', 'devnet'), 1, /http:\/\/127\.0\.0\.1:9\/graphql: cannot reach the chain/);
    expectRefusal(await p.run('pool', 'status', '--alias', 'devnet'), 1, /cannot reach the chain/);
  }, 60_000);

  it('npm run emitter serves the deployed pool: members from the chain, the operator certifies receipts, an outsider is refused', async () => {
    expectRefusal(await p.run('emitter', '--operator', 'alice', '--port', '0'), 2, /is not the pool's operator/);
    // The live commitment's ledgers: each missing or wrong part named before anything starts.
    expectRefusal(await p.run('emitter', '--backfill-ledger', 'ledger.json'), 2, /--backfill-ledger: designated producers are named by the live waitlist; add --waitlist/);
    expectRefusal(await p.run('emitter', '--waitlist', '--backfill-ledger', 'ledger.json', '--backfill-seed', '5'), 2, /--backfill-ledger needs --backfill-epoch and --backfill-seed/);
    expectRefusal(await p.run('emitter', '--backfill-seed', '5'), 2, /the --backfill-… options go with --backfill-ledger/);
    expectRefusal(await p.run('emitter', '--waitlist', '--backfill-ledger', 'ledger.json', '--backfill-epoch', '1', '--backfill-seed', '5', '--backfill-previous-seed', '6'), 2, /the previous epoch needs both --backfill-previous-ledger and --backfill-previous-seed/);
    expectRefusal(await p.run('emitter', '--waitlist', '--daemon', 'http://127.0.0.1:9/graphql', '--backfill-ledger', 'nothing.json', '--backfill-epoch', '1', '--backfill-seed', '5', '--port', '0'), 2, /nothing\.json: cannot read the ledger \(no such file\)/);
    // A port in use: one line, and the process ends (nothing left running behind it).
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    try {
      const port = (taken.address() as AddressInfo).port;
      expectRefusal(await p.run('emitter', '--port', String(port), '--no-bridge'), 1, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use`));
    } finally {
      await new Promise((r) => taken.close(r));
    }
    const child = spawn(process.execPath, [join(projectRoot(), 'dist', 'scripts', 'mina-pool.js'), 'emitter', '--port', '0', '--slot-seconds', '5', '--no-bridge'], { cwd: p.dir, stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      let err = '';
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const deadline = Date.now() + 60_000;
      while (!/Ctrl-C to stop/.test(err)) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the emitter did not start: ${err.slice(-1500)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const base = /dashboard: (\S+)\//.exec(err)![1]!;
      expect(err).toMatch(/strategy first-delivered, slot \d+ \(5 s slots\), \d+ members/);
      const info = (await (await fetch(`${base}/v1/pool`)).json()) as { poolTag: string; operator: string; currentSlot: number };
      const keyFile = (name: string) => readKey(join(p.dir, 'keys', 'local', `${name}.json`));
      expect(info.operator).toBe((await keyFile('operator')).toPublicKey().toBase58());
      const propose = (key: PrivateKey) => {
        const blockHash = fieldToStateHash(BigInt(info.currentSlot) * 3n + 1n);
        const signature = Signature.create(key, [Field(info.poolTag), Field(info.currentSlot), Field(stateHashToField(blockHash)!)]).toBase58();
        return fetch(`${base}/v1/proposals`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ slot: info.currentSlot, member: key.toPublicKey().toBase58(), blockHash, payload: { test: true }, signature }) });
      };
      const alice = await propose(await keyFile('alice'));
      expect(alice.status).toBe(200);
      const { receipt } = (await alice.json()) as { receipt: Receipt };
      expect(verifyReceipt(receipt, info.operator, info.poolTag)).toBe(true);
      const outsider = await propose(PrivateKey.random());
      expect(outsider.status).toBe(403);
      expect(await outsider.json()).toMatchObject({ code: 'NOT_MEMBER' });
      child.kill('SIGTERM');
      expect(await new Promise((r) => child.once('exit', r))).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  }, 120_000);

  it('npm run emitter --replica: two replicas of the deployed pool agree through etcd, one block reaches the relay, Ctrl-C frees their keys at once', async () => {
    expectRefusal(await p.run('emitter', '--replica', 'r1'), 2, /--replica: replicas agree through etcd; give its client URLs with --etcd/);
    expectRefusal(await p.run('emitter', '--replica', 'r1', '--etcd', 'http://127.0.0.1:2379'), 2, /--replica: replicas hand winners to one place, the gateway's relay; give it with --relay/);
    expectRefusal(await p.run('emitter', '--etcd', 'http://127.0.0.1:2379'), 2, /--etcd and --advertise go with --replica/);
    expectRefusal(await p.run('emitter', '--replica', 'no good'), 2, /a replica's name is 1 to 32 letters, digits or dashes, got "no good"/);
    expectRefusal(await p.run('emitter', '--replica', 'r1', '--etcd', 'nowhere'), 2, /expected a URL/);
    const etcd = await LocalEtcd.start({ dir: join(p.dir, 'etcd') });
    const observer = new Etcd3({ hosts: etcd.endpoints });
    const children: ChildProcess[] = [];
    const bin = join(projectRoot(), 'dist', 'scripts', 'mina-pool.js');
    const started = async (args: string[], ready: RegExp) => {
      const child = spawn(process.execPath, [bin, ...args], { cwd: p.dir, stdio: ['ignore', 'ignore', 'pipe'] });
      children.push(child);
      let err = '';
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const deadline = Date.now() + 60_000;
      while (!ready.test(err)) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`mina-pool ${args[0]} did not start: ${err.slice(-1500)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      return { child, err: () => err };
    };
    try {
      const relayPort = String(await freePort());
      await started(['relay', '--spool', 'gateway-spool', '--port', relayPort], /Ctrl-C to stop/);
      const relay = `http://127.0.0.1:${relayPort}`;
      const replicaArgs = (id: string) => ['emitter', '--port', '0', '--slot-seconds', '5', '--no-bridge', '--replica', id, '--etcd', etcd.endpoints.join(','), '--relay', `${relay}/v1/blocks`];
      const [r1, r2] = [await started(replicaArgs('r1'), /Ctrl-C to stop/), await started(replicaArgs('r2'), /Ctrl-C to stop/)];
      expect(r1.err()).toMatch(/replica r1 of the emitter, agreeing through etcd, handing winners to http/);
      const urls = [r1, r2].map((r) => /dashboard: (\S+)\//.exec(r.err())![1]!);
      const info = (await (await fetch(`${urls[0]}/v1/pool`)).json()) as { poolTag: string; currentSlot: number };
      const alice = await readKey(join(p.dir, 'keys', 'local', 'alice.json'));
      const slot = info.currentSlot;
      const blockHash = fieldToStateHash(BigInt(slot) * 7n + 3n);
      const signature = Signature.create(alice, [Field(info.poolTag), Field(slot), Field(stateHashToField(blockHash)!)]).toBase58();
      const body = JSON.stringify({ slot, member: alice.toPublicKey().toBase58(), blockHash, payload: { test: true }, signature });
      const statuses = await Promise.all(urls.map(async (u) => (await fetch(`${u}/v1/proposals`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status));
      expect(statuses).toEqual([200, 200]);
      const held = async () => ((await (await fetch(`${relay}/v1/blocks`)).json()) as { blocks: { slot: number; blockHash: string }[] }).blocks;
      const deadline = Date.now() + 20_000;
      while ((await held()).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(await held()).toEqual([{ slot, blockHash }]);
      // r2 advertises its URL once it listens; r1 reads the replicas' keys every third of the lease.
      type Seen = { connected: boolean; replicas: { id: string; url?: string }[] };
      const seen = async () => (await (await fetch(`${urls[0]}/v1/replicas`)).json()) as Seen;
      let replicasSeen: Seen | undefined;
      await until(async () => (replicasSeen = await seen()).replicas.filter((r) => r.url).length === 2, "r2's URL in r1's list of replicas", 3_000);
      expect(replicasSeen).toMatchObject({ connected: true, replicas: [{ id: 'r1', url: urls[0] }, { id: 'r2', url: urls[1] }] });
      // Ctrl-C: each replica revokes its lease, so its keys go at once (not a second later, when the lease would run out).
      for (const r of [r1, r2]) {
        const exited = new Promise((res) => r.child.once('exit', res));
        r.child.kill('SIGINT');
        expect(await exited).toBe(0);
      }
      expect(await observer.getAll().prefix(`/mina-pool/${info.poolTag}/replicas/`).keys()).toEqual([]);
    } finally {
      for (const c of children) c.kill('SIGKILL');
      observer.close();
      await etcd.stop();
    }
  }, 180_000);
});
