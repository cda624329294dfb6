/**
 * 6. Many actors: one serve() host processing messages sent to random actors among 100,000 stored
 * ones (100 producers, at most 5,000 messages outstanding). Almost every message reaches an actor
 * the host has not touched yet, so it is processed inline in its enqueue transaction after the
 * actor's state is loaded from the store.
 *
 * The 100,000 actors are created in bulk with the runtime's own layout and state store (500
 * actors a transaction: state keys, version key, index entry) rather than by one message each,
 * which would take a transaction per actor. (Bigger transactions are slower, not faster: each
 * StateStore.writeAll starts with a range clear, and the write buffer's range clear scans every
 * point already buffered.) The instance consumers, not yet loaded, read each state on first use.
 *
 * Baselines: the bare engine replaying the transactions of a recorded run (same messages, same
 * concurrency); the naive JSON actor doing a read-modify-write of a random actor's document; a
 * Redux reducer applied to a random state among 100,000 in memory.
 */
import { createSystem, type Backend } from '../../src/index.js';
import { Layout } from '../../src/store/keys.js';
import { StateStore } from '../../src/state/store.js';
import { encodeVersion } from '../../src/store/version.js';
import { Counter } from '../lib/actors.js';
import { closedLoop, now, tightLoop } from '../lib/measure.js';
import { NaiveActor } from '../lib/naive.js';
import { observeCommits, pump } from '../lib/pump.js';
import { RecordingBackend, replayInto, type Recorded } from '../lib/record.js';
import { counterReducer } from '../lib/redux.js';
import { row, type Row, type SectionContext } from '../lib/report.js';

export const ACTORS = 100_000;
const PER_TX = 500;
const PRODUCERS = 100;
const CAP = 5_000;
const EMPTY = Buffer.alloc(0);

/** A deterministic spread over the actors (a multiplicative hash of the message number). */
export const actorOf = (i: number) => `m${(Math.imul(i + 1, 2_654_435_761) >>> 0) % ACTORS}`;

/** Stores the actors (and the naive baseline's documents, in the same transactions); returns the milliseconds it took. */
export async function createActors(db: Backend): Promise<number> {
  const layout = new Layout();
  const version = encodeVersion({ n: 1, batch: '' });
  const t0 = now();
  for (let from = 0; from < ACTORS; from += PER_TX) {
    await db.transact((tx) => {
      for (let i = from; i < Math.min(ACTORS, from + PER_TX); i++) {
        // the three keys Layout.actor() would give, without packing the other twelve
        const root = layout.root.at('a', Counter.name, `m${i}`);
        new StateStore(root.at('s')).writeAll(tx, { count: 0 });
        tx.set(root.pack(['v']), version);
        tx.set(layout.root.pack(['x', Counter.name, `m${i}`]), EMPTY);
        new NaiveActor(db, `m${i}`, () => ({ count: 0 })).write(tx, { count: 0 }); // the naive baseline's documents
      }
    });
  }
  return now() - t0;
}

/** Runs the load on a fresh system over `db`; with `drainAfter`, waits until every message sent is processed. */
async function run(db: Backend, timing: SectionContext['timing'], offset: number, drainAfter: boolean) {
  const system = await createSystem({ backend: db });
  const o = observeCommits();
  system.serve(Counter);
  const touched = new Set<string>();
  const r = await pump({
    producers: PRODUCERS,
    cap: CAP,
    timing,
    send: (_, i) => {
      const id = actorOf(offset + i);
      touched.add(id);
      return system.ref(Counter, id).dispatch.add(1);
    },
    processed: o.processed,
    progress: o.signal,
  });
  if (drainAfter) while (o.processed() < r.dispatched) await o.signal.wait(20);
  const batches = o.batchSizes(r.from, r.to);
  o.stop();
  await system.close();
  return { ...r, touched: touched.size, batches };
}

let reduxRate: number | undefined;

export async function manyActorsSection(ctx: SectionContext): Promise<Row[]> {
  const { engine, timing } = ctx;
  const db = await engine.store().open();
  try {
    ctx.progress(`many actors: creating ${ACTORS.toLocaleString('en-US')} actors`);
    const createMs = await createActors(db);
    ctx.progress('many actors: random messages');
    const dgen = await run(db, timing, 0, false);

    ctx.progress('many actors: baselines');
    const rec = new RecordingBackend(db);
    rec.recording = true;
    const recorded = await run(rec, { warmMs: 0, runMs: Math.min(timing.runMs, 500) }, 10_000_000, true);
    rec.recording = false;
    const log = rec.take();
    let next = 0;
    const t0 = now();
    await Promise.all(
      Array.from({ length: PRODUCERS }, async () => {
        while (next < log.length) {
          const ops: Recorded = log[next++]!;
          await db.transact((tx) => replayInto(tx, ops), { retryLimit: 10_000 });
        }
      }),
    );
    const bare = recorded.dispatched / ((now() - t0) / 1_000);

    const naive = await closedLoop(PRODUCERS, timing, (_, i) => new NaiveActor(db, actorOf(i), () => ({ count: 0 }), { retryLimit: 10_000 }).send((s) => void (s.count += 1)));

    if (reduxRate === undefined) {
      const states = Array.from({ length: ACTORS }, () => ({ count: 0 }));
      const action = { type: 'add', payload: 1 };
      reduxRate = tightLoop(timing.runMs, (i) => {
        const k = (Math.imul(i + 1, 2_654_435_761) >>> 0) % ACTORS;
        states[k] = counterReducer(states[k]!, action);
      });
    }

    return [
      row({
        section: '6. many actors (one serve() host)',
        case: `random messages over ${ACTORS.toLocaleString('en-US')} stored actors`,
        engine: engine.name,
        metric: 'processed',
        unit: 'msg/s',
        better: 'higher',
        dgen: dgen.perSecond,
        baselines: { bare, naive: naive.perSecond, redux: reduxRate },
        detail: {
          actorsCreatedPerSecond: Math.round(ACTORS / (createMs / 1_000)),
          creation: `bulk: ${PER_TX} actors a transaction through the runtime's layout and StateStore`,
          actorsTouched: dgen.touched,
          messagesPerCommit: dgen.batches,
          bareTransactions: log.length,
          bareMessages: recorded.dispatched,
        },
        note: `created at ${Math.round(ACTORS / (createMs / 1_000)).toLocaleString('en-US')} actors/s; ${dgen.touched.toLocaleString('en-US')} actors touched`,
      }),
    ];
  } finally {
    await db.close();
  }
}
