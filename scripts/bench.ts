import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_WINDOW, prepareRange, summarise, sweepWindows } from '../oracle/backfill/index.js';
import { readBlocksFile, writeBlocksFile } from '../oracle/chain/readers/index.js';
import { DEFAULT_LEDGER_HINT, defaultLedgerPath } from '../oracle/paths.js';
import { DEFAULT_SIMULATION, readLedger, simulateEpoch } from '../oracle/sim/index.js';
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

async function child(task: string, input: string): Promise<void> {
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

function measure(task: string, input: string): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const proc = fork(fileURLToPath(import.meta.url), ['--child', task, '--input', input], { execArgv: ['--expose-gc'] });
    proc.once('message', (m) => resolve(m as Measurement));
    proc.once('error', reject);
    proc.once('exit', (code) => code !== 0 && reject(new Error(`bench task ${task} exited with ${code}`)));
  });
}

async function main(): Promise<number> {
  const { values } = parseCommandLine(process.argv.slice(2), {
    child: { type: 'string' },
    input: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (values.child !== undefined) {
    await child(values.child, values.input!);
    return 0;
  }
  const dir = await mkdtemp(join(tmpdir(), 'pool-bench-'));
  try {
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
    if (values.json) {
      process.stdout.write(JSON.stringify({ blocks: blocks.length, results, sweepPerWindowMs: by('sweep').medianMs / 500, sweepOverOneWindow: ratio }) + '\n');
      return 0;
    }
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
    return 0;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await runCli(main);
