/**
 * The firing transaction on every engine (through the storage contract only): due timers move into
 * their queues exactly once, in due order per instance, never before due; several firers racing
 * and ambiguous commits neither lose nor double a timer; stale entries are cleared unfired.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { memory, type Backend } from '../../src/index.js';
import { Layout } from '../../src/store/keys.js';
import { groupBlobs } from '../../src/store/blob.js';
import { decodeEnvelope } from '../../src/store/message.js';
import { listTimers, timerIndex } from '../../src/store/timers.js';
import { FireBatchSize, fireDue, FIRE_BATCH } from '../../src/time/fire.js';
import { CommitUnknownResultError, TimedOutError, TransactionTooLargeError, TransactionTooOldError } from '../../src/backend/errors.js';
import { timedOutgoing, unnamed, writeTimerOps, type TimerOp } from '../../src/time/schedule.js';
import { actorEngines } from '../support/actor-engines.js';

const layout = new Layout();
const NAME = 'timed';

function set(id: string, due: number, tag: string, key?: string): TimerOp {
  const out = timedOutgoing('fired', tag, due);
  return key === undefined ? unnamed(NAME, id, due, out) : { op: 'set', name: NAME, id, timer: { kind: 'k', key }, due, out };
}

/** The payloads queued for an instance, in queue order. */
async function queued(db: Backend, id: string): Promise<string[]> {
  const q = layout.actor(NAME, id).queue;
  const kvs = await db.transact((tx) => tx.getRange(q.range().begin, q.range().end));
  return groupBlobs(q, kvs, 1).map((b) => String(decodeEnvelope(b.bytes!).payload));
}

async function indexSize(db: Backend): Promise<number> {
  const { begin, end } = timerIndex(layout, NAME).range();
  return (await db.transact((tx) => tx.getRange(begin, end))).length;
}

describe.each(actorEngines())('the firing transaction on $name', (engine) => {
  if (engine.skip !== undefined) {
    it.skip(`skipped: ${engine.skip}`, () => {});
    return;
  }
  let db: Backend | undefined;
  const open = async () => (db = await engine.open());
  afterEach(async () => {
    await db?.close();
    db = undefined;
    await engine.cleanup?.();
  });

  it('moves only what is due, in due order per instance, and nothing twice', async () => {
    const db = await open();
    await db.transact((tx) => writeTimerOps(tx, layout, [set('a', 300, 'a3'), set('b', 100, 'b1'), set('a', 100, 'a1'), set('a', 200, 'a2'), set('b', 400, 'b4')]));
    const first = await db.transact((tx) => fireDue(tx, layout, NAME, 250));
    expect(Object.fromEntries(first.ids)).toEqual({ a: 2, b: 1 });
    expect(first.more).toBe(false);
    expect(await queued(db, 'a')).toEqual(['a1', 'a2']);
    expect((await db.transact((tx) => fireDue(tx, layout, NAME, 250))).ids.size).toBe(0);
    await db.transact((tx) => fireDue(tx, layout, NAME, 400));
    expect(await queued(db, 'a')).toEqual(['a1', 'a2', 'a3']);
    expect(await queued(db, 'b')).toEqual(['b1', 'b4']);
    expect(await indexSize(db)).toBe(0);
    expect(await db.transact((tx) => listTimers(tx, layout, NAME, 'a'))).toEqual([]);
  });

  it('clears replaced and cancelled timers without firing them', async () => {
    const db = await open();
    await db.transact((tx) => writeTimerOps(tx, layout, [set('a', 100, 'old', 'k'), set('a', 200, 'gone', 'c'), set('a', 300, 'plain')]));
    await db.transact((tx) => writeTimerOps(tx, layout, [set('a', 150, 'new', 'k'), { op: 'cancel', name: NAME, id: 'a', timer: { kind: 'k', key: 'c' } }]));
    await db.transact((tx) => fireDue(tx, layout, NAME, 1_000));
    expect(await queued(db, 'a')).toEqual(['new', 'plain']);
    expect(await indexSize(db)).toBe(0);
  });

  it('fires each timer once when several firers race', async () => {
    const db = await open();
    const ops = Array.from({ length: 300 }, (_, i) => set(`i${i % 7}`, 1_000 + i, String(i)));
    await db.transact((tx) => writeTimerOps(tx, layout, ops));
    await Promise.all(Array.from({ length: 4 }, async () => {
      for (let now = 1_000; now <= 1_400; now += 50) await db.transact((tx) => fireDue(tx, layout, NAME, now), { idempotent: true });
    }));
    for (let k = 0; k < 7; k++) {
      const expected = ops.filter((_, i) => i % 7 === k).map((_, j) => String(k + 7 * j));
      expect(await queued(db, `i${k}`)).toEqual(expected);
    }
  });

  it('takes a backlog in batches of FIRE_BATCH', async () => {
    const db = await open();
    const ops = Array.from({ length: FIRE_BATCH + 10 }, (_, i) => set('big', i, String(i)));
    for (let i = 0; i < ops.length; i += 500) await db.transact((tx) => writeTimerOps(tx, layout, ops.slice(i, i + 500)));
    const first = await db.transact((tx) => fireDue(tx, layout, NAME, 1e9));
    expect(first).toMatchObject({ more: true });
    expect(first.ids.get('big')).toBe(FIRE_BATCH);
    const second = await db.transact((tx) => fireDue(tx, layout, NAME, 1e9));
    expect(second.ids.get('big')).toBe(10);
    expect((await queued(db, 'big')).map(Number)).toEqual(ops.map((_, i) => i));
  });
});

describe('the firing transaction under ambiguous commits (memory engine faults)', () => {
  it.each(['unknownResult', 'unknownResultNotApplied', 'conflict'] as const)('%s: every timer fires exactly once', async (kind) => {
    const db = memory({ seed: 3 });
    const ops = Array.from({ length: 50 }, (_, i) => set('x', i, String(i)));
    await db.transact((tx) => writeTimerOps(tx, layout, ops));
    for (let round = 0; round < 10; round++) {
      db.faults.injectNext(kind, 2);
      await db.transact((tx) => fireDue(tx, layout, NAME, round * 5 + 4), { idempotent: true });
    }
    expect((await queued(db, 'x')).map(Number)).toEqual(ops.map((_, i) => i));
    expect(db.faults.injected[kind]).toBeGreaterThan(0);
    await db.close();
  });
});

describe('the size of firing transactions', () => {
  it('halves after a transaction that timed out, grew too old or too large, down to a floor, and doubles back after each commit', () => {
    const batch = new FireBatchSize();
    expect(batch.size).toBe(FIRE_BATCH);
    expect(batch.shrink(new TimedOutError())).toBe(true);
    expect(batch.size).toBe(FIRE_BATCH / 2);
    expect(batch.shrink(new TransactionTooOldError())).toBe(true);
    expect(batch.size).toBe(FIRE_BATCH / 4);
    expect(batch.shrink(new CommitUnknownResultError())).toBe(false); // a smaller batch does not avoid it
    expect(batch.shrink(new TransactionTooLargeError(11_000_000, 10_000_000))).toBe(true);
    expect(batch.size).toBe(FIRE_BATCH / 8);
    for (let i = 0; i < 20; i++) batch.shrink();
    expect(batch.size).toBe(10);
    batch.committed();
    expect(batch.size).toBe(20);
    for (let i = 0; i < 20; i++) batch.committed();
    expect(batch.size).toBe(FIRE_BATCH);
  });

  it('fires at most `limit` timers a transaction', async () => {
    const db = memory();
    await db.transact((tx) => writeTimerOps(tx, layout, Array.from({ length: 25 }, (_, i) => set('x', i, String(i)))));
    const first = await db.transact((tx) => fireDue(tx, layout, NAME, 1e9, undefined, 10));
    expect(first).toMatchObject({ more: true });
    expect(first.ids.get('x')).toBe(10);
    expect((await queued(db, 'x')).map(Number)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    await db.close();
  });
});
