/**
 * Virtual time for the simulation. While a run is in progress, `setTimeout`, `setInterval`,
 * `Date.now`, `performance.now` and `Math.random` are replaced: time advances only when every
 * process of the run is idle (no microtask left), straight to the next timer. The memory engine
 * does no I/O, so a run is then a deterministic sequence of events: same seed, same run, and
 * seconds of leases, timeouts and backoff cost no wall-clock time.
 *
 * Idleness is detected with the real `setImmediate`: Node drains the whole microtask queue before
 * it runs an immediate callback.
 *
 * Clock skew: code run through {@link VirtualClock.within} reads `Date.now()` as virtual time plus
 * that process's offset, as a machine whose clock is off would. The offset follows the code
 * through promises and timers (AsyncLocalStorage), so every loop a simulated process starts keeps
 * its clock; `now` (and `performance.now`, a monotonic clock) stay true time.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const real = {
  setTimeout: globalThis.setTimeout,
  clearTimeout: globalThis.clearTimeout,
  setInterval: globalThis.setInterval,
  clearInterval: globalThis.clearInterval,
  setImmediate: globalThis.setImmediate,
  dateNow: Date.now,
  perfNow: performance.now,
  random: Math.random,
};

/** A timer of the virtual clock, shaped like Node's `Timeout` (unref, ref, refresh, close). */
class VirtualTimer {
  cancelled = false;
  constructor(
    private readonly clock: VirtualClock,
    readonly id: number,
    public due: number,
    public seq: number,
    readonly delay: number,
    readonly repeat: boolean,
    readonly fn: (...args: unknown[]) => void,
    readonly args: unknown[],
  ) {}
  unref(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  hasRef(): boolean {
    return true;
  }
  refresh(): this {
    this.clock.reschedule(this, this.clock.now + this.delay);
    return this;
  }
  close(): this {
    this.clock.cancel(this);
    return this;
  }
  [Symbol.toPrimitive](): number {
    return this.id;
  }
}

/** The clock offset (ms) of the simulated process running the current code. */
const offsets = new AsyncLocalStorage<number>();

/** The run ended badly: nothing left to happen before the workload finished, or time ran out. */
export class ClockError extends Error {}

export class VirtualClock {
  /** Virtual ms since epoch. */
  now: number;
  readonly start: number;
  private nextId = 1;
  private seq = 0;
  private heap: VirtualTimer[] = [];
  private readonly byId = new Map<number, VirtualTimer>();
  /** Errors thrown by timer callbacks (in Node they would crash the process). */
  readonly uncaught: unknown[] = [];
  fired = 0;

  constructor(
    start: number,
    private readonly random: () => number,
  ) {
    this.now = start;
    this.start = start;
  }

  /** Runs `main` in virtual time; fails when no timer is left before it settles or after `maxMs` of virtual time. */
  async run<T>(main: () => Promise<T>, maxMs: number): Promise<T> {
    const restore = this.install();
    try {
      let outcome: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
      main().then(
        (value) => (outcome = { ok: true, value }),
        (error) => (outcome = { ok: false, error }),
      );
      for (;;) {
        await new Promise<void>((resolve) => real.setImmediate(resolve));
        if (outcome !== undefined) break;
        const timer = this.pop();
        if (timer === undefined) throw new ClockError('deadlock: nothing is scheduled and the workload has not finished');
        if (timer.due - this.start > maxMs) throw new ClockError(`the run exceeded ${maxMs} ms of virtual time`);
        this.now = Math.max(this.now, timer.due);
        this.fire(timer);
      }
      if (!outcome.ok) throw outcome.error;
      return outcome.value;
    } finally {
      restore();
      this.heap = [];
      this.byId.clear();
    }
  }

  /** Runs `fn` as code of a process whose clock is `offset` ms ahead of true (virtual) time. */
  within<T>(offset: number, fn: () => T): T {
    return offsets.run(offset, fn);
  }

  /** The offset of the process running the current code (0 outside any). */
  get offset(): number {
    return offsets.getStore() ?? 0;
  }

  /** Sleeps `ms` of virtual time (only meaningful inside {@link run}). */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => void this.add(ms, false, () => resolve(), []));
  }

  /** Timers still scheduled (diagnostics). */
  get pending(): number {
    return this.byId.size;
  }

  private install(): () => void {
    const g = globalThis as Record<string, unknown>;
    g.setTimeout = (fn: (...a: unknown[]) => void, delay?: number, ...args: unknown[]) => this.add(delay, false, fn, args);
    g.setInterval = (fn: (...a: unknown[]) => void, delay?: number, ...args: unknown[]) => this.add(delay, true, fn, args);
    g.clearTimeout = g.clearInterval = (t: unknown) => this.clear(t);
    Date.now = () => this.now + (offsets.getStore() ?? 0);
    performance.now = () => this.now - this.start;
    Math.random = this.random;
    return () => {
      g.setTimeout = real.setTimeout;
      g.setInterval = real.setInterval;
      g.clearTimeout = real.clearTimeout;
      g.clearInterval = real.clearInterval;
      Date.now = real.dateNow;
      performance.now = real.perfNow;
      Math.random = real.random;
    };
  }

  private add(delay: number | undefined, repeat: boolean, fn: (...a: unknown[]) => void, args: unknown[]): VirtualTimer {
    if (typeof fn !== 'function') throw new TypeError('The "callback" argument must be of type function');
    let d = Number(delay);
    if (!(d >= 1 && d <= 2_147_483_647)) d = 1; // as Node does
    // The callback runs as code of the process that set the timer (its clock offset), as Node's own timers keep their async context.
    const t = new VirtualTimer(this, this.nextId++, this.now + d, this.seq++, d, repeat, offsets.getStore() === undefined ? fn : AsyncLocalStorage.bind(fn), args);
    this.byId.set(t.id, t);
    this.push(t);
    return t;
  }

  private clear(t: unknown): void {
    const timer = t instanceof VirtualTimer ? t : typeof t === 'number' ? this.byId.get(t) : undefined;
    if (timer !== undefined) this.cancel(timer);
  }

  cancel(t: VirtualTimer): void {
    t.cancelled = true;
    this.byId.delete(t.id);
  }

  reschedule(t: VirtualTimer, due: number): void {
    if (t.cancelled) return;
    t.cancelled = true; // the old heap entry is dropped lazily
    const copy = new VirtualTimer(this, t.id, due, this.seq++, t.delay, t.repeat, t.fn, t.args);
    this.byId.set(t.id, copy);
    this.push(copy);
  }

  private fire(t: VirtualTimer): void {
    this.fired++;
    if (t.repeat) {
      t.due = this.now + t.delay;
      t.seq = this.seq++;
      this.push(t);
    } else this.byId.delete(t.id);
    try {
      t.fn(...t.args);
    } catch (e) {
      this.uncaught.push(e);
    }
  }

  // A binary heap ordered by (due, seq): timers with the same due time fire in creation order.

  private less(a: VirtualTimer, b: VirtualTimer): boolean {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq);
  }

  private push(t: VirtualTimer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): VirtualTimer | undefined {
    const h = this.heap;
    while (h.length > 0) {
      const top = h[0]!;
      const last = h.pop()!;
      if (h.length > 0) {
        h[0] = last;
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
          if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
          if (m === i) break;
          [h[i], h[m]] = [h[m]!, h[i]!];
          i = m;
        }
      }
      if (!top.cancelled && this.byId.get(top.id) === top) return top;
    }
    return undefined;
  }
}
