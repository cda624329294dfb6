/**
 * When a delayed or scheduled message is due: the types shared by `dispatch`, `ctx.send` and
 * `ctx.schedule`. Checked at run time by `time/timing.ts`.
 */

/**
 * When a message is due: `{ delay }` milliseconds from now, or `{ at }` a `Date` or epoch
 * milliseconds (a time in the past fires as soon as possible).
 *
 * @example
 * ```ts
 * await ref.dispatch.expire(undefined, { delay: 15 * 60_000 });
 * await ref.dispatch.digest(undefined, { at: new Date('2030-01-01T08:00:00Z') });
 * ```
 */
export type Timing = { readonly delay: number; readonly at?: undefined } | { readonly at: Date | number; readonly delay?: undefined };

/**
 * A timer set by a reducer with `ctx.schedule`: a {@link Timing}, plus an optional `key` that names
 * the timer within its instance. Scheduling the same key again replaces the pending timer;
 * `ctx.cancel(key)` removes it.
 *
 * @example
 * ```ts
 * ctx.schedule({ delay: 15 * 60_000, key: 'expiry' }).expire();
 * ```
 */
export type TimerSpec = Timing & { readonly key?: string };
