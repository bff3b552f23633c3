import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_WINDOW, prepareRange, summarise, sweepWindows } from '../oracle/backfill/index.js';
import { readBlocksFile, writeBlocksFile } from '../oracle/chain/readers/index.js';
import { DEFAULT_LEDGER_HINT, defaultLedgerPath } from '../oracle/paths.js';
import { DEFAULT_SIMULATION, readLedger, simulateEpoch } from '../oracle/sim/index.js';
import { UsageError } from '../oracle/errors.js';
import { parseCommandLine, runCli } from './cli.js';

/** One measured task: median wall time over `runs`, and the process's peak RSS. */
interface Measurement {
  task: string;
  runs: number;
  medianMs: number;
  minMs: number;
  /** Resident memory after loading the input, before the task. */
  baseRssMiB: number;
  /** Peak resident memory of the process that ran the task. */
  peakRssMiB: number;
}

const MiB = 1024 * 1024;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The tasks, each run in a child process of its own so its peak memory is its own. */
const TASKS: Record<string, { runs: number; run: (input: string) => Promise<() => unknown> }> = {
  simulate: {
    runs: 3,
    run: async () => {
      const ledger = await readLedger(defaultLedgerPath(), DEFAULT_LEDGER_HINT);
      return () => simulateEpoch(ledger, DEFAULT_SIMULATION);
    },
  },
  read: {
    runs: 5,
    run: async (input) => () => readBlocksFile(input),
  },
  analyse: {
    runs: 21,
    run: async (input) => {
      const blocks = await readBlocksFile(input);
      return () => summarise(prepareRange(blocks), DEFAULT_WINDOW);
    },
  },
  sweep: {
    runs: 7,
    run: async (input) => {
      const blocks = await readBlocksFile(input);
      return () => sweepWindows(prepareRange(blocks), { first: 1, last: 500 });
    },
  },
};

/** Contract figures: rows per method, compile time (cold or cached), proof time per method. */
interface ContractFigures {
  rows?: Record<string, number>;
  compileMs?: Record<string, number>;
  proofs?: { method: string; calls: string[]; proveMs: number }[];
}

async function contractTask(task: string, cacheDir: string): Promise<ContractFigures> {
  const { Cache, Field, Mina, PrivateKey } = await import('o1js');
  const { PoolDac } = await import('../contracts/PoolDac.js');
  const { RewardPool } = await import('../contracts/RewardPool.js');
  const contracts = [PoolDac, RewardPool];
  if (task === 'rows') {
    const rows: Record<string, number> = {};
    for (const C of contracts) for (const [m, a] of Object.entries(await C.analyzeMethods())) rows[`${C.name}.${m}`] = a.rows;
    return { rows };
  }
  const cache = Cache.FileSystem(cacheDir);
  const compileMs: Record<string, number> = {};
  for (const C of contracts) {
    const t0 = performance.now();
    await C.compile({ cache });
    compileMs[C.name] = performance.now() - t0;
  }
  if (task === 'compile') return { compileMs };
  // prove: deploy (openCounter is proved) and run every method once with real proofs.
  const { deployPool } = await import('../oracle/chain/deploy-pool.js');
  const { PoolClient } = await import('../oracle/chain/pool-client.js');
  const { walkthrough } = await import('../oracle/chain/walkthrough.js');
  const local = await Mina.LocalBlockchain({ proofsEnabled: true });
  Mina.setActiveInstance(local);
  local.setGlobalSlot(2 * 7140 + 100);
  const [alice, bob, oracle, deployer, newcomer] = Array.from({ length: 5 }, () => PrivateKey.random()) as [InstanceType<typeof PrivateKey>, InstanceType<typeof PrivateKey>, InstanceType<typeof PrivateKey>, InstanceType<typeof PrivateKey>, InstanceType<typeof PrivateKey>];
  for (const k of [alice, bob, oracle, deployer]) local.addAccount(k.toPublicKey(), (1000n * 1_000_000_000n).toString());
  let counterStart = 0;
  const params = { quorumPercent: 50, approvalPercent: 60, votingPeriod: 10, timelock: 5, executionWindow: 20, challengeWindow: 30, emitterStrategy: 0, backfillWindow: 47, rewardPolicy: 0 };
  const deployed = await deployPool({
    deployer, dacKey: PrivateKey.random(), poolKey: PrivateKey.random(), members: [alice, bob].map((k) => k.toPublicKey().toBase58()),
    oracle: oracle.toPublicKey().toBase58(), params, constitutionHash: Field(1),
    onProgress: (m) => { if (m.startsWith('opening')) counterStart = performance.now(); },
  });
  const proofs = [{ method: 'RewardPool.openCounter', calls: [] as string[], proveMs: performance.now() - counterStart }];
  const client = new PoolClient({ dac: deployed.dac, pool: deployed.pool, mirror: deployed.mirror });
  const steps = await walkthrough({ client, alice, bob, newcomer, oracle, operator: deployer, advanceTo: (slot) => local.setGlobalSlot(slot) });
  for (const s of steps) proofs.push({ method: `${s.contract}.${s.method}`, calls: s.calls, proveMs: s.proveMs });
  return { compileMs, proofs };
}

async function child(task: string, input: string): Promise<void> {
  if (task.startsWith('contracts:')) {
    process.send!(await contractTask(task.slice('contracts:'.length), input));
    return;
  }
  const spec = TASKS[task]!;
  const once = await spec.run(input);
  global.gc?.();
  const baseRss = process.memoryUsage().rss;
  const times: number[] = [];
  for (let i = 0; i < spec.runs; i++) {
    const t0 = performance.now();
    await once();
    times.push(performance.now() - t0);
  }
  const m: Measurement = {
    task,
    runs: spec.runs,
    medianMs: median(times),
    minMs: Math.min(...times),
    baseRssMiB: baseRss / MiB,
    peakRssMiB: (process.resourceUsage().maxRSS * 1024) / MiB,
  };
  process.send!(m);
}

function measure<T = Measurement>(task: string, input: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const proc = fork(fileURLToPath(import.meta.url), ['--child', task, '--input', input], { execArgv: ['--expose-gc'] });
    proc.once('message', (m) => resolve(m as T));
    proc.once('error', reject);
    proc.once('exit', (code) => code !== 0 && reject(new Error(`bench task ${task} exited with ${code}`)));
  });
}

async function main(): Promise<number> {
  const { values } = parseCommandLine(process.argv.slice(2), {
    child: { type: 'string' },
    input: { type: 'string' },
    json: { type: 'boolean' },
    only: { type: 'string' },
    'no-proofs': { type: 'boolean' },
  });
  if (values.only !== undefined && !['backfill', 'contracts'].includes(values.only)) {
    throw new UsageError(`--only: backfill or contracts, got ${JSON.stringify(values.only)}`, { field: 'only' });
  }
  if (values.child !== undefined) {
    await child(values.child, values.input!);
    return 0;
  }
  const dir = await mkdtemp(join(tmpdir(), 'pool-bench-'));
  try {
    const backfill = values.only !== 'contracts' ? await backfillBench(dir, values.json ?? false) : undefined;
    const contracts = values.only !== 'backfill' ? await contractsBench(dir, values['no-proofs'] ?? false, values.json ?? false) : undefined;
    if (values.json) process.stdout.write(JSON.stringify({ backfill, contracts }) + '\n');
    return 0;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function contractsBench(dir: string, noProofs: boolean, json: boolean) {
  const cacheDir = join(dir, 'compile-cache');
  process.stderr.write('measuring constraint rows (analyzeMethods)…\n');
  const { rows } = await measure<ContractFigures>('contracts:rows', cacheDir);
  process.stderr.write('compiling with an empty cache (cold)…\n');
  const cold = (await measure<ContractFigures>('contracts:compile', cacheDir)).compileMs!;
  process.stderr.write('compiling again with the filled cache…\n');
  const cached = (await measure<ContractFigures>('contracts:compile', cacheDir)).compileMs!;
  let proofs: ContractFigures['proofs'];
  if (!noProofs) {
    process.stderr.write('proving every method once (this takes a while)…\n');
    proofs = (await measure<ContractFigures>('contracts:prove', cacheDir)).proofs;
  }
  if (!json) {
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    process.stdout.write('\ncontract        compile cold  compile cached  ratio\n');
    for (const name of Object.keys(cold)) {
      process.stdout.write(`${name.padEnd(15)} ${s(cold[name]!).padStart(12)} ${s(cached[name]!).padStart(15)} ${(cold[name]! / cached[name]!).toFixed(1).padStart(6)}×\n`);
    }
    const proofOf = new Map<string, number[]>();
    for (const p of proofs ?? []) proofOf.set(p.method, [...(proofOf.get(p.method) ?? []), p.proveMs]);
    process.stdout.write('\nmethod                               rows   build + prove the transaction (median of runs; nested calls noted)\n');
    for (const [method, r] of Object.entries(rows!)) {
      const times = proofOf.get(method);
      const nested = proofs?.find((p) => p.method === method)?.calls ?? [];
      const parent = proofs?.find((p) => p.calls.includes(method))?.method;
      const t = times ? s(median(times)) + (nested.length ? ` (+ ${nested.join(', ')})` : '') : parent ? `proved inside ${parent}` : '-';
      process.stdout.write(`${method.padEnd(36)} ${String(r).padStart(6)}   ${t}\n`);
    }
  }
  return { rows, compileColdMs: cold, compileCachedMs: cached, proofs };
}

async function backfillBench(dir: string, json: boolean) {
  const input = join(dir, 'epoch.json');
  const ledger = await readLedger(defaultLedgerPath(), DEFAULT_LEDGER_HINT);
  const { blocks } = simulateEpoch(ledger, DEFAULT_SIMULATION);
  await writeBlocksFile(input, blocks);
  process.stderr.write(`bench input: one simulated 7140-slot epoch, ${blocks.length} blocks (seed ${DEFAULT_SIMULATION.seed})\n`);
  const results: Measurement[] = [];
  for (const task of Object.keys(TASKS)) {
    process.stderr.write(`measuring ${task}…\n`);
    results.push(await measure(task, input));
  }
  const by = (t: string) => results.find((r) => r.task === t)!;
  const ratio = by('sweep').medianMs / by('analyse').medianMs;
  const figures = { blocks: blocks.length, results, sweepPerWindowMs: by('sweep').medianMs / 500, sweepOverOneWindow: ratio };
  if (json) return figures;
  const label: Record<string, string> = {
    simulate: 'simulate one 7140-slot epoch',
    read: `read the epoch file (${blocks.length} blocks, JSON)`,
    analyse: `analyse at window ${DEFAULT_WINDOW}`,
    sweep: 'sweep windows 1–500',
  };
  process.stdout.write('task                                         median ms   min ms  runs  base RSS MiB  peak RSS MiB\n');
  for (const r of results) {
    process.stdout.write(
      `${label[r.task]!.padEnd(44)} ${r.medianMs.toFixed(1).padStart(9)} ${r.minMs.toFixed(1).padStart(8)} ${String(r.runs).padStart(5)} ${r.baseRssMiB.toFixed(0).padStart(13)} ${r.peakRssMiB.toFixed(0).padStart(13)}\n`,
    );
  }
  process.stdout.write(`sweep 1–500: ${(by('sweep').medianMs / 500).toFixed(3)} ms per window, ${ratio.toFixed(0)}× one analysis\n`);
  return figures;
}

await runCli(main);
