/**
 * Runs work one piece at a time, in the order given: each piece starts once the one before it
 * has settled (a failure does not stop the queue; its caller sees it).
 *
 * @example
 * const poster = new Serial();
 * await poster.run(() => send(tx));
 */
export class Serial {
  private queue: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
