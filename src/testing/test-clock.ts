/**
 * The virtual clock of a test system: actor time (what `ctx.now()` returns, when delayed
 * dispatches and timers are due) stands still until the test moves it. Leases, timeouts and
 * retries keep the process's clock, so a test never waits for a delay it did not ask for.
 */
import type { Clock } from '../runtime/clock.js';
import { InvalidOptionsError } from '../errors.js';

/**
 * The clock a test moves by hand.
 *
 * @example
 * ```ts
 * const t = await createTestSystem({ now: Date.UTC(2030, 0, 1) });
 * t.clock.advance(60_000);             // one virtual minute later
 * t.clock.now();                       // 1893456060000
 * ```
 */
export interface TestClock {
  /** Virtual epoch milliseconds. */
  now(): number;
  /**
   * Moves the clock forward by `ms` at once: timers and delayed dispatches due by then fire (await
   * `system.settle()` to see their messages processed). See `system.advance` to step through
   * every timer due on the way.
   */
  advance(ms: number): void;
  /** Moves the clock forward to `time` (epoch ms or Date); a time in the past is refused. */
  set(time: number | Date): void;
}

interface Waiter {
  readonly due: number;
  readonly resolve: () => void;
}

/** The test clock, also the system's source of actor time. @internal */
export class ManualClock implements TestClock, Clock {
  private current: number;
  private waiters = new Set<Waiter>();

  constructor(start: number) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  advance(ms: number): void {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw new InvalidOptionsError('clock.advance(ms)', 'ms', `must be a finite number of milliseconds >= 0, got ${String(ms)}`);
    this.moveTo(this.current + ms);
  }

  set(time: number | Date): void {
    const t = time instanceof Date ? time.getTime() : time;
    if (typeof t !== 'number' || !Number.isFinite(t)) throw new InvalidOptionsError('clock.set(time)', 'time', `must be a Date or epoch milliseconds, got ${String(time)}`);
    if (t < this.current) throw new InvalidOptionsError('clock.set(time)', 'time', `is ${this.current - t} ms before the clock's time; a test clock only moves forward`);
    this.moveTo(t);
  }

  waitUntil(due: number): { readonly promise: Promise<void>; cancel(): void } {
    let waiter: Waiter | undefined;
    const promise = new Promise<void>((resolve) => {
      waiter = { due, resolve };
      if (due <= this.current) resolve();
      else this.waiters.add(waiter);
    });
    return { promise, cancel: () => void this.waiters.delete(waiter!) };
  }

  private moveTo(time: number): void {
    this.current = Math.floor(time);
    for (const w of [...this.waiters]) {
      if (w.due > this.current) continue;
      this.waiters.delete(w);
      w.resolve();
    }
  }
}
