/**
 * 7. Timers: how fast a backlog of due timers fires, how late timers fire under a steady rate, and
 * what an idle host holding many pending timers costs.
 *
 * - backlog: 100,000 timers already due (100 instances × 1,000) moved into their queues by the
 *   firing transaction, batch after batch. Baseline (bare): the engine replaying the reads and
 *   writes of recorded firing transactions, with no dgen code.
 * - lateness: timers set at 1,000/s with a 100 ms delay on a served definition; lateness is the
 *   time from the due time (`ctx.now()`) to the reducer processing the message. Measured twice in
 *   the same run: as dgen runs (timers of idle instances served in the host's process processed in
 *   the firing transaction) and with that inline path turned off (every fired message through the
 *   queue and a consumer batch, as before it existed). Baseline: the same messages dispatched
 *   without delay at the same rate, enqueue to processing.
 * - idle CPU: a process serving a definition whose index holds many timers (DGEN_BENCH_IDLE_TIMERS,
 *   default 100,000), none due for an hour, CPU time per wall second over DGEN_BENCH_IDLE_MS
 *   (default 2 s). Baseline: the same process serving a definition with no timers.
 */
import { createSystem, defineActor, type Backend } from '../../src/index.js';
import { Layout } from '../../src/store/keys.js';
import { FireBatchSize, fireDue } from '../../src/time/fire.js';
import { timedOutgoing, unnamed, writeTimerOps } from '../../src/time/schedule.js';
import { firing } from '../../src/time/timekeeper.js';
import { distribution, now, paced, sleep } from '../lib/measure.js';
import { RecordingBackend, replaySerial, writes, type Recorded } from '../lib/record.js';
import { row, type Row, type SectionContext } from '../lib/report.js';

const BACKLOG = 100_000;
const INSTANCES = 100;
const RATE = 1_000;
const DELAY_MS = 100;
/** Rounds of the lateness cases (pooled). */
const ROUNDS = 3;

/** Latencies (ms) from ctx.now() to processing, pushed by the bench actor's reducer. */
let lateness: number[] = [];

const Ticker = defineActor({
  name: 'bench.ticker',
  initialState: () => ({ n: 0 }),
  reducers: {
    tick(state, _: void, ctx) {
      state.n += 1;
      lateness.push(Date.now() - ctx.now());
    },
  },
});

/**
 * Writes `count` timers of `name` due at `due + i`, 1,000 a transaction, over INSTANCES instances,
 * eight transactions at a time (on LMDB they then share fsyncs: a million timers in about a minute).
 */
async function writeTimers(db: Backend, name: string, count: number, due: number): Promise<void> {
  const layout = new Layout();
  const chunk = async (i: number) => {
    const ops = Array.from({ length: Math.min(1_000, count - i) }, (_, j) => unnamed(name, `i${(i + j) % INSTANCES}`, due + i + j, timedOutgoing('tick', undefined, due + i + j)));
    await db.transact((tx) => writeTimerOps(tx, layout, ops));
  };
  for (let i = 0; i < count; i += 8_000) {
    await Promise.all(Array.from({ length: 8 }, (_, k) => i + k * 1_000).filter((j) => j < count).map(chunk));
  }
}

/** Fires every due timer of `name`, in batches sized as a host sizes them; returns how many, in how many transactions. */
async function fireAll(db: Backend, name: string): Promise<{ fired: number; transactions: number }> {
  const layout = new Layout();
  const batch = new FireBatchSize();
  let fired = 0;
  let transactions = 0;
  for (;;) {
    let r;
    try {
      r = await db.transact((tx) => fireDue(tx, layout, name, Date.now(), undefined, batch.size), { idempotent: true });
    } catch (e) {
      if (batch.shrink(e)) continue;
      throw e;
    }
    batch.committed();
    transactions++;
    for (const n of r.ids.values()) fired += n;
    if (!r.more) return { fired, transactions };
  }
}

async function backlog(ctx: SectionContext): Promise<Row> {
  ctx.progress(`timers: writing a backlog of ${BACKLOG.toLocaleString('en')} due timers`);
  const db = await ctx.engine.store().open();
  let ms: number;
  let fired: number;
  let transactions: number;
  try {
    await writeTimers(db, 'bench.backlog', BACKLOG, Date.now() - BACKLOG - 1_000);
    ctx.progress('timers: firing the backlog');
    const t0 = now();
    ({ fired, transactions } = await fireAll(db, 'bench.backlog'));
    ms = now() - t0;
  } finally {
    await db.close();
  }
  ctx.progress('timers: recording and replaying firing transactions (bare engine)');
  const sample = 10_000;
  const recDb = await ctx.engine.store().open();
  let bareRate: number;
  try {
    await writeTimers(recDb, 'bench.recorded', sample, Date.now() - sample - 1_000);
    const rec = new RecordingBackend(recDb);
    rec.recording = true;
    await fireAll(rec, 'bench.recorded');
    rec.recording = false;
    const txs: Recorded[] = rec.take().filter(writes);
    const replayDb = await ctx.engine.store().open();
    try {
      const replayMs = await replaySerial(replayDb, txs);
      bareRate = (sample / replayMs) * 1_000;
    } finally {
      await replayDb.close();
    }
  } finally {
    await recDb.close();
  }
  return row({
    section: '7. timers',
    case: `backlog of ${BACKLOG.toLocaleString('en')} due timers (${INSTANCES} instances)`,
    engine: ctx.engine.name,
    metric: 'timers fired/s',
    unit: 'timers/s',
    better: 'higher',
    dgen: (fired / ms) * 1_000,
    baselines: { bare: bareRate },
    detail: { fired, ms: Math.round(ms), perTransaction: Math.round(fired / transactions) },
  });
}

/**
 * Processing latency of messages dispatched at RATE/s for the window, with `delay` (or none), to
 * the instances `${prefix}0…99`. Warm: every instance's consumer first holds its lease and state
 * (cold, a new instance's first message pays for both, and for writing its first state).
 */
async function steady(ctx: SectionContext, db: Backend, delay: number | undefined, prefix: string, warm = true): Promise<{ samples: number[]; sent: number; commits: number; conflicts: number }> {
  const system = await createSystem({ backend: db, closeBackend: false });
  system.serve(Ticker);
  if (warm) await Promise.all(Array.from({ length: INSTANCES }, (_, k) => system.ref(Ticker, `${prefix}${k}`).call.tick()));
  lateness = [];
  const { commits: commits0, conflicts: conflicts0 } = db.stats();
  let i = 0;
  const load = paced(RATE, () => system.ref(Ticker, `${prefix}${i++ % INSTANCES}`).dispatch.tick(undefined, delay === undefined ? undefined : { delay }));
  await sleep(ctx.timing.runMs);
  const { fired } = await load.stop();
  const deadline = now() + 30_000;
  while (lateness.length < fired && now() < deadline) await sleep(20);
  await system.close();
  return { samples: lateness, sent: fired, commits: db.stats().commits - commits0, conflicts: db.stats().conflicts - conflicts0 };
}

async function latenessRows(ctx: SectionContext): Promise<Row[]> {
  ctx.progress(`timers: lateness at ${RATE}/s`);
  const db = await ctx.engine.store().open();
  try {
    // A round not counted (JIT, first states), then ROUNDS rounds of every case in turn, pooled:
    // on a shared machine the load moves from one second to the next, and each case sees the same.
    await steady(ctx, db, undefined, 't');
    const pooled = { timed: [] as number[], queued: [] as number[], cold: [] as number[], immediate: [] as number[] };
    const sent = { timed: 0, queued: 0, cold: 0, immediate: 0 };
    const commits = { timed: 0, queued: 0, cold: 0, immediate: 0 };
    const conflicts = { timed: 0, queued: 0, cold: 0, immediate: 0 };
    const run = async (k: keyof typeof pooled, delay: number | undefined, prefix: string, warm = true) => {
      const r = await steady(ctx, db, delay, prefix, warm);
      pooled[k].push(...r.samples);
      sent[k] += r.sent;
      commits[k] += r.commits;
      conflicts[k] += r.conflicts;
    };
    for (let round = 0; round < ROUNDS; round++) {
      await run('timed', DELAY_MS, 't');
      firing.inline = false;
      try {
        await run('queued', DELAY_MS, 't');
        await run('cold', DELAY_MS, `cold${round}.`, false);
      } finally {
        firing.inline = true;
      }
      await run('immediate', undefined, 't');
    }
    const d = (k: keyof typeof pooled) => ({ d: distribution(pooled[k]), sent: sent[k] });
    const [timed, queued, cold, immediate] = [d('timed'), d('queued'), d('cold'), d('immediate')];
    const rows = (d: typeof timed, how: string) =>
      (['p50', 'p99', 'max'] as const).map((q) =>
        row({
          section: '7. timers',
          case: `${RATE.toLocaleString('en')} timers/s, delay ${DELAY_MS} ms: due → processed${how}`,
          note: 'baseline: the same messages without delay, enqueue → processed',
          engine: ctx.engine.name,
          metric: `lateness ${q}`,
          unit: 'ms',
          better: 'lower',
          dgen: d.d[q],
          baselines: { bare: immediate.d[q] },
          detail: q === 'p50' ? { timers: d.sent, processed: d.d.n, immediate: immediate.d.n } : undefined,
        }),
      );
    // Transactions (read-only ones included) per message, while the load runs and drains: a figure
    // the load of a shared machine moves little, unlike lateness.
    const perTimer = (k: keyof typeof pooled, how: string) =>
      row({
        section: '7. timers',
        case: `${RATE.toLocaleString('en')} timers/s, delay ${DELAY_MS} ms${how}`,
        note: 'baseline: the same messages without delay',
        engine: ctx.engine.name,
        metric: 'transactions per message',
        unit: 'transactions',
        better: 'lower',
        dgen: commits[k] / sent[k],
        baselines: { bare: commits.immediate / sent.immediate },
        detail: { conflicts: conflicts[k], immediateConflicts: conflicts.immediate },
      });
    return [
      perTimer('timed', ''),
      perTimer('queued', ' (inline firing off)'),
      ...rows(timed, ''),
      ...rows(queued, ' (inline firing off: every timer through the queue)'),
      ...rows(cold, ' (inline firing off, 100 new instances: how this was measured before)'),
    ];
  } finally {
    await db.close();
  }
}

/** CPU ms per wall second of this process while it serves `name` for the window. */
async function idleCpu(ctx: SectionContext, db: Backend, pending: number): Promise<number> {
  const name = 'bench.idle';
  if (pending > 0) await writeTimers(db, name, pending, Date.now() + 3_600_000);
  const Idle = defineActor({ name, initialState: () => ({}), reducers: { tick() {} } });
  const system = await createSystem({ backend: db, closeBackend: false });
  system.serve(Idle);
  await sleep(300);
  const c0 = process.cpuUsage();
  const t0 = now();
  await sleep(Number(process.env.DGEN_BENCH_IDLE_MS ?? Math.max(2_000, ctx.timing.runMs * 2)));
  const c = process.cpuUsage(c0);
  const wall = now() - t0;
  await system.close();
  return (c.user + c.system) / 1_000 / (wall / 1_000);
}

async function idleRow(ctx: SectionContext): Promise<Row> {
  // 100,000 by default: writing 1,000,000 takes a minute or more on a small machine (DGEN_BENCH_IDLE_TIMERS=1000000 to measure it).
  const pending = Number(process.env.DGEN_BENCH_IDLE_TIMERS ?? 100_000);
  ctx.progress(`timers: idle CPU with ${pending.toLocaleString('en')} pending timers`);
  const empty = await ctx.engine.store().open();
  const full = await ctx.engine.store().open();
  try {
    const base = await idleCpu(ctx, empty, 0);
    const loaded = await idleCpu(ctx, full, pending);
    return row({
      section: '7. timers',
      case: `idle host, ${pending.toLocaleString('en')} timers pending (none due)`,
      note: 'baseline: the same host serving a definition without timers',
      engine: ctx.engine.name,
      metric: 'CPU',
      unit: 'ms/s',
      better: 'lower',
      dgen: loaded,
      baselines: { bare: base },
    });
  } finally {
    await empty.close();
    await full.close();
  }
}

/** DGEN_BENCH_TIMERS=backlog,lateness,idle picks the cases (default: all). */
export async function timersSection(ctx: SectionContext): Promise<Row[]> {
  const only = process.env.DGEN_BENCH_TIMERS?.split(',');
  const want = (c: string) => only === undefined || only.includes(c);
  return [...(want('backlog') ? [await backlog(ctx)] : []), ...(want('lateness') ? await latenessRows(ctx) : []), ...(want('idle') ? [await idleRow(ctx)] : [])];
}
