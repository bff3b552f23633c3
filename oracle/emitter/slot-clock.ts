/**
 * The slot clock: which slot a moment belongs to, when a slot starts, and waiting for a
 * moment with an `AbortSignal` for shutdown. Time comes from a {@link TimeSource}, so tests
 * drive it by hand ({@link ManualTime}) and the service uses the wall clock.
 */

/** Where the time comes from, in milliseconds since the Unix epoch. */
export interface TimeSource {
  now(): number;
  /** Resolves at `at` (or at once if it has passed); rejects with the signal's reason if aborted. */
  sleepUntil(at: number, signal?: AbortSignal): Promise<void>;
}

/** The wall clock. */
export const systemTime: TimeSource = {
  now: () => Date.now(),
  sleepUntil: (at, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = setTimeout(done, Math.max(0, at - Date.now()));
      function done() {
        signal?.removeEventListener('abort', abort);
        resolve();
      }
      function abort() {
        clearTimeout(timer);
        reject(signal!.reason);
      }
      signal?.addEventListener('abort', abort, { once: true });
    }),
};

/** A clock a test moves by hand: sleepers wake when `advance` or `set` passes their moment. */
export class ManualTime implements TimeSource {
  private current: number;
  private sleepers: { at: number; resolve: () => void }[] = [];

  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  sleepUntil(at: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (at <= this.current) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const abort = () => {
        this.sleepers = this.sleepers.filter((s) => s !== sleeper);
        reject(signal!.reason);
      };
      // A sleeper woken by the clock takes its listener off the signal (a loop sleeps once a slot).
      const sleeper = { at, resolve: () => (signal?.removeEventListener('abort', abort), resolve()) };
      this.sleepers.push(sleeper);
      signal?.addEventListener('abort', abort, { once: true });
    });
  }

  /** Moves the clock to `at` and wakes every sleeper whose moment has come, in order. */
  async set(at: number): Promise<void> {
    if (at < this.current) throw new Error(`a manual clock does not go back (${at} < ${this.current})`);
    this.current = at;
    const due = this.sleepers.filter((s) => s.at <= at).sort((a, b) => a.at - b.at);
    this.sleepers = this.sleepers.filter((s) => s.at > at);
    for (const s of due) s.resolve();
    // Let the woken tasks run before the caller goes on.
    for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
  }

  advance(ms: number): Promise<void> {
    return this.set(this.current + ms);
  }
}

export interface SlotClockOptions {
  /** Start of slot 0, in ms since the Unix epoch. */
  genesisMs: number;
  /** Slot duration in ms: 180 000 on mainnet, 90 000 after Mesa. */
  slotMs: number;
  time?: TimeSource;
}

/**
 * Slots of a Mina-like chain: slot `s` runs from `genesisMs + s·slotMs` for `slotMs`.
 *
 * @example
 * const clock = new SlotClock({ genesisMs: Date.parse('2021-03-17T00:00:00Z'), slotMs: 180_000 });
 * clock.currentSlot(); // the global slot now
 */
export class SlotClock {
  readonly genesisMs: number;
  readonly slotMs: number;
  readonly time: TimeSource;

  constructor(options: SlotClockOptions) {
    if (!Number.isFinite(options.genesisMs)) throw new RangeError(`genesis time must be a number of milliseconds, not ${options.genesisMs}`);
    if (!Number.isInteger(options.slotMs) || options.slotMs <= 0) throw new RangeError(`slot duration must be a positive whole number of milliseconds, not ${options.slotMs}`);
    this.genesisMs = options.genesisMs;
    this.slotMs = options.slotMs;
    this.time = options.time ?? systemTime;
  }

  now(): number {
    return this.time.now();
  }

  /** The slot that `ms` falls in (negative before genesis). */
  slotAt(ms: number): number {
    return Math.floor((ms - this.genesisMs) / this.slotMs);
  }

  currentSlot(): number {
    return this.slotAt(this.now());
  }

  slotStart(slot: number): number {
    return this.genesisMs + slot * this.slotMs;
  }

  /** Waits until `ms`; rejects when `signal` aborts. */
  sleepUntil(ms: number, signal?: AbortSignal): Promise<void> {
    return this.time.sleepUntil(ms, signal);
  }
}
