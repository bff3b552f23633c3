import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { postJson } from './bench-util.js';

/**
 * The benches' members, on a thread of their own (see `Members` in bench-util.ts): they stand
 * for other machines, so on this one they run below the services under test in the scheduler.
 * Only this thread is lowered: the bench's main thread, whose priority the services it starts
 * inherit, stays where it was.
 */
try {
  setPriority(0, 10);
} catch {
  // not permitted: the members compete with the services
}

parentPort!.on('message', async ({ id, posts }: { id: number; posts: { urls: string[]; body: string }[] }) => {
  const statuses = await Promise.all(posts.map(({ urls, body }) => Promise.all(urls.map((url) => postJson(url, body)))));
  parentPort!.postMessage({ id, statuses });
});
