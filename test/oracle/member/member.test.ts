import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bool, Field, PrivateKey, UInt32 } from 'o1js';
import { DesignatedProducerProof, DesignationStatement } from '../../../contracts/DesignatedProducer.js';
import { EmitterService, fixedMembers, type EmitterServiceOptions } from '../../../oracle/emitter/service.js';
import { ManualTime, SlotClock } from '../../../oracle/emitter/slot-clock.js';
import { writeKey } from '../../../oracle/keys.js';
import { projectRoot } from '../../../oracle/paths.js';
import { SimulatedDaemon } from '../../../oracle/sim/daemon.js';
import { chainTo, recordedBlocks } from '../../helpers/recorded-blocks.js';
import { until } from '../../helpers/wait.js';
import { freePort } from '../../helpers/project.js';

/**
 * `mina-pool member` as a real process beside a simulated daemon (the daemon's GraphQL schema,
 * its WebSocket subscription protocol) announcing real mainnet blocks, delivering to a real
 * emitter service whose clock the test drives.
 */

const blocks = recordedBlocks();
const hash = (prefix: string) => [...blocks.keys()].find((h) => h.startsWith(prefix))!;
const SLOT_MS = 60_000;

describe('member command', () => {
  let dir: string;
  let daemon: SimulatedDaemon;
  let service: EmitterService;
  let emitterUrl: string;
  const time = new ManualTime(0);
  const member = PrivateKey.random();
  const operator = PrivateKey.random();
  const children: ChildProcess[] = [];
  const checked: DesignatedProducerProof[] = [];

  function startMember(args: string[]): { child: ChildProcess; stderr: () => string } {
    let err = '';
    const child = spawn(process.execPath, [join(projectRoot(), 'dist', 'scripts', 'mina-pool.js'), 'member', '--emitter', emitterUrl, '--daemon', daemon.url, '--key', join(dir, 'member.json'), '--receipts', join(dir, 'receipts'), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    children.push(child);
    return { child, stderr: () => err };
  }

  /** An emitter service for the member (its clock driven by the test), its data in `name`. */
  const startEmitter = (name: string, clock: ManualTime, extra: Partial<EmitterServiceOptions> = {}) =>
    EmitterService.start({
      dataDir: join(dir, name),
      clock: new SlotClock({ genesisMs: 0, slotMs: SLOT_MS, time: clock }),
      strategy: 'first-delivered',
      window: { earlyMs: 2_000, closeMs: SLOT_MS, cutoffMs: 20_000 },
      poolTag: '4242',
      operator: { publicKey: operator.toPublicKey().toBase58(), privateKey: operator.toBase58() },
      membership: fixedMembers([member.toPublicKey().toBase58()]),
      threads: 1,
      ...extra,
    });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'member-'));
    await writeKey(join(dir, 'member.json'), member);
    daemon = await SimulatedDaemon.start();
    daemon.add(...[...blocks.values()].map((b) => b.daemon));
    daemon.setBestChain(chainTo(blocks, hash('3NKZ5poC')));
    // The intake's rule for designated producers, with a stand-in for the proof's check (it records what it was given).
    service = await startEmitter('emitter', time, { designation: { verifyProof: async (p) => (checked.push(p), true) } });
    emitterUrl = await service.listen(0);
  }, 60_000);

  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await service.stop();
    await daemon.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("delivers the node's own blocks from the newBlock subscription, keeps the receipt, and reconnects when the daemon drops it", async () => {
    const producer = blocks.get(hash('3NKvvtFw'))!.daemon.creator;
    const m = startMember(['--producer', producer]);
    await until(() => daemon.subscriberCount === 1, 'the subscription');
    await time.set(4 * SLOT_MS + 1_500);
    // Another producer's block is not the member's to deliver; its own (slot 4) is.
    daemon.announce(blocks.get(hash('3NLdgCbe'))!.daemon);
    daemon.announce(blocks.get(hash('3NKvvtFw'))!.daemon);
    await until(() => service.log.proposals(4).length === 1, 'the proposal of slot 4');
    expect(service.log.proposals(4)[0]).toMatchObject({ member: member.toPublicKey().toBase58(), blockHash: hash('3NKvvtFw'), receivedAt: 4 * SLOT_MS + 1_500 });
    await until(() => /slot 4 height 359606 block 3NKvvtFw\w+: receipt at/.test(m.stderr()), 'the receipt line');
    expect(await readdir(join(dir, 'receipts'))).toEqual([`slot-4-${hash('3NKvvtFw')}.json`]);
    // The same producer made another block for slot 4 (recorded on mainnet): the emitter keeps both as evidence.
    daemon.announce(blocks.get(hash('3NKg81uw'))!.daemon);
    await until(() => /refused by the emitter: EQUIVOCATION/.test(m.stderr()), 'the equivocation refusal');
    expect(service.log.evidence(4, 4)).toHaveLength(1);
    daemon.dropConnections();
    await until(() => /reconnecting in 1 s/.test(m.stderr()), 'the reconnect notice');
    await until(() => daemon.subscriberCount === 1, 'the second subscription');
    // This emitter keeps no waitlist: the member says so once and goes on delivering.
    expect(m.stderr().match(/keeps no live waitlist; no backfill notices/g)).toHaveLength(1);
    m.child.kill('SIGTERM');
  }, 60_000);

  it("file mode: follows the node's growing precomputed-blocks file, names each block by the daemon's best chain", async () => {
    const file = join(dir, 'precomputed.jsonl');
    await writeFile(file, '');
    const mine = blocks.get(hash('3NL8ym45'))!;
    const m = startMember(['--blocks-file', file, '--producer', mine.daemon.creator]);
    await until(() => /following /.test(m.stderr()), 'the file to be followed');
    await time.set(6 * SLOT_MS + 500);
    await appendFile(file, 'not json\n' + JSON.stringify(blocks.get(hash('3NLdgCbe'))!.precomputed) + '\n' + JSON.stringify(mine.precomputed) + '\n');
    await until(() => service.log.proposals(6).length === 1, 'the proposal of slot 6');
    expect(service.log.proposals(6)[0]!.blockHash).toBe(mine.stateHash);
    expect(m.stderr()).toMatch(/skipped a line of .*precomputed\.jsonl: /);
    // A line written in two parts is read once it is whole.
    await time.set(18 * SLOT_MS + 700);
    const line = JSON.stringify(blocks.get(hash('3NKZ5poC'))!.precomputed) + '\n';
    await appendFile(file, line.slice(0, 1000));
    await new Promise((r) => setTimeout(r, 600));
    expect(service.log.proposals(18)).toHaveLength(0);
    await appendFile(file, line.slice(1000));
    await until(() => service.log.proposals(18).length === 1, 'the proposal of slot 18');
    expect(service.log.proposals(18)[0]!.blockHash).toBe(hash('3NKZ5poC'));
    expect(service.log.proposals(18)[0]!.proposal.payload).toEqual(blocks.get(hash('3NKZ5poC'))!.precomputed);
    m.child.kill('SIGTERM');
  }, 60_000);

  it('a designated producer: its block goes with the proof kept for its slot, a third into the slot; a broken proof file is said, and nothing sent', async () => {
    const designations = join(dir, 'designations');
    await mkdir(designations);
    // A proof's shape with its statement (the emitter's check of the proof itself is the stand-in above).
    const statement = new DesignationStatement({ commitment: Field(77), slot: UInt32.from(44), producer: member.toPublicKey(), viaWaitlist: Bool(true) });
    const proof = (await DesignatedProducerProof.dummy(statement, undefined, 0)).toJSON();
    await writeFile(join(designations, 'slot-44.json'), JSON.stringify(proof));
    const mine = blocks.get(hash('3NLjRmTy'))!;
    const m = startMember(['--producer', mine.daemon.creator, '--designations', designations]);
    await until(() => daemon.subscriberCount === 1, 'the subscription');
    await time.set(44 * SLOT_MS + SLOT_MS / 3);
    daemon.announce(mine.daemon);
    await until(() => service.log.proposals(44).length === 1, 'the proposal of slot 44');
    expect(service.log.proposals(44)[0]!.proposal.designation).toEqual(proof);
    expect(checked.map((p) => p.publicInput.slot.toString())).toEqual(['44']);
    await until(() => /slot 44 height 359630 block 3NLjRmTy\w+: receipt at/.test(m.stderr()), 'the receipt line');
    m.child.kill('SIGTERM');
    await new Promise((r) => m.child.once('exit', r));
    await until(() => daemon.subscriberCount === 0, 'the first member gone');

    await writeFile(join(designations, 'slot-107746.json'), JSON.stringify({ ...proof, proof: 5 }));
    const next = blocks.get(hash('3NKBHGpp'))!;
    const n = startMember(['--producer', next.daemon.creator, '--designations', designations]);
    await until(() => daemon.subscriberCount === 1, 'the subscription');
    daemon.announce(next.daemon);
    await until(() => /slot 107746 height 419990 block 3NKBHGpp\w+: not delivered: .*slot-107746\.json: field 'proof': /.test(n.stderr()), 'the refusal line');
    expect(service.log.proposals(107746)).toHaveLength(0);
    n.child.kill('SIGTERM');
  }, 60_000);

  it('several emitters (replicas): each block goes to every one, one receipt is enough, each keeps its receipts apart', async () => {
    // Two emitters of their own (their clock at slot 107746), and a third that is down.
    const late = new ManualTime(107746 * SLOT_MS + 1_000);
    const services = await Promise.all(['a', 'b'].map((n) => startEmitter(`emitter-${n}`, late)));
    try {
      const urls = [await services[0]!.listen(0), await services[1]!.listen(0), `http://127.0.0.1:${await freePort()}`];
      const mine = blocks.get(hash('3NKxezeG'))!;
      const receipts = join(dir, 'receipts-replicas');
      let err = '';
      const child = spawn(process.execPath, [join(projectRoot(), 'dist', 'scripts', 'mina-pool.js'), 'member', ...urls.flatMap((u) => ['--emitter', u]), '--daemon', daemon.url, '--key', join(dir, 'member.json'), '--receipts', receipts, '--producer', mine.daemon.creator, '--no-waitlist'], { stdio: ['ignore', 'ignore', 'pipe'] });
      children.push(child);
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      await until(() => daemon.subscriberCount === 1, 'the subscription');
      daemon.announce(mine.daemon);
      await until(() => /2 of 3 emitters gave a receipt/.test(err), 'the delivery line', 20_000);
      for (const s of services) expect(s.log.proposals(107746).map((x) => x.blockHash)).toEqual([hash('3NKxezeG')]);
      expect(err).toMatch(new RegExp(`${urls[2]!.replace(/[.]/g, '\\.')}: not delivered before the window closed`));
      const dirs = (await readdir(receipts)).sort();
      expect(dirs).toEqual(urls.slice(0, 2).map((u) => new URL(u).host.replace(/[^\w.-]/g, '_')).sort());
      for (const d of dirs) expect(await readdir(join(receipts, d))).toEqual([`slot-107746-${hash('3NKxezeG')}.json`]);
      child.kill('SIGTERM');
    } finally {
      for (const s of services) await s.stop();
    }
  }, 60_000);
});
