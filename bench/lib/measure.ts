/**
 * Timing helpers shared by the sections: timed loops with a warm-up, open-loop pacing,
 * percentiles and rounding.
 */

/** Milliseconds of one measurement window and of its warm-up; scaled by `--seconds`. */
export interface Timing {
  readonly warmMs: number;
  readonly runMs: number;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const now = () => performance.now();

/** Rounds to `digits` significant decimals, keeping integers readable. */
export function round(x: number, digits = 3): number {
  if (!Number.isFinite(x)) return x;
  const a = Math.abs(x);
  if (a >= 100) return Math.round(x);
  if (a >= 1) return Number(x.toFixed(Math.max(0, digits - 1)));
  return Number(x.toPrecision(digits));
}

export interface Distribution {
  readonly n: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/** Summary of `samples` (any unit). */
export function distribution(samples: readonly number[]): Distribution {
  if (samples.length === 0) return { n: 0, p50: NaN, p99: NaN, max: NaN, mean: NaN };
  const sorted = Float64Array.from(samples).sort();
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
  let sum = 0;
  for (const s of sorted) sum += s;
  return { n: sorted.length, p50: round(at(0.5)), p99: round(at(0.99)), max: round(sorted[sorted.length - 1]!), mean: round(sum / sorted.length) };
}

/**
 * Runs `concurrency` loops of `op` for `timing.warmMs` (not counted), then for `timing.runMs`, and
 * returns operations per second of the measured window and each operation's latency (ms).
 */
export async function closedLoop(
  concurrency: number,
  timing: Timing,
  op: (worker: number, i: number) => Promise<unknown>,
): Promise<{ perSecond: number; ops: number; total: number; seconds: number; latencies: number[] }> {
  let i = 0;
  let ops = 0;
  const latencies: number[] = [];
  const start = now();
  const measureFrom = start + timing.warmMs;
  const until = measureFrom + timing.runMs;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      for (;;) {
        const t0 = now();
        if (t0 >= until) return;
        await op(w, i++);
        const t1 = now();
        if (t1 >= measureFrom && t1 <= until) {
          ops++;
          latencies.push(t1 - t0);
        }
      }
    }),
  );
  const seconds = timing.runMs / 1_000;
  return { perSecond: ops / seconds, ops, total: i, seconds, latencies };
}

/** Sequential loop of `op`: warm-up, then latencies over the window. */
export function sequential(timing: Timing, op: (i: number) => Promise<unknown>) {
  return closedLoop(1, timing, (_, i) => op(i));
}

/** Runs the synchronous `op` in a tight loop for `ms` and returns operations per second. */
export function tightLoop(ms: number, op: (i: number) => void): number {
  const warmUntil = now() + Math.min(200, ms / 4);
  let i = 0;
  while (now() < warmUntil) for (let k = 0; k < 1_000; k++) op(i++);
  let n = 0;
  const start = now();
  let t = start;
  while (t - start < ms) {
    for (let k = 0; k < 1_000; k++) op(i++);
    n += 1_000;
    t = now();
  }
  return n / ((t - start) / 1_000);
}

/**
 * Calls `fire()` at `ratePerSecond` (open loop: it does not wait for earlier calls) until `stop()`
 * is called. Errors of `fire` are collected, not thrown. When `maxInflight` calls are pending, the
 * calls due are skipped and counted: the load is more than the system keeps up with.
 */
export function paced(ratePerSecond: number, fire: () => Promise<unknown>, maxInflight = 10_000): { stop(): Promise<{ fired: number; skipped: number; errors: unknown[] }> } {
  const start = now();
  let fired = 0;
  let skipped = 0;
  const errors: unknown[] = [];
  const inflight = new Set<Promise<unknown>>();
  const timer = setInterval(() => {
    const due = Math.floor(((now() - start) / 1_000) * ratePerSecond);
    while (fired + skipped < due) {
      if (inflight.size >= maxInflight) {
        skipped++;
        continue;
      }
      fired++;
      const p = fire().catch((e) => void errors.push(e));
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    }
  }, 1);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all(inflight);
      return { fired, skipped, errors };
    },
  };
}

/** Elapsed milliseconds of `fn`. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = now();
  const value = await fn();
  return { ms: now() - t0, value };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
