/**
 * 14. Change feed: what the feed costs the processing path, and how far behind a listener runs.
 *
 * - write amplification: keys and bytes written per batch by a backlog drain of the same messages
 *   into a definition with a feed and one without (baseline), same run, same engine.
 * - processing: messages per second of a backlog drain (20,000 messages over 100 instances) without
 *   a feed (baseline), with a feed, and with a feed and a running listener (noop handler).
 * - listener lag: messages dispatched at 10,000/s (open loop) for the measured window, a listener
 *   following the feed (batchSize 256); lag is the time from a change's commit (`change.at`) to its handler.
 *   Baseline: a `system.changes` reader (no checkpoint, no lease) in the same run.
 */
import { createSystem, defineActor, type Backend, type System } from '../../src/index.js';
import { distribution, now, paced, sleep } from '../lib/measure.js';
import { row, type Row, type SectionContext } from '../lib/report.js';

const MESSAGES = 20_000;
const INSTANCES = 100;
const RATE = 10_000;

const reducers = { add(state: { n: number }, by: number) { state.n += by; } };
const Plain = defineActor({ name: 'bench.plain', initialState: () => ({ n: 0 }), reducers });
const Fed = defineActor({ name: 'bench.fed', changes: true, initialState: () => ({ n: 0 }), reducers });
type Def = typeof Plain;

async function fill(db: Backend, def: Def): Promise<void> {
  const system = await createSystem({ backend: db, closeBackend: false });
  const all: Promise<void>[] = [];
  for (let i = 0; i < MESSAGES; i++) all.push(system.ref(def, `i${i % INSTANCES}`).dispatch.add(1));
  await Promise.all(all);
  await system.close();
}

async function total(system: System, def: Def): Promise<number> {
  let n = 0;
  for (let i = 0; i < INSTANCES; i++) n += await system.ref(def, `i${i}`).query((s) => s.n);
  return n;
}

/** Drains a backlog of `def`; returns msg/s and keys/bytes written per commit. */
async function drain(ctx: SectionContext, def: Def, withListener: boolean): Promise<{ rate: number; keys: number; bytes: number }> {
  const db = await ctx.engine.store().open();
  try {
    await fill(db, def);
    const system = await createSystem({ backend: db, closeBackend: false });
    if (withListener) system.listen({ name: 'bench.noop', on: def, handler: () => {} });
    const before = db.stats();
    const t0 = now();
    system.serve(def, { concurrency: 16 });
    while ((await total(system, def)) < MESSAGES) await sleep(20);
    const ms = now() - t0;
    const after = db.stats();
    await system.close();
    const commits = after.commits - before.commits;
    return { rate: (MESSAGES / ms) * 1_000, keys: (after.keysWritten - before.keysWritten) / commits, bytes: (after.bytesWritten - before.bytesWritten) / commits };
  } finally {
    await db.close();
  }
}

/** Dispatches at RATE for the window; returns the lags (ms) of the listener and of a plain reader. */
async function lag(ctx: SectionContext): Promise<{ listener: number[]; reader: number[]; fired: number; skipped: number }> {
  const db = await ctx.engine.store().open();
  try {
    const system = await createSystem({ backend: db, closeBackend: false });
    const listener: number[] = [];
    const reader: number[] = [];
    let measuring = false;
    system.serve(Fed, { concurrency: 32 });
    system.listen({ name: 'bench.lag', on: Fed, from: 'now', batchSize: 256, handler: (c) => void (measuring && listener.push(Date.now() - c.at)) });
    const sub = system.changes(Fed).subscribe((c) => void (measuring && reader.push(Date.now() - c.at)));
    let i = 0;
    const load = paced(RATE, () => system.ref(Fed, `i${i++ % INSTANCES}`).dispatch.add(1));
    await sleep(ctx.timing.warmMs);
    measuring = true;
    await sleep(ctx.timing.runMs);
    const { fired, skipped } = await load.stop();
    await sleep(500);
    measuring = false;
    sub.unsubscribe();
    await system.close();
    return { listener, reader, fired, skipped };
  } finally {
    await db.close();
  }
}

export async function changesSection(ctx: SectionContext): Promise<Row[]> {
  const engine = ctx.engine.name;
  ctx.progress('changes: backlog drains without a feed, with one, with a listener');
  // Twice each, interleaved, best of two: the first drains of a run also warm the JIT up.
  const best = (a: Awaited<ReturnType<typeof drain>>, b: Awaited<ReturnType<typeof drain>>) => (a.rate >= b.rate ? a : b);
  let plain = await drain(ctx, Plain, false);
  let fed = await drain(ctx, Fed, false);
  let listened = await drain(ctx, Fed, true);
  plain = best(plain, await drain(ctx, Plain, false));
  fed = best(fed, await drain(ctx, Fed, false));
  listened = best(listened, await drain(ctx, Fed, true));
  ctx.progress(`changes: listener lag at ${RATE.toLocaleString('en')} msg/s`);
  const l = await lag(ctx);
  const ld = distribution(l.listener);
  const rd = distribution(l.reader);
  return [
    row({ section: 'changes', case: 'keys written per batch', engine, metric: 'keys/commit', unit: 'keys', better: 'lower', dgen: fed.keys, baselines: { bare: plain.keys }, note: 'baseline: the same definition without a feed' }),
    row({ section: 'changes', case: 'bytes written per batch', engine, metric: 'bytes/commit', unit: 'B', better: 'lower', dgen: fed.bytes, baselines: { bare: plain.bytes }, note: 'baseline: the same definition without a feed' }),
    row({ section: 'changes', case: 'backlog drain with a feed', engine, metric: 'throughput', unit: 'msg/s', better: 'higher', dgen: fed.rate, baselines: { bare: plain.rate }, note: 'baseline: without a feed' }),
    row({ section: 'changes', case: 'backlog drain with a feed and a listener', engine, metric: 'throughput', unit: 'msg/s', better: 'higher', dgen: listened.rate, baselines: { bare: plain.rate }, note: 'baseline: without a feed' }),
    row({ section: 'changes', case: `listener lag at ${RATE} msg/s (p50)`, engine, metric: 'lag p50', unit: 'ms', better: 'lower', dgen: ld.p50, baselines: { bare: rd.p50 }, detail: { listener: ld, reader: rd, fired: l.fired, skipped: l.skipped }, note: 'baseline: a system.changes reader in the same run' }),
    row({ section: 'changes', case: `listener lag at ${RATE} msg/s (p99)`, engine, metric: 'lag p99', unit: 'ms', better: 'lower', dgen: ld.p99, baselines: { bare: rd.p99 }, note: 'baseline: a system.changes reader in the same run' }),
  ];
}
