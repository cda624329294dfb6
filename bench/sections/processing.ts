/**
 * 2. Processing: messages per second one actor applies end to end (dispatched → committed), and
 * the batch sizes seen (messages per commit: the after-commit effects of one batch share its state).
 *
 * - steady: 8 producers dispatch while the actor's consumer (serve() in the same process) drains,
 *   with at most 2,000 messages outstanding.
 * - backlog: the queue is filled first, then the consumer drains it alone (full batches).
 *
 * Baselines: the bare engine replaying the consumer's recorded transactions of a backlog drain
 * (same batches, no dgen code) on a fresh store whose queue holds as many messages; the naive JSON actor applying messages one transaction each (8
 * concurrent writers for steady, one for backlog); the Redux store.
 */
import { createSystem, type Backend } from '../../src/index.js';
import { applyMessage } from '../../src/serve/reduce.js';
import { newMessageId } from '../../src/store/message.js';
import { Counter } from '../lib/actors.js';
import { closedLoop, now, round, tightLoop } from '../lib/measure.js';
import { NaiveActor } from '../lib/naive.js';
import { observeCommits, pump } from '../lib/pump.js';
import { RecordingBackend, replaySerial } from '../lib/record.js';
import { row, type Row, type SectionContext } from '../lib/report.js';
import { reduxDispatchRate } from './dispatch.js';

const PRODUCERS = 100;
const CAP = 5_000;

/** Fills actor `id`'s queue with `n` messages (no consumer). */
async function fill(db: Backend, id: string, n: number): Promise<void> {
  const system = await createSystem({ backend: db });
  const ref = system.ref(Counter, id);
  const all: Promise<void>[] = [];
  for (let i = 0; i < n; i++) all.push(ref.dispatch.add(1));
  await Promise.all(all);
  await system.close();
}

/** Serves actor `id` until `n` messages are processed; returns the milliseconds and the observed commits. */
async function drain(db: Backend, id: string, n: number) {
  const system = await createSystem({ backend: db });
  const o = observeCommits();
  const t0 = now();
  system.serve(Counter, { ids: [id] });
  while (o.processed() < n) await o.signal.wait(20);
  const ms = now() - t0;
  o.stop();
  await system.close();
  return { ms, batches: o.batchSizes() };
}

let reducerOnly: number | undefined;

/** dgen's reducer step alone (immer produceWithPatches + validation), in memory. */
function reducerOnlyRate(ms: number): number {
  if (reducerOnly === undefined) {
    let state = Counter.initialState();
    const envelope = { id: newMessageId(), action: 'add', payload: 1, at: Date.now(), wantsReply: false };
    reducerOnly = tightLoop(ms, () => void (state = applyMessage(Counter, state, envelope, 'x').state));
  }
  return reducerOnly;
}

export async function processingSection(ctx: SectionContext): Promise<Row[]> {
  const { timing, engine } = ctx;
  const redux = reduxDispatchRate(timing.runMs);
  const db = await engine.store().open();
  try {
    // steady: producers and consumer together
    ctx.progress('processing: steady end to end');
    const system = await createSystem({ backend: db });
    system.serve(Counter, { ids: ['steady'] });
    const ref = system.ref(Counter, 'steady');
    const o = observeCommits();
    const steady = await pump({ producers: PRODUCERS, cap: CAP, timing, send: () => ref.dispatch.add(1), processed: o.processed, progress: o.signal });
    o.stop();
    await system.close();
    const steadyBatches = o.batchSizes(steady.from, steady.to);
    ctx.shared.set(`${engine.name}.processing`, steady.perSecond);

    const naiveSteady = new NaiveActor(db, 'steady', () => ({ count: 0 }), { retryLimit: 10_000 });
    const ns0 = db.stats();
    const naiveSteadyRate = (await closedLoop(PRODUCERS, timing, () => naiveSteady.send((s) => void (s.count += 1)))).perSecond;
    const ns1 = db.stats();

    // backlog: sized to take about one window at the steady rate, then drained alone
    ctx.progress('processing: backlog drain');
    const n = Math.max(1_000, Math.min(20_000, Math.round(steady.perSecond * (timing.runMs / 1_000))));
    await fill(db, 'backlog', n);
    const backlog = await drain(db, 'backlog', n);

    // bare: the consumer's transactions of another drain of n messages, recorded and replayed
    ctx.progress('processing: bare replay');
    const rec = new RecordingBackend(db);
    await fill(db, 'recorded', n);
    rec.recording = true;
    await drain(rec, 'recorded', n);
    rec.recording = false;
    const recorded = rec.take();
    // replayed on a fresh store whose queue holds n messages, as dgen's did when it drained
    const bareDb = await engine.store().open();
    let bareMs: number;
    try {
      await fill(bareDb, 'recorded', n);
      bareMs = await replaySerial(bareDb, recorded);
    } finally {
      await bareDb.close();
    }

    const naiveOne = new NaiveActor(db, 'backlog', () => ({ count: 0 }));
    const naiveOneRate = (await closedLoop(1, timing, () => naiveOne.send((s) => void (s.count += 1)))).perSecond;
    ctx.shared.set(`${engine.name}.naive.processing`, naiveOneRate);

    return [
      row({
        section: '2. processing (one actor)',
        case: `steady: ${PRODUCERS} producers, ≤${CAP.toLocaleString('en-US')} outstanding`,
        engine: engine.name,
        metric: 'processed',
        unit: 'msg/s',
        better: 'higher',
        dgen: steady.perSecond,
        baselines: { naive: naiveSteadyRate, redux },
        detail: { messagesPerCommit: steadyBatches, naiveConflicts: ns1.conflicts - ns0.conflicts, reducerOnlyPerSecond: round(reducerOnlyRate(timing.runMs)) },
        note: `batch mean ${steadyBatches.mean}, p50 ${steadyBatches.p50}, max ${steadyBatches.max}`,
      }),
      row({
        section: '2. processing (one actor)',
        case: `backlog of ${n.toLocaleString('en-US')} drained`,
        engine: engine.name,
        metric: 'processed',
        unit: 'msg/s',
        better: 'higher',
        dgen: n / (backlog.ms / 1_000),
        baselines: { bare: n / (bareMs / 1_000), naive: naiveOneRate, redux },
        detail: { messagesPerCommit: backlog.batches, bareTransactions: recorded.length },
        note: `batch mean ${backlog.batches.mean}, max ${backlog.batches.max}`,
      }),
    ];
  } finally {
    await db.close();
  }
}
