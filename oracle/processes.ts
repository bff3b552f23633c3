import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/**
 * How Node runs the emitter (`npm run emitter`, `npm run start`, the benches' emitters): the
 * young generation may grow to 32 MB per semi-space (fewer scavenges, fewer short-lived objects
 * promoted), and V8's memory reducer is off. With V8's defaults, a replica that had sat idle
 * for half a minute (as a replica does between blocks) had its heap shrunk by the reducer, and
 * then ran a full collection every five seconds or so of traffic, whose marking steps stalled
 * its event loop up to 13 ms: with three replicas on two cores, the p99 from a member's block
 * to the relay went from about 20 to about 40 ms. `package.json`'s scripts carry the same flags
 * (a test holds them together).
 */
export const EMITTER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32', '--no-memory-reducer'];

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Sends a child process a signal (SIGKILL by default) and waits until it has exited. */
export async function killAndWait(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await exited;
}
