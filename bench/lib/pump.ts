/**
 * End-to-end load: producers dispatch as fast as they can while a consumer processes, with at most
 * `cap` messages dispatched but not yet processed (so the queue stays bounded and the figure is the
 * consumer's rate, not the producers').
 */
import { probe } from './actors.js';
import { distribution, now, type Distribution, type Timing } from './measure.js';

/** Wakes everyone waiting for progress. */
export class Signal {
  private waiters: Array<() => void> = [];
  fire(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
  wait(timeoutMs = 50): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      setTimeout(resolve, timeoutMs);
    });
  }
}

export interface PumpResult {
  /** Messages processed per second in the measured window. */
  readonly perSecond: number;
  readonly processed: number;
  readonly dispatched: number;
  /** The measured window (performance.now() times). */
  readonly from: number;
  readonly to: number;
}

export async function pump(opts: {
  readonly producers: number;
  readonly cap: number;
  readonly timing: Timing;
  readonly send: (worker: number, i: number) => Promise<unknown>;
  /** Messages processed so far. */
  readonly processed: () => number;
  readonly progress: Signal;
}): Promise<PumpResult> {
  const { timing, processed } = opts;
  let sent = 0;
  let i = 0;
  const start = now();
  const from = start + timing.warmMs;
  const until = from + timing.runMs;
  // Sampled inline, not by timers: on the memory engine everything runs in microtasks and a
  // timer would only fire once the loops are over.
  let p0: number | undefined;
  let p1: number | undefined;
  const sample = () => {
    const t = now();
    if (p0 === undefined && t >= from) p0 = processed();
    if (p1 === undefined && t >= until) p1 = processed();
    return t;
  };
  await Promise.all(
    Array.from({ length: opts.producers }, async (_, w) => {
      while (sample() < until) {
        if (sent - processed() >= opts.cap) {
          await opts.progress.wait();
          continue;
        }
        sent++;
        await opts.send(w, i++);
      }
    }),
  );
  sample();
  const n = (p1 ?? processed()) - (p0 ?? 0);
  return { perSecond: n / (timing.runMs / 1_000), processed: n, dispatched: sent, from, to: until };
}

/**
 * Counts committed messages through the Counter's after-commit probe, and the messages of each
 * commit (one batch = one committed state object).
 */
export function observeCommits() {
  const batches: Array<[time: number, messages: number]> = [];
  const signal = new Signal();
  let last: unknown;
  let processed = 0;
  probe.onCommitted = (state) => {
    processed++;
    if (state !== last || batches.length === 0) {
      last = state;
      batches.push([now(), 1]);
      queueMicrotask(() => signal.fire());
    } else batches[batches.length - 1]![1]++;
  };
  return {
    signal,
    processed: () => processed,
    /** Messages per commit of the commits made between `from` and `to`. */
    batchSizes: (from = -Infinity, to = Infinity): Distribution => distribution(batches.filter(([t]) => t >= from && t <= to).map(([, n]) => n)),
    stop: () => void (probe.onCommitted = undefined),
  };
}
