import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { projectRoot } from '../paths.js';
import type { CryptoJob, CryptoResponse } from './crypto-worker.js';

type Pending = { resolve: (r: CryptoResponse) => void; reject: (e: Error) => void };

/**
 * Signature checks and signing on worker threads (o1js costs about 4 ms per operation,
 * too long for the service's event loop). Jobs go to the least busy worker; a worker that
 * dies is replaced and its jobs fail with a clear error rather than hang.
 *
 * @example
 * const pool = await CryptoPool.start({ threads: 2, signingKey: operator.toBase58() });
 * await pool.verify(member, [tag, slot, block], signature); // true or false
 */
export class CryptoPool {
  private readonly workers: { worker: Worker; pending: Map<number, Pending> }[] = [];
  private nextId = 1;
  private closed = false;

  private constructor(private readonly options: { threads: number; signingKey?: string; script: string }) {}

  /** Starts `threads` workers (at least one) and waits until each has loaded o1js. */
  static async start(options: { threads?: number; signingKey?: string } = {}): Promise<CryptoPool> {
    const pool = new CryptoPool({ threads: Math.max(1, options.threads ?? 2), signingKey: options.signingKey, script: join(projectRoot(), 'dist', 'oracle', 'emitter', 'crypto-worker.js') });
    await Promise.all(Array.from({ length: pool.options.threads }, () => pool.spawn()));
    return pool;
  }

  private spawn(): Promise<void> {
    const worker = new Worker(this.options.script, { workerData: { signingKey: this.options.signingKey } });
    const slot = { worker, pending: new Map<number, Pending>() };
    this.workers.push(slot);
    return new Promise<void>((ready, failed) => {
      worker.on('message', (m: CryptoResponse) => {
        if (m.id === 0) return ready();
        const p = slot.pending.get(m.id);
        if (!p) return;
        slot.pending.delete(m.id);
        if (m.error !== undefined) p.reject(new Error(m.error));
        else p.resolve(m);
      });
      worker.on('error', (e) => failed(e));
      worker.on('exit', (code) => {
        const i = this.workers.indexOf(slot);
        if (i >= 0) this.workers.splice(i, 1);
        for (const p of slot.pending.values()) p.reject(new Error(`signature worker exited (code ${code})`));
        slot.pending.clear();
        if (!this.closed) void this.spawn().catch(() => undefined);
      });
    });
  }

  private run(job: CryptoJob): Promise<CryptoResponse> {
    if (this.closed) return Promise.reject(new Error('the signature workers are stopped'));
    if (this.workers.length === 0) return Promise.reject(new Error('no signature worker is running'));
    const slot = this.workers.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = this.nextId++;
    return new Promise<CryptoResponse>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ ...job, id });
    });
  }

  /** Whether `signature` (base58) signs `fields` (decimal strings) for `key` (B62). A malformed one does not verify. */
  async verify(key: string, fields: (string | bigint)[], signature: string): Promise<boolean> {
    return (await this.run({ op: 'verify', key, fields: fields.map(String), signature })).ok === true;
  }

  /** Signs `fields` with the pool's signing key (base58 signature). */
  async sign(fields: (string | bigint)[]): Promise<string> {
    const r = await this.run({ op: 'sign', fields: fields.map(String) });
    return r.signature!;
  }

  /** Prepares every worker's tables for these keys (the members), so their first checks are fast. */
  async warm(keys: readonly string[]): Promise<void> {
    await Promise.all(
      this.workers.map(
        (slot) =>
          new Promise<void>((resolve, reject) => {
            const id = this.nextId++;
            slot.pending.set(id, { resolve: () => resolve(), reject });
            slot.worker.postMessage({ op: 'warm', keys: [...keys], id });
          }),
      ),
    );
  }

  /** Jobs waiting or running. */
  get backlog(): number {
    return this.workers.reduce((n, w) => n + w.pending.size, 0);
  }

  async stop(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}
