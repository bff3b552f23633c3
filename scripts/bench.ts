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
import { benchEmitterChild, Members, startBenchEmitter, percentile, postJson, proposalSigner, type BenchEmitterConfig } from './bench-util.js';

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
  const { POOL_CIRCUITS } = await import('../contracts/index.js');
  const { VrfProgram } = await import('../contracts/Vrf.js');
  const circuits = [['VrfProgram', VrfProgram] as const, ...POOL_CIRCUITS];
  if (task === 'rows') {
    const rows: Record<string, number> = {};
    for (const [name, C] of circuits) for (const [m, a] of Object.entries(await C.analyzeMethods())) rows[`${name}.${m}`] = a.rows;
    return { rows };
  }
  const cache = Cache.FileSystem(cacheDir);
  const compileMs: Record<string, number> = {};
  for (const [name, C] of circuits) {
    const t0 = performance.now();
    await C.compile({ cache });
    compileMs[name] = performance.now() - t0;
  }
  if (task === 'compile') return { compileMs };
  const vrfProofs = await proveVrf();
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
  const params = { quorumPercent: 50, approvalPercent: 60, votingPeriod: 10, timelock: 5, executionWindow: 20, challengeWindow: 30, emitterStrategy: 0, backfillWindow: 47, backfillCompensation: 10_000, rewardPolicy: 0, operatorFeePercent: 5, operator: oracle.toPublicKey().toBase58() };
  const counterStart = performance.now();
  const { addresses } = await deployPool({ poster, deployer, dacKey: PrivateKey.random(), poolKey: PrivateKey.random(), members: [alice, bob].map((k) => k.toPublicKey().toBase58()), oracle: oracle.toPublicKey().toBase58(), params, constitutionHash: Field(1) });
  const proofs = [{ method: 'RewardPool.openCounter', calls: [] as string[], proveMs: performance.now() - counterStart }];
  const client = await PoolClient.open({ chain, poster, addresses });
  const programProofs: typeof proofs = [];
  const steps = await walkthrough({ client, alice, bob, newcomer, oracle, operator: deployer, advanceTo: (slot) => chain.advanceTo(slot), onProgram: (method, proveMs) => programProofs.push({ method, calls: [], proveMs }) });
  for (const s of steps) proofs.push({ method: `${s.contract}.${s.method}`, calls: s.calls, proveMs: s.proveMs });
  proofs.push(...programProofs);
  return { compileMs, proofs: [...proofs, ...vrfProofs], floorMs };
}

/** One proof of each VrfProgram method (vector B of the spec), timed; the program is compiled. */
async function proveVrf(): Promise<{ method: string; calls: string[]; proveMs: number }[]> {
  const { PrivateKey } = await import('o1js');
  const { VrfProgram } = await import('../contracts/Vrf.js');
  const { vrfStatement } = await import('../oracle/vrf/statement.js');
  const sk = PrivateKey.fromBase58('EKEEpMELfQkMbJDt2fB4cFXKwSf1x4t7YD4twREy5yuJ84HBZtF9');
  const statement = vrfStatement(sk, { seed: 0n, slot: 6, index: 2, stake: 1000000000000000n, total: 6000000000001000n });
  const out = [];
  for (const m of ['evaluate', 'wins'] as const) {
    const t0 = performance.now();
    await VrfProgram[m](statement, sk);
    out.push({ method: `VrfProgram.${m}`, calls: [], proveMs: performance.now() - t0 });
  }
  return out;
}

async function child(task: string, input: string): Promise<void> {
  if (task === 'emitter') return benchEmitterChild(input);
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

/**
 * Mina's VRF off circuit on this thread (one core): evaluations of one key over consecutive
 * slots and indices, after a warm-up, and the share of each step.
 */
async function vrfBench(json: boolean) {
  const { evaluateVrf, groupMap, packMessage } = await import('../oracle/vrf/evaluate.js');
  const { prefixedHash } = await import('../oracle/crypto/poseidon.js');
  const { permuteWasm } = await import('../oracle/crypto/kimchi-wasm.js');
  const sk = 0x1b2c3d4e5f60718293a4b5c6d7e8f901234567890abcdef1234567890abcdefn;
  const N = 1000;
  progress(`evaluating Mina's VRF ${N} times on one core…`);
  for (let i = 0; i < 100; i++) evaluateVrf(sk, 7n, i, i);
  const time = (f: (i: number) => unknown) => {
    const t0 = performance.now();
    for (let i = 0; i < N; i++) f(i);
    return (performance.now() - t0) / N;
  };
  const hash = prefixedHash('MinaVrfMessage******', permuteWasm);
  const evaluateMs = time((i) => evaluateVrf(sk, 7n, 1000 + i, i % 64));
  const hashMs = time((i) => hash([7n, packMessage(1000 + i, i % 64)]));
  const mapMs = time((i) => groupMap(BigInt(i) * 7919n + 5n));
  const figures = { evaluations: N, msPerEvaluation: evaluateMs, perSecond: 1000 / evaluateMs, msPerPoseidonHash: hashMs, msPerGroupMap: mapMs };
  if (!json) {
    process.stdout.write(`\nMina VRF off circuit, one core: ${figures.perSecond.toFixed(0)} evaluations/s (${evaluateMs.toFixed(3)} ms each; `);
    process.stdout.write(`one Poseidon hash of 2 fields ${hashMs.toFixed(3)} ms, the group map ${mapMs.toFixed(3)} ms; an evaluation is two hashes (three permutations), the map and one scalar multiplication)\n`);
  }
  return figures;
}

/** `mina-pool bench`: the figures the README reports. */
export function benchCommand(): Command {
  return command('bench', 'measure the backfill analysis (time, memory), the off-circuit VRF (evaluations/s), the emitter (proposals/s, arrival to sink), its replicas (what agreement adds, recovery after a kill) and the contracts (rows, compile and proof times)')
    .option('--only <part>', 'backfill, vrf, emitter, replicas or contracts', oneOf('backfill', 'vrf', 'emitter', 'replicas', 'contracts'))
    .option('--no-proofs', 'skip proving (the longest part: about 20 minutes here)')
    .option('--etcd-via <member>', "replicas: send each slot's decision to etcd's leader (as the replicas do) or to any member (etcd3's choice, for comparison)", oneOf('leader', 'any'), 'leader')
    .option('--json', 'print one JSON object')
    .addOption(new Option('--child <task>').hideHelp())
    .addOption(new Option('--input <file>').hideHelp())
    .addHelpText('after', '\nEach task runs in a child process of its own, so its peak memory and its caches are its own.')
    .action(async (o: { only?: 'backfill' | 'vrf' | 'emitter' | 'replicas' | 'contracts'; proofs: boolean; etcdVia: 'leader' | 'any'; json?: boolean; child?: string; input?: string }) => {
      if (o.child !== undefined) {
        await child(o.child, o.input!);
        return;
      }
      const dir = await mkdtemp(join(tmpdir(), 'pool-bench-'));
      try {
        const all = o.only === undefined;
        const backfill = all || o.only === 'backfill' ? await backfillBench(dir, o.json ?? false) : undefined;
        const vrf = all || o.only === 'vrf' ? await vrfBench(o.json ?? false) : undefined;
        const contracts = all || o.only === 'contracts' ? await contractsBench(dir, !o.proofs, o.json ?? false) : undefined;
        // Last: its simulated members lower this process's priority (see emitterBench).
        const emitter = all || o.only === 'emitter' ? await emitterBench(dir, o.json ?? false) : undefined;
        const replicas = all || o.only === 'replicas' ? await (await import('./bench-replicas.js')).replicasBench(dir, o.json ?? false, o.etcdVia === 'leader') : undefined;
        if (o.json) output(true, '', { backfill, vrf, emitter, replicas, contracts });
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
    process.stdout.write('\ncontract             compile cold  compile cached  ratio\n');
    // (VrfProgram is a ZkProgram: its proofs are the program's own, not a transaction's.)
    for (const name of Object.keys(cold)) {
      process.stdout.write(`${name.padEnd(20)} ${s(cold[name]!).padStart(12)} ${s(cached[name]!).padStart(15)} ${(cold[name]! / cached[name]!).toFixed(1).padStart(6)}×\n`);
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


/** The emitter under load: a child process runs the service (its memory is its own); this process plays 50 members. */
async function emitterBench(dir: string, json: boolean) {
  const { PrivateKey } = await import('o1js');
  const MEMBERS = 50;
  const BURSTS = 200;
  const STREAM_SLOTS = 30;
  const slotMs = 400;
  const keys = Array.from({ length: MEMBERS }, () => PrivateKey.random());
  const operator = PrivateKey.random();
  const poolTag = '271828';
  const ALONE = 100;
  // Slot layout: one warm-up proposal at slot 990, bursts at slots 1000… (one every 2 slots),
  // one member alone at slots 1600…, the stream at slots 2000….
  const signer = await proposalSigner(poolTag);
  const sign = (m: number, slot: number) => signer(keys[m]!, m, slot);
  progress(`signing ${MEMBERS * (BURSTS + STREAM_SLOTS)} proposals of ${MEMBERS} members (not measured)…`);
  const warmUp = sign(0, 990);
  const alone = Array.from({ length: ALONE }, (_, k) => sign(k % MEMBERS, 1600 + 2 * k));
  const bursts = Array.from({ length: BURSTS }, (_, b) => Array.from({ length: MEMBERS }, (_, m) => sign(m, 1000 + 2 * b)));
  const stream = Array.from({ length: MEMBERS }, (_, m) => Array.from({ length: STREAM_SLOTS }, (_, k) => sign(m, 2000 + k)));
  // Slot 1000 opens a minute after signing ends (proposals are taken early, up to an hour).
  const genesisMs = Date.now() + 60_000 - 1000 * slotMs;
  const config = join(dir, 'emitter-bench.json');
  const c: BenchEmitterConfig = { dataDir: join(dir, 'emitter'), genesisMs, slotMs, earlyMs: 3_600_000, members: keys.map((k) => k.toPublicKey().toBase58()), poolTag, operator: { publicKey: operator.toPublicKey().toBase58(), privateKey: operator.toBase58() } };
  const { proc, url } = await startBenchEmitter(config, c);
  // Warm up the workers, the HTTP connections and the code paths of a proposal (not measured).
  await Promise.all(Array.from({ length: 20 }, () => fetch(`${url}/v1/pool`).then((r) => r.arrayBuffer())));
  await postJson(`${url}/v1/proposals`, warmUp);
  // The members stand for 50 other machines: on this one they post from a thread below the
  // emitter in the scheduler, so they do not take its cores while it works.
  const members = new Members();
  const target = [`${url}/v1/proposals`];
  const post = async (body: string) => (await members.post([{ urls: target, body }]))[0]![0]!;
  progress(`${ALONE} slots where one member posts alone…`);
  for (const body of alone) {
    await post(body);
    await new Promise((r) => setTimeout(r, 50));
  }
  progress(`${BURSTS} slots where all ${MEMBERS} members post at the same instant…`);
  const burstStatuses: number[] = [];
  for (const burst of bursts) {
    burstStatuses.push(...(await members.post(burst.map((body) => ({ urls: target, body })))).flat());
    await new Promise((r) => setTimeout(r, 100));
  }
  progress(`${MEMBERS} members posting ${STREAM_SLOTS} proposals each as fast as the emitter takes them…`);
  const t0 = performance.now();
  const streamStatuses = (await Promise.all(stream.map(async (own) => { const out: number[] = []; for (const body of own) out.push(await post(body)); return out; }))).flat();
  const streamMs = performance.now() - t0;
  await members.close();
  const done = new Promise<{ latencies: Record<string, number>; peakRssMiB: number }>((resolve) => proc.once('message', (m) => resolve(m as never)));
  proc.send('stop');
  const { latencies, peakRssMiB } = await done;
  const burstLatency = Array.from({ length: BURSTS }, (_, b) => latencies[String(1000 + 2 * b)]).filter((x): x is number => x !== undefined);
  const aloneLatency = Array.from({ length: ALONE }, (_, k) => latencies[String(1600 + 2 * k)]).filter((x): x is number => x !== undefined);
  const accepted = streamStatuses.filter((s) => s === 200).length;
  const figures = {
    members: MEMBERS,
    bursts: BURSTS,
    burstAccepted: burstStatuses.filter((s) => s === 200).length,
    aloneArrivalToSinkMs: { p50: percentile(aloneLatency, 50), p99: percentile(aloneLatency, 99), slots: aloneLatency.length },
    arrivalToSinkMs: { p50: percentile(burstLatency, 50), p99: percentile(burstLatency, 99), max: Math.max(...burstLatency), slots: burstLatency.length },
    stream: { proposals: streamStatuses.length, accepted, seconds: streamMs / 1000, acceptedPerSecond: accepted / (streamMs / 1000) },
    peakRssMiB,
  };
  if (!json) {
    process.stdout.write(`\nemitter, ${MEMBERS} members over loopback HTTP (signature checks on 2 worker threads)\n`);
    process.stdout.write(`one member alone, ${figures.aloneArrivalToSinkMs.slots} slots: arrival → sink p50 ${figures.aloneArrivalToSinkMs.p50} ms, p99 ${figures.aloneArrivalToSinkMs.p99} ms\n`);
    process.stdout.write(`all ${MEMBERS} post at once, ${figures.arrivalToSinkMs.slots} slots: first valid arrival → sink p50 ${figures.arrivalToSinkMs.p50} ms, p99 ${figures.arrivalToSinkMs.p99} ms, max ${figures.arrivalToSinkMs.max} ms (${figures.burstAccepted} of ${MEMBERS * BURSTS} accepted)\n`);
    process.stdout.write(`sustained: ${accepted} signed proposals accepted in ${figures.stream.seconds.toFixed(2)} s = ${figures.stream.acceptedPerSecond.toFixed(0)}/s\n`);
    process.stdout.write(`emitter process peak RSS ${peakRssMiB.toFixed(0)} MiB\n`);
  }
  return figures;
}
