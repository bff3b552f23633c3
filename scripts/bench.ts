import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_WINDOW, prepareRange, summarise, sweepWindows } from '../oracle/backfill/index.js';
import { readBlocksFile, writeBlocksFile } from '../oracle/chain/readers/index.js';
import { DEFAULT_LEDGER_HINT, defaultLedgerPath } from '../oracle/paths.js';
import { DEFAULT_SIMULATION, SLOTS_PER_EPOCH, readLedger, simulateEpoch } from '../oracle/sim/index.js';
import { Option, type Command } from 'commander';
import { command, oneOf, output, progress } from './cli.js';

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

/** Contract figures: rows per method, compile time (cold or cached), proof time per method and of a trivial one. */
interface ContractFigures {
  rows?: Record<string, number>;
  compileMs?: Record<string, number>;
  proofs?: { method: string; calls: string[]; proveMs: number }[];
  /** Building and proving a transaction of a method that does nothing: the fixed cost of one proof. */
  floorMs?: number;
}

async function contractTask(task: string, cacheDir: string): Promise<ContractFigures> {
  const { AccountUpdate, Cache, Field, Mina, PrivateKey, SmartContract, method } = await import('o1js');
  const { PoolDac } = await import('../contracts/PoolDac.js');
  const { RewardPool } = await import('../contracts/RewardPool.js');
  const { PoolVault } = await import('../contracts/PoolVault.js');
  const contracts = [PoolDac, RewardPool, PoolVault];
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
  // prove: a trivial method (the floor), then every method once with real proofs.
  class Floor extends SmartContract {
    @method async touch() {}
  }
  await Floor.compile({ cache });
  const { SimulatedChain } = await import('../oracle/chain/simulated.js');
  const { TransactionPoster } = await import('../oracle/chain/poster.js');
  const { PoolClient } = await import('../oracle/pool/client.js');
  const { deployPool } = await import('../oracle/pool/deploy.js');
  const { walkthrough } = await import('../oracle/pool/walkthrough.js');
  const chain = await SimulatedChain.create({ proofsEnabled: true, slot: 3 * SLOTS_PER_EPOCH + 100 });
  const key = () => PrivateKey.random();
  const [alice, bob, oracle, deployer, newcomer, floorKey] = [key(), key(), key(), key(), key(), key()];
  for (const k of [alice, bob, oracle, deployer, newcomer]) chain.local.addAccount(k.toPublicKey(), (1000n * 1_000_000_000n).toString());
  const floor = new Floor(floorKey.toPublicKey());
  const deployFloor = await Mina.transaction(deployer.toPublicKey(), async () => {
    AccountUpdate.fundNewAccount(deployer.toPublicKey(), 1);
    await floor.deploy();
  });
  await chain.submit((await deployFloor.prove()).sign([deployer, floorKey]));
  const t0 = performance.now();
  const touch = await Mina.transaction(deployer.toPublicKey(), () => floor.touch());
  await touch.prove();
  const floorMs = performance.now() - t0;
  await chain.submit(touch.sign([deployer]));
  const poster = new TransactionPoster({ chain, fee: 100_000_000n });
  const params = { quorumPercent: 50, approvalPercent: 60, votingPeriod: 10, timelock: 5, executionWindow: 20, challengeWindow: 30, emitterStrategy: 0, backfillWindow: 47, rewardPolicy: 0, operatorFeePercent: 5, operator: oracle.toPublicKey().toBase58() };
  const counterStart = performance.now();
  const { addresses } = await deployPool({ poster, deployer, dacKey: PrivateKey.random(), poolKey: PrivateKey.random(), members: [alice, bob].map((k) => k.toPublicKey().toBase58()), oracle: oracle.toPublicKey().toBase58(), params, constitutionHash: Field(1) });
  const proofs = [{ method: 'RewardPool.openCounter', calls: [] as string[], proveMs: performance.now() - counterStart }];
  const client = await PoolClient.open({ chain, poster, addresses });
  const steps = await walkthrough({ client, alice, bob, newcomer, oracle, operator: deployer, advanceTo: (slot) => chain.advanceTo(slot) });
  for (const s of steps) proofs.push({ method: `${s.contract}.${s.method}`, calls: s.calls, proveMs: s.proveMs });
  return { compileMs, proofs, floorMs };
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
    const proc = fork(fileURLToPath(new URL('./mina-pool.js', import.meta.url)), ['bench', '--child', task, '--input', input], { execArgv: ['--expose-gc'] });
    proc.once('message', (m) => resolve(m as T));
    proc.once('error', reject);
    proc.once('exit', (code) => code !== 0 && reject(new Error(`bench task ${task} exited with ${code}`)));
  });
}

/** `mina-pool bench`: the figures the README reports. */
export function benchCommand(): Command {
  return command('bench', 'measure the backfill analysis (time, memory) and the contracts (rows, compile and proof times)')
    .option('--only <part>', 'backfill or contracts', oneOf('backfill', 'contracts'))
    .option('--no-proofs', 'skip proving (the longest part: about 20 minutes here)')
    .option('--json', 'print one JSON object')
    .addOption(new Option('--child <task>').hideHelp())
    .addOption(new Option('--input <file>').hideHelp())
    .addHelpText('after', '\nEach task runs in a child process of its own, so its peak memory and its caches are its own.')
    .action(async (o: { only?: 'backfill' | 'contracts'; proofs: boolean; json?: boolean; child?: string; input?: string }) => {
      if (o.child !== undefined) {
        await child(o.child, o.input!);
        return;
      }
      const dir = await mkdtemp(join(tmpdir(), 'pool-bench-'));
      try {
        const backfill = o.only !== 'contracts' ? await backfillBench(dir, o.json ?? false) : undefined;
        const contracts = o.only !== 'backfill' ? await contractsBench(dir, !o.proofs, o.json ?? false) : undefined;
        if (o.json) output(true, '', { backfill, contracts });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
}

async function contractsBench(dir: string, noProofs: boolean, json: boolean) {
  const cacheDir = join(dir, 'compile-cache');
  progress('measuring constraint rows (analyzeMethods)…');
  const { rows } = await measure<ContractFigures>('contracts:rows', cacheDir);
  progress('compiling with an empty cache (cold; several minutes)…');
  const cold = (await measure<ContractFigures>('contracts:compile', cacheDir)).compileMs!;
  progress('compiling again with the filled cache…');
  const cached = (await measure<ContractFigures>('contracts:compile', cacheDir)).compileMs!;
  let proofs: ContractFigures['proofs'];
  let floorMs: number | undefined;
  if (!noProofs) {
    progress('proving a trivial method, then every method once (this takes a while)…');
    ({ proofs, floorMs } = await measure<ContractFigures>('contracts:prove', cacheDir));
  }
  const timeOf = (method: string) => proofs?.find((p) => p.method === method)?.proveMs;
  const members = floorMs === undefined ? undefined : Object.fromEntries(['PoolDac.vote', 'RewardPool.claim'].map((m) => [m, { rows: rows![m], proveMs: timeOf(m), overFloor: timeOf(m)! / floorMs! }]));
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
    if (floorMs !== undefined && members) {
      process.stdout.write(`\nthe two calls every member makes, against a trivial method proved in the same run (${s(floorMs)}):\n`);
      for (const [m, x] of Object.entries(members)) process.stdout.write(`${m.padEnd(20)} ${String(x.rows).padStart(6)} rows  ${s(x.proveMs!)}  ${x.overFloor.toFixed(2)}× the floor\n`);
    }
  }
  return { rows, compileColdMs: cold, compileCachedMs: cached, proofs, floorMs, members };
}

async function backfillBench(dir: string, json: boolean) {
  const input = join(dir, 'epoch.json');
  const ledger = await readLedger(defaultLedgerPath(), DEFAULT_LEDGER_HINT);
  const { blocks } = simulateEpoch(ledger, DEFAULT_SIMULATION);
  await writeBlocksFile(input, blocks);
  progress(`bench input: one simulated 7140-slot epoch, ${blocks.length} blocks (seed ${DEFAULT_SIMULATION.seed})`);
  const results: Measurement[] = [];
  for (const task of Object.keys(TASKS)) {
    progress(`measuring ${task}…`);
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

