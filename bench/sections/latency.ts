/**
 * 3. Call latency: p50 / p99 / max of `call` on an idle actor served in the same process, and
 * under load: a background dispatch load into the same actor at half the steady processing rate
 * measured in section 2 (open loop, so the queue the call waits behind is realistic). The naive
 * actor is loaded the same way at half its own capacity.
 *
 * Baselines: the bare engine replaying, in order, the transactions one idle call committed before
 * its reply arrived; the naive JSON actor's read-modify-write (idle, and under the same background
 * rate of read-modify-writes); one Redux dispatch.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { createSystem, type Backend } from '../../src/index.js';
import { Counter } from '../lib/actors.js';
import { distribution, now, paced, type Distribution, type Timing } from '../lib/measure.js';
import { NaiveActor } from '../lib/naive.js';
import { RecordingBackend, replayInto, type Recorded } from '../lib/record.js';
import { counterReducer, createStore } from '../lib/redux.js';
import { row, type Row, type SectionContext } from '../lib/report.js';

/** Latencies (ms) of `op` run one at a time; yields to the event loop between calls (not timed) so timers and I/O run. */
async function latencies(timing: Timing, op: () => Promise<unknown>): Promise<Distribution & { failed: number }> {
  const samples: number[] = [];
  let failed = 0;
  const from = now() + timing.warmMs;
  const until = from + timing.runMs;
  for (;;) {
    await yieldToLoop();
    const t0 = now();
    if (t0 >= until) break;
    try {
      await op();
    } catch {
      failed++; // e.g. a naive read-modify-write that kept conflicting until it timed out
      continue;
    }
    if (t0 >= from) samples.push(now() - t0);
  }
  return { ...distribution(samples), failed };
}

/**
 * The naive actor's writers all read-modify-write one key, so under load they conflict and retry;
 * short backoffs and a bounded retry count keep a conflict storm from outlasting the measurement
 * (a call that still fails is counted in `naiveFailed`).
 */
const NAIVE_OPTIONS = { retryLimit: 100, maxRetryDelayMs: 20 };

let reduxLatency: Distribution | undefined;

function reduxDispatchLatency(): Distribution {
  if (reduxLatency === undefined) {
    const store = createStore(counterReducer, { count: 0 });
    const action = { type: 'add', payload: 1 };
    const samples: number[] = [];
    for (let i = 0; i < 200_000; i++) {
      const t0 = now();
      store.dispatch(action);
      samples.push(now() - t0);
    }
    reduxLatency = distribution(samples.slice(50_000));
  }
  return reduxLatency;
}

/** Records the transactions each of `n` idle calls committed before its reply. */
async function recordCalls(db: Backend, n: number): Promise<Recorded[][]> {
  const rec = new RecordingBackend(db);
  const system = await createSystem({ backend: rec });
  system.serve(Counter, { ids: ['recorded'] });
  const ref = system.ref(Counter, 'recorded');
  await ref.call.addGet(1);
  await new Promise((r) => setTimeout(r, 20));
  const calls: Recorded[][] = [];
  for (let i = 0; i < n; i++) {
    rec.recording = true;
    await ref.call.addGet(1);
    rec.recording = false;
    calls.push(rec.take());
    await new Promise((r) => setTimeout(r, 5)); // let the consumer finish its idle bookkeeping
    rec.take();
  }
  await system.close();
  return calls;
}

export async function latencySection(ctx: SectionContext): Promise<Row[]> {
  const { timing, engine } = ctx;
  const capacity = ctx.shared.get(`${engine.name}.processing`) ?? 1_000;
  const loadRate = Math.max(10, Math.round(capacity / 2));
  const naiveLoadRate = Math.max(10, Math.round((ctx.shared.get(`${engine.name}.naive.processing`) ?? 100) / 2));
  const redux = reduxDispatchLatency();
  const db = await engine.store().open();
  try {
    ctx.progress('latency: idle');
    const system = await createSystem({ backend: db });
    system.serve(Counter, { ids: ['idle', 'loaded'] });
    const idleRef = system.ref(Counter, 'idle');
    const idle = await latencies(timing, () => idleRef.call.addGet(1));

    ctx.progress(`latency: under a load of ${loadRate} msg/s`);
    const loadedRef = system.ref(Counter, 'loaded');
    const load = paced(loadRate, () => loadedRef.dispatch.add(1));
    const loaded = await latencies(timing, () => loadedRef.call.addGet(1));
    const fired = await load.stop();
    await system.close();

    ctx.progress('latency: baselines');
    const calls = await recordCalls(db, 20);
    let k = 0;
    const bare = await latencies(timing, async () => {
      for (const ops of calls[k++ % calls.length]!) await db.transact((tx) => replayInto(tx, ops));
    });

    const naive = new NaiveActor(db, 'idle', () => ({ count: 0 }), NAIVE_OPTIONS);
    const naiveIdle = await latencies(timing, () => naive.send((s) => (s.count += 1)));
    const naiveLoad = paced(naiveLoadRate, () => naive.send((s) => void (s.count += 1)), 100);
    const naiveLoaded = await latencies(timing, () => naive.send((s) => (s.count += 1)));
    const naiveFired = await naiveLoad.stop();

    const rows: Row[] = [];
    const add = (label: string, d: Distribution, b: Distribution | undefined, n: Distribution, extra: Record<string, unknown> = {}) => {
      for (const q of ['p50', 'p99', 'max'] as const) {
        rows.push(
          row({
            section: '3. call latency',
            case: label,
            engine: engine.name,
            metric: `call ${q}`,
            unit: 'ms',
            better: 'lower',
            dgen: d[q],
            baselines: { bare: b?.[q], naive: n[q], redux: redux[q] },
            detail: q === 'p50' ? { calls: d.n, mean: d.mean, ...extra } : undefined,
          }),
        );
      }
    };
    add('idle actor', idle, bare, naiveIdle, { bareTransactionsPerCall: calls[0]?.length, failed: idle.failed, naiveFailed: naiveIdle.failed });
    add(`under load: dispatches into the same actor at ½ capacity`, loaded, undefined, naiveLoaded, {
      loadPerSecond: loadRate,
      naiveLoadPerSecond: naiveLoadRate,
      loadDispatched: fired.fired,
      loadSkipped: fired.skipped,
      loadErrors: fired.errors.length,
      failed: loaded.failed,
      naiveFailed: naiveLoaded.failed,
      naiveLoadErrors: naiveFired.errors.length,
      naiveLoadSkipped: naiveFired.skipped,
    });
    return rows;
  } finally {
    await db.close();
  }
}
