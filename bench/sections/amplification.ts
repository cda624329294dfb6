/**
 * 4. Write amplification: keys and bytes written per message (BackendStats deltas over every
 * transaction a message causes), one message per commit, for a 1-field change in flat states of
 * 10, 1,000 and 100,000 entries, and for an insert and a remove in the middle of a keyed
 * collection of 10,000 elements. Two paths:
 *
 * - queued (the figure): a producer in another system dispatches, the consumer processes it in a
 *   batch of its own (enqueue transaction + batch transaction + idle bookkeeping);
 * - inline (in `detail`): a call from the serving process to the idle actor, processed in its
 *   enqueue transaction (one commit).
 *
 * Baselines: the bare engine writing only the state change dgen's layout needs (StateStore's
 * incremental write of the same immer change, one transaction a message: the part of dgen's
 * writes that is the state); the naive JSON actor, which rewrites the whole document. Redux
 * writes nothing.
 */
import { createSystem, type ActorDefinition, type Backend, type BackendStats, type Callers, type Dispatchers, type Reducers } from '../../src/index.js';
import { produceWithPatches } from '../../src/util/immer.js';
import { Layout } from '../../src/store/keys.js';
import { StateStore } from '../../src/state/store.js';
import { LIST_STEP, List, WIDE_STEP, Wide, flatState, itemList, type Item } from '../lib/actors.js';
import { now, round, sleep } from '../lib/measure.js';
import { NaiveActor } from '../lib/naive.js';
import { observeCommits } from '../lib/pump.js';
import { row, type Row, type SectionContext } from '../lib/report.js';

/** Messages per figure, each its own commit: the counts are exact, not sampled (fewer for the 100,000-entry state, whose immer copy is slow). */
const MESSAGES = 10;
const MESSAGES_LARGE = 3;
const SECTION = '4. write amplification (per message, one per commit)';

interface PerMessage {
  keys: number;
  bytes: number;
  commits: number;
  /** Wall time per message, ms. */
  ms: number;
}

/** Waits until nothing has been written for a while (the consumer's idle bookkeeping is done). */
async function quiet(db: Backend): Promise<void> {
  let last = -1;
  for (;;) {
    await sleep(15);
    const now = db.stats().keysWritten;
    if (now === last) return;
    last = now;
  }
}

/** Writes per message of `n` messages sent one after another with `send` (each awaited). */
async function perMessage(db: Backend, n: number, send: (i: number) => Promise<unknown>): Promise<PerMessage> {
  await quiet(db);
  const a: BackendStats = db.stats();
  const t0 = now();
  for (let i = 0; i < n; i++) await send(i);
  const ms = (now() - t0) / n;
  await quiet(db);
  const b = db.stats();
  return { keys: round((b.keysWritten - a.keysWritten) / n), bytes: round((b.bytesWritten - a.bytesWritten) / n), commits: round((b.commits - a.commits) / n), ms: round(ms) };
}

/**
 * The state part alone: StateStore writes of the same change, one transaction per message. The
 * state is written as dgen's actor is filled: `initial`, then each of `fills` in a transaction of
 * its own (a large state in one transaction would be over FoundationDB's 10 MB).
 */
async function stateOnly<S>(db: Backend, initial: S, fills: ReadonlyArray<(draft: S) => void>, n: number, change: (draft: S, i: number) => void): Promise<PerMessage> {
  const store = new StateStore(new Layout().actor('bench.bare', 'state').state);
  let state = initial;
  await db.transact((tx) => void store.writeAll(tx, state));
  for (const fill of fills) {
    const [next, patches] = produceWithPatches(state, (d) => void fill(d as S));
    await db.transact((tx) => void store.writeChanges(tx, state, next, patches));
    state = next as S;
  }
  let i = 0;
  return perMessage(db, n, async () => {
    const [next, patches] = produceWithPatches(state, (d) => change(d as S, i++));
    await db.transact((tx) => void store.writeChanges(tx, state, next, patches));
    state = next as S;
  });
}

/**
 * dgen's writes per message on both paths: `queued` sends from a producer system that does not
 * serve the actor and waits for the consumer's commit; `inline` calls from the serving system.
 */
async function dgenPaths<S, R extends Reducers<S>>(
  db: Backend,
  def: ActorDefinition<S, R>,
  send: (verbs: Dispatchers<R> | Callers<R>, i: number) => Promise<unknown>,
  messages: number,
  fills: ReadonlyArray<(verbs: Dispatchers<R> | Callers<R>) => Promise<unknown>> = [],
) {
  const consumer = await createSystem({ backend: db });
  const producer = await createSystem({ backend: db });
  consumer.serve(def, { ids: ['q', 'i'] });
  // A message the consumer could not process (a store limit, say) fails the section instead of
  // leaving it waiting for a commit that will never come.
  let failed: unknown;
  const failures = consumer.events$.subscribe((e) => {
    if (e.type === 'message-failed' || e.type === 'consumer-error') failed ??= e.error;
  });
  const o = observeCommits();
  const queuedRef = producer.ref(def, 'q');
  const waitFor = async (n: number) => {
    while (o.processed() < n) {
      if (failed !== undefined) throw new Error(`the consumer failed while the section waited for its commit: ${failed instanceof Error ? failed.message : String(failed)}`);
      await o.signal.wait(10);
    }
  };
  await send(queuedRef.dispatch, -1); // the first message writes the initial state
  await waitFor(1);
  for (const [i, fill] of fills.entries()) {
    await fill(queuedRef.dispatch);
    await waitFor(2 + i);
  }
  const queued = await perMessage(db, messages, async (i) => {
    const before = o.processed();
    await send(queuedRef.dispatch, i);
    await waitFor(before + 1);
  });
  const inlineRef = consumer.ref(def, 'i');
  await send(inlineRef.call, -1);
  for (const fill of fills) await fill(inlineRef.call);
  const inline = await perMessage(db, messages, (i) => send(inlineRef.call, i));
  o.stop();
  failures.unsubscribe();
  await producer.close();
  await consumer.close();
  return { queued, inline };
}

/** Elements of the keyed list the section edits. */
const LIST_SIZE = 10_000;

/** The ranges [from, to) that grow a state from `step` entries to `size`, `step` at a time. */
function steps(size: number, step: number): Array<{ from: number; to: number }> {
  const out = [];
  for (let from = step; from < size; from += step) out.push({ from, to: Math.min(size, from + step) });
  return out;
}

export async function amplificationSection(ctx: SectionContext): Promise<Row[]> {
  const { engine } = ctx;
  const rows: Row[] = [];
  const add = (label: string, dgen: { queued: PerMessage; inline: PerMessage }, bare: PerMessage, naive: PerMessage) => {
    const detail = { queued: dgen.queued, inline: dgen.inline };
    rows.push(
      row({ section: SECTION, case: label, engine: engine.name, metric: 'keys written', unit: 'keys', better: 'lower', dgen: dgen.queued.keys, baselines: { bare: bare.keys, naive: naive.keys }, detail, note: `inline call: ${dgen.inline.keys}` }),
      row({ section: SECTION, case: label, engine: engine.name, metric: 'bytes written', unit: 'B', better: 'lower', dgen: dgen.queued.bytes, baselines: { bare: bare.bytes, naive: naive.bytes }, note: `inline call: ${dgen.inline.bytes.toLocaleString('en-US')}` }),
    );
  };

  for (const size of [10, 1_000, 100_000]) {
    ctx.progress(`amplification: 1-field change in ${size.toLocaleString('en-US')} entries`);
    const db = await engine.store().open();
    try {
      const messages = size >= 100_000 ? MESSAGES_LARGE : MESSAGES;
      const ranges = steps(size, WIDE_STEP);
      const dgen = await dgenPaths(db, Wide(size), (verbs, i) => verbs.bump(i + 1), messages, ranges.map((r) => (verbs) => verbs.fill(r)));
      const fills = ranges.map((r) => (d: Record<string, number>) => void Object.assign(d, Object.fromEntries(Array.from({ length: r.to - r.from }, (_, j) => [`k${r.from + j}`, 0]))));
      const bare = await stateOnly(db, flatState(Math.min(size, WIDE_STEP)), fills, messages, (d, i) => void (d[`k${(i + 1) % size}`]! += 1));
      const naiveActor = new NaiveActor(db, 'w', () => flatState(size));
      await naiveActor.send(() => {});
      const naive = await perMessage(db, messages, (i) => naiveActor.send((s) => void (s[`k${(i + 1) % size}`]! += 1)));
      add(`1-field change, ${size.toLocaleString('en-US')} entries`, dgen, bare, naive);
    } finally {
      await db.close();
    }
  }

  for (const op of ['insert', 'remove'] as const) {
    ctx.progress(`amplification: keyed list ${op}`);
    const db = await engine.store().open();
    try {
      const ranges = steps(LIST_SIZE, LIST_STEP);
      const dgen = await dgenPaths(db, List, (verbs, i) => (op === 'insert' ? verbs.insertMid(`n${i}`) : verbs.removeMid()), MESSAGES, ranges.map((r) => (verbs) => verbs.append(r)));
      const edit = (items: Item[], i: number) => (op === 'insert' ? items.splice(items.length >> 1, 0, { id: `n${i}`, v: 0 }) : items.splice(items.length >> 1, 1));
      const fills = ranges.map((r) => (d: { items: Item[] }) => void d.items.push(...itemList(r.to).slice(r.from)));
      const bare = await stateOnly(db, { items: itemList(LIST_STEP) }, fills, MESSAGES, (d, i) => void edit(d.items, i));
      const naiveActor = new NaiveActor(db, 'l', () => ({ items: itemList(10_000) }));
      await naiveActor.send(() => {});
      const naive = await perMessage(db, MESSAGES, (i) => naiveActor.send((s) => void edit(s.items, i)));
      add(`keyed list of 10,000: ${op} in the middle`, dgen, bare, naive);
    } finally {
      await db.close();
    }
  }
  return rows;
}
