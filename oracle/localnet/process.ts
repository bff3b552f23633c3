import { spawn, type ChildProcess } from 'node:child_process';
import { FetchError } from '../errors.js';
import { NetworkChain } from '../chain/network.js';

/** A local chain running in a child process (`mina-pool chain`), for `npm start` and tests. */
export interface ChildChain {
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts `mina-pool chain` in a child process and waits until it answers at `url`.
 * Its output goes to `output` (the parent's stderr by default).
 */
export async function startChainProcess(options: { bin: string; args: string[]; url: string; cwd?: string; timeoutMs?: number; quiet?: boolean }): Promise<ChildChain> {
  const child = spawn(process.execPath, [options.bin, 'chain', ...options.args], { cwd: options.cwd, stdio: ['ignore', options.quiet ? 'ignore' : 'inherit', options.quiet ? 'pipe' : 'inherit'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  for (;;) {
    const early = await Promise.race([exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 250))]);
    if (early !== undefined) throw new FetchError(`the local chain did not start (exit ${early})${stderr ? `: ${stderr.trim().split('\n').pop()}` : ''}`);
    try {
      await NetworkChain.connect({ url: options.url, networkId: 'testnet' });
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new FetchError(`the local chain did not answer at ${options.url} within ${Math.round((options.timeoutMs ?? 120_000) / 1000)} s`);
      }
    }
  }
  return {
    process: child,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
