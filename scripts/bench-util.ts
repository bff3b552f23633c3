import { fork, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { PrivateKey } from 'o1js';
import { EMITTER_NODE_FLAGS } from '../oracle/processes.js';

/** The nearest-rank percentile: the smallest value with at least p% of the values at or below it. */
export const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.max(0, Math.ceil((p / 100) * xs.length) - 1)]!;

/** A member's signed proposal body for a slot, with a 2 kB block (the benches sign them all before measuring). */
export async function proposalSigner(poolTag: string) {
  const { Field, Signature } = await import('o1js');
  const { fieldToStateHash, stateHashToField } = await import('../oracle/chain/base58.js');
  return (key: PrivateKey, m: number, slot: number) => {
    const blockHash = fieldToStateHash(BigInt(slot) * 1000n + BigInt(m) + 1n);
    const signature = Signature.create(key, [Field(poolTag), Field(slot), Field(stateHashToField(blockHash)!)]).toBase58();
    return JSON.stringify({ slot, member: key.toPublicKey().toBase58(), blockHash, payload: { note: 'bench block', slot, pad: 'x'.repeat(2000) }, signature });
  };
}

/**
 * The members of a bench, posting from a thread that runs below the services under test (on
 * Linux; elsewhere, or where not permitted, at the same priority). Lowering the bench's own
 * thread instead would lower every service it starts afterwards too: they inherit it.
 */
export class Members {
  private readonly worker = new Worker(new URL('./bench-members.js', import.meta.url));
  private readonly waiting = new Map<number, { resolve: (statuses: number[][]) => void; reject: (e: Error) => void }>();
  private next = 0;

  constructor() {
    this.worker.on('message', ({ id, statuses }: { id: number; statuses: number[][] }) => {
      this.waiting.get(id)?.resolve(statuses);
      this.waiting.delete(id);
    });
    const fail = (e: Error) => {
      for (const w of this.waiting.values()) w.reject(e);
      this.waiting.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`the bench's members thread exited (${code})`)));
  }

  /** Each body to each of its URLs, all at once; the statuses (0: nothing answered), by body then URL. */
  post(posts: { urls: string[]; body: string }[]): Promise<number[][]> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, posts });
    });
  }

  close(): Promise<number> {
    return this.worker.terminate();
  }
}

/** POSTs a body and reads the answer; the status, or 0 when nothing answered. */
export async function postJson(url: string, body: string): Promise<number> {
  try {
    const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    await r.arrayBuffer();
    return r.status;
  } catch {
    return 0;
  }
}

/** The emitter (or one replica) a bench runs in a child process of its own. */
export interface BenchEmitterConfig {
  dataDir: string;
  genesisMs: number;
  slotMs: number;
  earlyMs: number;
  members: string[];
  poolTag: string;
  operator: { publicKey: string; privateKey: string };
  /** Hand winners to this relay (default: the spool directory). */
  relayUrl?: string;
  /** Replicas: its name, the etcd cluster, and whether the slots' decisions go to etcd's leader. */
  replica?: { id: string; etcd: string[]; viaLeader: boolean };
  /** A sink that takes this long per delivery. */
  sinkDelayMs?: number;
}

/**
 * Starts a {@link benchEmitterChild} with configuration `c` (written to `configFile`), run as
 * `npm run emitter` runs the emitter (`EMITTER_NODE_FLAGS`); resolves once it listens.
 */
export async function startBenchEmitter(configFile: string, c: BenchEmitterConfig): Promise<{ proc: ChildProcess; url: string }> {
  await writeFile(configFile, JSON.stringify(c));
  const script = fileURLToPath(new URL('./mina-pool.js', import.meta.url));
  const proc = fork(script, ['bench', '--child', 'emitter', '--input', configFile], { execArgv: [...process.execArgv, ...EMITTER_NODE_FLAGS] });
  const { url } = await new Promise<{ url: string }>((resolve, reject) => {
    proc.once('message', (m) => resolve(m as { url: string }));
    proc.once('exit', (code) => reject(new Error(`the bench's emitter ${c.replica ? `replica ${c.replica.id} ` : ''}exited with ${code}`)));
  });
  return { proc, url };
}

/**
 * The bench's emitter child: tells its URL, then on `stop` sends the latencies of the blocks
 * it forwarded (by slot) and its peak memory, and exits.
 */
export async function benchEmitterChild(configFile: string): Promise<void> {
  const { EmitterService, fixedMembers } = await import('../oracle/emitter/service.js');
  const { SlotClock } = await import('../oracle/emitter/slot-clock.js');
  const { HttpSink } = await import('../oracle/emitter/sink.js');
  const { EtcdAgreement } = await import('../oracle/emitter/agreement.js');
  type Agreement = import('../oracle/emitter/agreement.js').Agreement;
  type SlotOutcome = import('../oracle/emitter/agreement.js').SlotOutcome;
  const c = JSON.parse(await readFile(configFile, 'utf8')) as BenchEmitterConfig;
  const etcd = c.replica ? await EtcdAgreement.start({ endpoints: c.replica.etcd, replica: c.replica.id, poolTag: c.poolTag, viaLeader: c.replica.viaLeader }) : undefined;
  // The winning proposals' round trip to etcd, timed here: what agreement adds to a winner's path.
  const agreedMs: number[] = [];
  const agreement: Agreement | undefined =
    etcd &&
    new Proxy(etcd, {
      get(target, name) {
        if (name === 'propose') {
          return async (o: SlotOutcome) => {
            const t0 = performance.now();
            const out = await target.propose(o);
            if (out.kind === o.kind && out.replica === o.replica && out.at === o.at) agreedMs.push(performance.now() - t0);
            return out;
          };
        }
        const value = Reflect.get(target, name, target) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });

  const http = c.relayUrl ? new HttpSink(c.relayUrl) : undefined;
  const delay = c.sinkDelayMs ?? 0;
  const service = await EmitterService.start({
    dataDir: c.dataDir,
    clock: new SlotClock({ genesisMs: c.genesisMs, slotMs: c.slotMs }),
    strategy: 'first-delivered',
    window: { earlyMs: c.earlyMs, closeMs: c.slotMs, cutoffMs: c.slotMs / 3 },
    poolTag: c.poolTag,
    operator: c.operator,
    membership: fixedMembers(c.members),
    threads: 2,
    ...(http ? { sink: delay ? { name: http.name, deliver: async (e, handed) => (await new Promise((r) => setTimeout(r, delay)), http.deliver(e, handed)) } : http } : {}),
    ...(agreement ? { agreement } : {}),
  });
  const url = await service.listen(0);
  process.send!({ url });
  process.once('message', () => {
    const self = c.replica?.id;
    const emitted = service.log.events(1, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER).filter((e) => e.type === 'emitted' && (self === undefined || e.data?.replica === self));
    const latencies = Object.fromEntries(emitted.map((e) => [e.slot, e.latencyMs ?? 0]));
    const peakRssMiB = (process.resourceUsage().maxRSS * 1024) / (1024 * 1024);
    void service.stop().then(() => process.send!({ latencies, peakRssMiB, agreedMs }, () => process.exit(0)));
  });
}
