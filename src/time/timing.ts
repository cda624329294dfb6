/**
 * Checks a `{ delay }` / `{ at }` at the boundary and turns it into a due time (epoch ms).
 * @internal
 */
import type { Timing } from '../define/timing.js';
import { InvalidTimerKeyError, InvalidTimingError } from './errors.js';

/**
 * The furthest ahead a timer may be set: 10 years (documented in README). A longer `delay` or a
 * later `at` fails with `invalid_options`.
 * @example
 * ```ts
 * await ref.dispatch.renew(undefined, { delay: Math.min(wanted, MAX_DELAY_MS) });
 * ```
 */
export const MAX_DELAY_MS = 10 * 365.25 * 24 * 60 * 60 * 1000;
/** Longest timer key, like actor ids. */
export const MAX_TIMER_KEY_BYTES = 1_000;

/** Is a delay or a time asked for (a field present and not undefined)? */
export function isTimed(options: unknown): boolean {
  if (options === null || typeof options !== 'object') return false;
  const o = options as { delay?: unknown; at?: unknown };
  return o.delay !== undefined || o.at !== undefined;
}

/**
 * The due time of `when`, in whole ms since epoch. An `at` in the past is kept as given: the timer
 * is overdue, fires as soon as possible, in due order with the other overdue ones, and its
 * message's `ctx.now()` is that time. Throws `invalid_options` for anything else than exactly one of a finite delay in
 * [0, MAX_DELAY_MS] or an `at` (Date or epoch ms) at most MAX_DELAY_MS ahead.
 */
export function dueOf(where: string, when: Timing | undefined, now: number): number {
  if (when === null || typeof when !== 'object') throw new InvalidTimingError(where, 'expected { delay: ms } or { at: Date | epoch ms }');
  const { delay, at } = when as { delay?: unknown; at?: unknown };
  if (delay !== undefined && at !== undefined) throw new InvalidTimingError(where, 'give either delay or at, not both');
  if (delay !== undefined) {
    if (typeof delay !== 'number' || !Number.isFinite(delay) || delay < 0) throw new InvalidTimingError(where, `delay must be a finite number of milliseconds >= 0, got ${String(delay)}`);
    if (delay > MAX_DELAY_MS) throw new InvalidTimingError(where, `delay ${delay} ms is beyond the maximum of ${MAX_DELAY_MS} ms (10 years)`);
    return Math.ceil(now + delay);
  }
  const time = at instanceof Date ? at.getTime() : at;
  if (typeof time !== 'number' || !Number.isFinite(time) || time < 0) throw new InvalidTimingError(where, `at must be a valid Date or epoch milliseconds >= 0, got ${String(at)}`);
  if (time - now > MAX_DELAY_MS) throw new InvalidTimingError(where, `at ${new Date(time).toISOString()} is more than 10 years ahead`);
  return Math.ceil(time);
}

/** Checks a timer key. */
export function checkTimerKey(where: string, key: unknown): asserts key is string {
  if (typeof key !== 'string') throw new InvalidTimerKeyError(where, `expected a string, got ${key === null ? 'null' : typeof key}`);
  if (key.length === 0) throw new InvalidTimerKeyError(where, 'the key is empty');
  if (Buffer.byteLength(key) > MAX_TIMER_KEY_BYTES) throw new InvalidTimerKeyError(where, `the key is ${Buffer.byteLength(key)} bytes long`);
}
