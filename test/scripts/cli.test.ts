import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../oracle/paths.js';
import { EMITTER_NODE_FLAGS } from '../../oracle/processes.js';
import { readBlocksFile } from '../../oracle/chain/readers/index.js';
import { vrfOutputToBase64Url } from '../../oracle/vrf/output.js';
import { explorerBlocks, SimulatedExplorer } from '../helpers/explorer-server.js';
import { expectRefusal, runBin, tempProject } from '../helpers/project.js';

/** Runs `mina-pool <command> …` (built by `npm test`) as a user would, without a shell. */
function run(script: string, args: string[]) {
  return runBin(projectRoot(), [script, ...args]);
}

const SUMMARY_KEYS = ['from', 'to', 'slots', 'window', 'nonCanonicalBlocks', 'originalEmptySlots', 'emptySlots', 'emptyPercentBefore', 'emptyPercentAfter', 'waitlistLengthAtEnd', 'emptySlotList', 'backfilled'];

describe('simulate and backfill commands', () => {
  let dir: string;
  let epochJson: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cli-'));
    epochJson = join(dir, 'epoch.json');
    const sim = await run('simulate', ['--out', epochJson, '--slots', '1500', '--seed', '9', '--epoch', '13']);
    expect(sim.code).toBe(0);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('simulate writes JSON and CSV that the analysis reads, with the same blocks', async () => {
    const csv = join(dir, 'epoch.csv');
    const sim = await run('simulate', ['--out', csv, '--slots', '1500', '--seed', '9', '--epoch', '13']);
    expect(sim.stdout).toMatch(/Simulated epoch 13: 1500 slots, seed 9/);
    expect(await readBlocksFile(csv)).toEqual(await readBlocksFile(epochJson));
  });

  it('simulate --real-vrf: every block\'s output is the real VRF of one of its producer\'s accounts, and wins', async () => {
    const out = join(dir, 'real.json');
    const keys = join(dir, 'real-keys.json');
    const seed = '2vahsgRV5nDPmtgr2Xo2Uq2dkngfSgvg7d1TKqQbY3wUS2ZDxCC3';
    const sim = await run('simulate', ['--out', out, '--slots', '4', '--seed', '3', '--epoch', '2', '--real-vrf', '--vrf-seed', seed, '--keys-out', keys]);
    expect(sim.code).toBe(0);
    expect(sim.stderr).toMatch(/real VRF: 4 of 4 slots/);
    const blocks = await readBlocksFile(out);
    expect(blocks.length).toBeGreaterThan(0);
    const file = JSON.parse(await readFile(keys, 'utf8')) as { seed: string; totalCurrency: string; producers: { publicKey: string; privateKey: string; accounts: { index: number; balance: string }[] }[] };
    const { evaluateVrf, parseSeed } = await import('../../oracle/vrf/evaluate.js');
    const { privateKeyScalar, publicKeyOf } = await import('../../oracle/crypto/keys.js');
    const { isWinning } = await import('../../oracle/vrf/threshold.js');
    expect(BigInt(file.seed)).toBe(parseSeed(seed));
    const byKey = new Map(file.producers.map((p) => [p.publicKey, p]));
    for (const b of blocks) {
      const producer = byKey.get(b.creator)!;
      const sk = privateKeyScalar(producer.privateKey);
      expect(publicKeyOf(sk).base58).toBe(b.creator);
      const winning = producer.accounts.filter((a) => {
        const out = evaluateVrf(sk, BigInt(file.seed), b.slot, a.index).truncated;
        return vrfOutputToBase64Url(out) === vrfOutputToBase64Url(b.vrfOutput!) && isWinning(out, BigInt(a.balance), BigInt(file.totalCurrency));
      });
      expect({ slot: b.slot, creator: b.creator, winning: winning.length }).toEqual({ slot: b.slot, creator: b.creator, winning: 1 });
    }
    expectRefusal(await run('simulate', ['--keys-out', keys]), 2, /--vrf-seed and --keys-out go with --real-vrf/);
  }, 120_000);

  it('prints the forum-shaped summary', async () => {
    const r = await run('backfill', ['--input', epochJson, '--window', '53']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Summary of slots 92820-94319 \(1500 slots in total\)\n=+\n/);
    expect(r.stdout).toMatch(/Waitlist time-window:\s+53\n/);
    expect(r.stdout).toMatch(/Empty slots % without backfilling:\s+\d+\.\d\d %/);
    expect(r.stdout).toMatch(/Empty slots:\n\[[\d, ]*\]\n$/);
  });

  it('--json prints exactly one object with the spec\'s keys, consistent with itself', async () => {
    const r = await run('backfill', ['--input', epochJson, '--json', '--from', '92900', '--to', '93999']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const s = JSON.parse(lines[0]!);
    expect(Object.keys(s)).toEqual(SUMMARY_KEYS);
    expect(s).toMatchObject({ from: 92900, to: 93999, slots: 1100, window: 47 });
    expect(s.emptySlotList).toHaveLength(s.emptySlots);
    expect(s.backfilled).toHaveLength(s.originalEmptySlots - s.emptySlots);
  });

  it('--exclude-winners never fills more slots than the default rule', async () => {
    const loose = JSON.parse((await run('backfill', ['--input', epochJson, '--json'])).stdout);
    const strict = JSON.parse((await run('backfill', ['--input', epochJson, '--json', '--exclude-winners'])).stdout);
    expect(strict.originalEmptySlots).toBe(loose.originalEmptySlots);
    expect(strict.emptySlots).toBeGreaterThan(loose.emptySlots);
  });

  it('--sweep prints a table, JSON, and writes an SVG chart', async () => {
    const chart = join(dir, 'sweep.svg');
    const text = await run('backfill', ['--input', epochJson, '--sweep', '1:60', '--chart', chart]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/← suggested/);
    expect(text.stdout).toMatch(/Suggested window: \d+/);
    const svg = await readFile(chart, 'utf8');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(svg).toMatch(/without backfilling: \d+\.\d\d %/);
    expect(svg.match(/<polyline points="([^"]+)"/)![1]!.split(' ')).toHaveLength(60);
    const json = JSON.parse((await run('backfill', ['--input', epochJson, '--sweep', '1:60', '--json'])).stdout);
    expect(json.rows).toHaveLength(60);
    expect(text.stdout).toContain(`Suggested window: ${json.suggestedWindow} `);
    const one = JSON.parse((await run('backfill', ['--input', epochJson, '--json', '--window', String(json.suggestedWindow)])).stdout);
    expect(one.emptySlots).toBe(json.rows[json.suggestedWindow - 1].emptySlots);
  });

  it('--graphql fetches, --save keeps the blocks, and an offline rerun gives the same result', async () => {
    const records = await readBlocksFile(epochJson);
    const explorer = new SimulatedExplorer(explorerBlocks(records, 13, vrfOutputToBase64Url));
    const url = await explorer.start();
    try {
      explorer.failures = [503];
      const saved = join(dir, 'fetched.json');
      const online = await run('backfill', ['--graphql', url, '--epoch', '13', '--from', '0', '--to', '1499', '--save', saved, '--json']);
      expect(online.code).toBe(0);
      expect(online.stderr).toMatch(/retrying slots 0–199 after attempt 1: HTTP 503/);
      expect(online.stderr).toMatch(/saved \d+ blocks/);
      const offline = await run('backfill', ['--input', saved, '--json']);
      expect(offline.stdout).toBe(online.stdout);
      expect(JSON.parse(offline.stdout)).toMatchObject({ from: 0, to: 1499, slots: 1500 });
    } finally {
      await explorer.stop();
    }
  });

  describe('bad input: one clear error, exit code 2, nothing printed as a result', () => {
    const cases: [string, () => string[], RegExp][] = [
      ['a non-integer slot', () => ['--input', join(dir, 'bad-slot.csv')], /bad-slot\.csv:3: field 'slot': expected a non-negative integer, got "x1"/],
      ['a missing creator', () => ['--input', join(dir, 'no-creator.json')], /no-creator\.json: record 2 \(\[1\]\): field 'creator' is missing/],
      ['an unknown canonical value', () => ['--input', join(dir, 'bad-status.csv')], /bad-status\.csv:2: field 'chain_status': expected one of/],
      ['an empty file', () => ['--input', join(dir, 'empty.csv')], /empty\.csv: the file is empty/],
      ['a range with from > to', () => ['--input', join(dir, 'epoch.json'), '--from', '9', '--to', '3'], /empty range: --from \(9\) is greater than --to \(3\)/],
      ['a missing file', () => ['--input', join(dir, 'missing.csv')], /missing\.csv: cannot read the file \(no such file\)/],
      ['an unknown option', () => ['--input', join(dir, 'epoch.json'), '--windw', '3'], /unknown option '--windw'/],
      ['a bad window', () => ['--input', join(dir, 'epoch.json'), '--window', 'ten'], /option '--window <n>' argument 'ten' is invalid\. expected a whole number, got "ten"/],
      ['a negative window', () => ['--input', join(dir, 'epoch.json'), '--window', '-5'], /option '--window <n>' argument '-5' is invalid\. must be at least 1, got -5/],
      ['a bad sweep', () => ['--input', join(dir, 'epoch.json'), '--sweep', '10:2'], /option '--sweep <A:B>' argument '10:2' is invalid\. need 1 ≤ A ≤ B, got 10:2/],
      ['a chart that cannot be written', () => ['--input', join(dir, 'epoch.json'), '--sweep', '1:3', '--chart', '/no/dir/x.svg'], /\/no\/dir\/x\.svg: cannot write the chart \(the directory \/no\/dir does not exist\)/],
      ['no input', () => [], /give exactly one input/],
      ['--graphql without a range', () => ['--graphql', 'http://127.0.0.1:9/'], /--graphql needs --from and --to/],
    ];
    beforeAll(async () => {
      await writeFile(join(dir, 'bad-slot.csv'), 'slot,creator,canonical\n1,A,true\nx1,B,false\n');
      await writeFile(join(dir, 'no-creator.json'), '[{"slot":1,"creator":"A","canonical":true},{"slot":2,"canonical":false}]');
      await writeFile(join(dir, 'bad-status.csv'), 'slot,creator,chain_status\n1,A,forked\n');
      await writeFile(join(dir, 'empty.csv'), '');
    });
    it.each(cases)('%s', async (_name, args, message) => {
      const r = await run('backfill', args());
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')[0]).toMatch(/^error: /);
      expect(r.stderr.trim().split('\n').length).toBeLessThanOrEqual(3); // the error, maybe a suggestion and a pointer to --help
      expect(r.stderr).not.toMatch(/ at .*\.js:\d+/); // no stack trace
    });
  });

  it('prints help with the options', async () => {
    const r = await run('backfill', ['--help']);
    expect(r.code).toBe(0);
    for (const option of ['--input', '--graphql', '--save', '--from', '--to', '--window', '--exclude-winners', '--json', '--sweep', '--chart']) {
      expect(r.stdout).toContain(option);
    }
    expect((await run('simulate', ['--help'])).stdout).toContain('--seed');
  });

  it('simulate rejects bad options and unwritable outputs with exit code 2', async () => {
    expectRefusal(await run('simulate', ['--late', '2']), 2, /option '--late <x>' argument '2' is invalid\. expected a number between 0 and 1, got "2"/);
    expectRefusal(await run('simulate', ['--ledger', join(dir, 'empty.csv')]), 2, /the file is empty|not valid JSON/);
    expectRefusal(await run('simulate', ['--out', '/no/dir/e.json', '--slots', '10']), 2, /\/no\/dir\/e\.json: cannot write the blocks \(the directory \/no\/dir does not exist\)/);
    expectRefusal(await run('simulate', ['--out', 'e.txt']), 2, /expected a \.json or \.csv file, got "e\.txt"/);
  });
});

describe('start', () => {
  it('runs the whole pool on the local chain: slots emitted, the epoch reported and paid, the report reproducible from the log', async () => {
    const p = await tempProject('pool-start-');
    try {
      const r = await p.run('start', '--exit', '--slot-seconds', '2', '--lead', '6', '--port', '0');
      expect({ code: r.code, err: r.code === 0 ? '' : r.stderr.slice(-1500) }).toEqual({ code: 0, err: '' });
      expect(r.stderr).toMatch(/starting the local chain at http:\/\/127\.0\.0\.1:\d+\/graphql/);
      // The dashboard URL comes before the slots.
      const dashboard = r.stderr.indexOf('dashboard: http://127.0.0.1:');
      expect(dashboard).toBeGreaterThan(0);
      expect(r.stderr.indexOf('slot 10709')).toBeGreaterThan(dashboard);
      expect(r.stderr).toMatch(/slot 107099: .*← epoch 14 ends/);
      expect(r.stderr).toMatch(/emitted \(\+\d+ ms to the sink\)/);
      expect(r.stdout).toMatch(/Summary: slots 10709\d–\d+ \(2 s each\), strategy first-delivered/);
      // The live waitlist followed the simulated network's blocks to a settled slot of the run.
      expect(r.stdout).toMatch(/live waitlist at slot 1071?\d\d: \d+ waiting.*, \d+ designated · http:\/\/127\.0\.0\.1:\d+\/v1\/waitlist/);
      const reported = /epoch 14 report: (.*) eligible, reward ([\d.]+) MINA/.exec(r.stdout);
      expect(reported).not.toBeNull();
      expect(r.stdout).toMatch(/(alice|bob|carol|dave) claimed [\d.]+ MINA/);
      const log = /--log (\S+events\.sqlite)/.exec(r.stdout)![1]!;
      // Anyone recomputes the root from the log: the chain's saved state is read again.
      await p.startChain();
      const check = await p.run('report', '--epoch', '14', '--log', log);
      expect({ code: check.code, err: check.stderr.slice(-800) }).toMatchObject({ code: 0 });
      expect(check.stdout).toMatch(/metrics root recomputed \d+ {2}EQUAL/);
      expect(check.stdout).toMatch(/the report on chain is reproduced from the log/);
      const none = await p.run('report', '--epoch', '13', '--log', log);
      expectRefusal(none, 1, /epoch 13 has no report on chain \(reported: 14\)/);
    } finally {
      await p.cleanup();
    }
  }, 300_000);
});

describe("the emitter's Node settings", () => {
  it('npm run emitter and npm run start pass EMITTER_NODE_FLAGS to Node, and this Node takes them', async () => {
    const scripts = (JSON.parse(await readFile(join(projectRoot(), 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    for (const name of ['emitter', 'start']) expect(scripts[name]).toBe(`node ${EMITTER_NODE_FLAGS.join(' ')} bin/run.mjs ${name}`);
    // An unknown or misspelt V8 flag makes Node refuse to start.
    expect(execFileSync(process.execPath, [...EMITTER_NODE_FLAGS, '-e', 'process.stdout.write("ok")']).toString()).toBe('ok');
    expect(() => execFileSync(process.execPath, ['--max-semi-space-sise=32', '-e', '0'], { stdio: 'pipe' })).toThrow();
  });
});
