/**
 * 1. Dispatch: durable enqueues per second into one actor from 1, 10 and 100 concurrent producers,
 * and from 100 producers spread over 1,000 actors (a ref each). Nothing consumes the queue.
 *
 * Baselines: the bare engine replaying the transaction dgen commits to enqueue one message (with
 * the same concurrency, one transaction per message); the naive JSON actor, whose "enqueue" is
 * the durable read-modify-write of its state; the Redux store's dispatch.
 */
import { createSystem } from '../../src/index.js';
import { Counter } from '../lib/actors.js';
import { closedLoop } from '../lib/measure.js';
import { NaiveActor } from '../lib/naive.js';
import { RecordingBackend, replayInto, type Recorded } from '../lib/record.js';
import { counterReducer, createStore } from '../lib/redux.js';
import { tightLoop } from '../lib/measure.js';
import { row, type Row, type SectionContext } from '../lib/report.js';

const CASES = [
  { label: '1 producer → 1 actor', producers: 1, actors: 1 },
  { label: '10 producers → 1 actor', producers: 10, actors: 1 },
  { label: '100 producers → 1 actor', producers: 100, actors: 1 },
  { label: '100 producers → 1,000 actors', producers: 100, actors: 1_000 },
] as const;

let reduxRate: number | undefined;

/** Redux dispatches per second (engine-independent, measured once per run). */
export function reduxDispatchRate(ms: number): number {
  if (reduxRate === undefined) {
    const store = createStore(counterReducer, { count: 0 });
    const action = { type: 'add', payload: 1 };
    reduxRate = tightLoop(ms, () => void store.dispatch(action));
  }
  return reduxRate;
}

const pick = (actors: number, w: number, i: number) => (actors === 1 ? 0 : (w * 7919 + i * 104_729) % actors);

export async function dispatchSection(ctx: SectionContext): Promise<Row[]> {
  const rows: Row[] = [];
  const redux = reduxDispatchRate(ctx.timing.runMs);
  for (const c of CASES) {
    ctx.progress(`dispatch: ${c.label}`);
    const db = await ctx.engine.store().open();
    try {
      // dgen
      const system = await createSystem({ backend: db });
      const refs = Array.from({ length: c.actors }, (_, i) => system.ref(Counter, `a${i}`));
      const s0 = db.stats();
      const r = await closedLoop(c.producers, ctx.timing, (w, i) => refs[pick(c.actors, w, i)]!.dispatch.add(1));
      const s1 = db.stats();
      await system.close();

      // bare: the enqueue transaction of one message, recorded once per actor and replayed
      const rec = new RecordingBackend(db);
      const recSystem = await createSystem({ backend: rec });
      rec.recording = true;
      await Promise.all(Array.from({ length: c.actors }, (_, i) => recSystem.ref(Counter, `a${i}`).dispatch.add(1)));
      const templates: Recorded[] = rec.take(); // one enqueue transaction per actor (their order does not matter)
      await recSystem.close();
      const b0 = db.stats();
      const bare = await closedLoop(c.producers, ctx.timing, (w, i) => db.transact((tx) => replayInto(tx, templates[pick(c.actors, w, i)]!), { retryLimit: 10_000 }));
      const b1 = db.stats();

      // naive: one read-modify-write transaction per message
      const naives = Array.from({ length: c.actors }, (_, i) => new NaiveActor(db, `a${i}`, () => ({ count: 0 }), { retryLimit: 10_000 }));
      const n0 = db.stats();
      const naive = await closedLoop(c.producers, ctx.timing, (w, i) => naives[pick(c.actors, w, i)]!.send((s) => void (s.count += 1)));
      const n1 = db.stats();

      rows.push(
        row({
          section: '1. dispatch (durable enqueue)',
          case: c.label,
          engine: ctx.engine.name,
          metric: 'enqueues/s',
          unit: 'msg/s',
          better: 'higher',
          dgen: r.perSecond,
          baselines: { bare: bare.perSecond, naive: naive.perSecond, redux },
          detail: {
            messagesPerCommit: (s1.commits - s0.commits) > 0 ? r.total / (s1.commits - s0.commits) : undefined,
            dgenConflicts: s1.conflicts - s0.conflicts,
            bareConflicts: b1.conflicts - b0.conflicts,
            naiveConflicts: n1.conflicts - n0.conflicts,
            naiveRetries: n1.retries - n0.retries,
          },
        }),
      );
    } finally {
      await db.close();
    }
  }
  return rows;
}
