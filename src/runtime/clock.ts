/**
 * Where a system reads the time of day for what its actors see of time: the enqueue time of a
 * message (`ctx.now()`), the due time of a delayed dispatch or a timer, and when a timer host
 * fires. Leases, timeouts, retries and backoff keep the process's own clock: they are about this
 * machine, not about the actors' time. The test toolkit (`dgen/testing`) gives a system a virtual
 * clock through {@link CLOCK}; nothing else sets it.
 * @internal
 */

/** A clock of actor time. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Resolves once `now()` has reached `due`; `cancel` drops the wait (its promise then never resolves). */
  waitUntil(due: number): { readonly promise: Promise<void>; cancel(): void };
}

/** setTimeout's longest delay: a wait further away resolves early, and its caller looks again. */
const MAX_SLEEP_MS = 2 ** 31 - 1;

/** The process's clock (`Date.now()`, `setTimeout`). */
export const systemClock: Clock = {
  now: () => Date.now(),
  waitUntil(due) {
    let timer: NodeJS.Timeout | undefined;
    const promise = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, Math.min(MAX_SLEEP_MS, due - Date.now())));
      timer.unref();
    });
    return { promise, cancel: () => clearTimeout(timer) };
  },
};

/** The key of `createSystem`'s options under which the test toolkit passes its clock (a symbol: no user option can name it). */
export const CLOCK: unique symbol = Symbol('dgen.clock');

/** Options that may carry a clock. */
export interface ClockOption {
  readonly [CLOCK]?: Clock;
}
