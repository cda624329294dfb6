/**
 * Holding load in one process: admission bounds the transactions in flight and serves verbs and
 * actors in turn; waiting calls and state$ subscribers share one listener; a burst of reads on
 * LMDB never reaches the engine's reader limit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, filter } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createSystem, defineActor, lmdb, memory, type Backend, type CallTimeoutError, type Transaction, type TransactOptions } from '../../src/index.js';
import { FairQueue } from '../../src/runtime/fair-queue.js';
import { CongestionWindow } from '../../src/runtime/congestion.js';
import { TimedOutError } from '../../src/backend/errors.js';
import { Counter } from '../fixtures/actors.js';

/** A backend that counts the transactions it runs and the most it ran at once. */
function counting(engine: Backend): Backend & { transactions: number; peak: number } {
  let running = 0;
  const counted = Object.create(engine, {
    transactions: { value: 0, writable: true },
    peak: { value: 0, writable: true },
    transact: {
      value: async <T>(fn: (tx: Transaction) => T | Promise<T>, options?: TransactOptions) => {
        counted.transactions++;
        counted.peak = Math.max(counted.peak, ++running);
        try {
          return await engine.transact(fn, options);
        } finally {
          running--;
        }
      },
    },
  });
  return counted;
}

describe('FairQueue', () => {
  it('takes turns across groups, then across keys of a group, FIFO within a key', () => {
    const q = new FairQueue<string>();
    for (const item of ['s:a1', 's:a2', 's:a3', 's:b1', 'q:c1', 'q:c2']) q.push(item[0]!, item[2]!, item);
    const order: string[] = [];
    for (let item = q.shift(); item !== undefined; item = q.shift()) order.push(item);
    expect(order).toEqual(['s:a1', 'q:c1', 's:b1', 'q:c2', 's:a2', 's:a3']);
    expect(q.size).toBe(0);
  });

  it('removes what matches wherever it waits', () => {
    const q = new FairQueue<number>();
    for (let i = 0; i < 10; i++) q.push(i % 2 === 0 ? 'even' : 'odd', String(i % 3), i);
    expect(q.removeWhere((i) => i % 3 === 0).sort()).toEqual([0, 3, 6, 9]);
    expect(q.size).toBe(6);
    const rest: number[] = [];
    for (let i = q.shift(); i !== undefined; i = q.shift()) rest.push(i);
    expect(rest.sort()).toEqual([1, 2, 4, 5, 7, 8]);
  });
});

describe('CongestionWindow', () => {
  it('halves from the transactions running when one times out, once per wave, and grows back as they finish fast', () => {
    const w = new CongestionWindow(512);
    const waveStart = performance.now();
    w.failed(waveStart, new TimedOutError(), 100);
    expect(w.limit).toBe(50);
    w.failed(waveStart, new TimedOutError(), 99); // same wave: nothing new
    expect(w.limit).toBe(50);
    w.failed(performance.now() + 1, new TimedOutError(), 40); // a later wave
    expect(w.limit).toBe(20);
    w.failed(performance.now() + 1, new Error('not a timeout'), 20);
    w.finished(4_000, 5_000); // slow, not timed out: no change
    expect(w.limit).toBe(20);
    for (let i = 0; i < 10; i++) w.finished(10, 5_000); // fast: +1 each
    expect(w.limit).toBe(30);
    for (let i = 0; i < 30; i++) w.finished(1_000, 5_000); // under a quarter: +1/window each
    expect(w.limit).toBe(30);
    for (let i = 0; i < 1_000; i++) w.finished(10, 5_000);
    expect(w.limit).toBe(512);
  });
});

describe('admission', () => {
  it('never runs more transactions at once than maxTransactions, and every operation of a burst succeeds', async () => {
    const engine = counting(memory());
    const system = await createSystem({ backend: engine, admission: { maxTransactions: 4 } });
    system.serve(Counter);
    const ops = Array.from({ length: 2_000 }, (_, i) => {
      const ref = system.ref(Counter, `a${i % 50}`);
      return i % 3 === 0 ? ref.call.add(1) : i % 3 === 1 ? ref.dispatch.increment(1) : ref.query((s) => s.count);
    });
    await Promise.all(ops);
    expect(engine.peak).toBeLessThanOrEqual(4);
    await system.close();
  });

  it('takes turns across verbs: a query issued behind a burst of dispatches is served before the burst ends', async () => {
    const system = await createSystem({ backend: memory(), admission: { maxTransactions: 1 } });
    const order: string[] = [];
    const burst = Array.from({ length: 10_000 }, (_, i) => system.ref(Counter, `b${i % 100}`).dispatch.increment(1).then(() => void order.push('dispatch')));
    const query = system.ref(Counter, 'other').query().then(() => void order.push('query'));
    await Promise.all([...burst, query]);
    expect(order.indexOf('query')).toBeLessThan(order.length / 10); // behind at most a few of the 100 flushes
    await system.close();
  });

  it('5,000 concurrent queries on LMDB all succeed, at most 64 transactions at once (LMDB has 1,024 reader slots)', { timeout: 60_000 }, async () => {
    const path = mkdtempSync(join(tmpdir(), 'dgen-admit-'));
    try {
      const engine = counting(lmdb({ path }));
      const system = await createSystem({ backend: engine, closeBackend: true });
      await system.ref(Counter, 'r').dispatch.increment(3);
      const reads = await Promise.all(Array.from({ length: 5_000 }, (_, i) => system.ref(Counter, `r${i % 100}`).query()));
      expect(reads.every((s) => s.count === 0)).toBe(true); // nobody serves: the message waits in the queue
      expect(engine.peak).toBeLessThanOrEqual(64);
      await system.close();
    } finally {
      rmSync(path, { recursive: true, force: true });
    }
  });
});

/** A backend whose transactions count the range reads they make. */
function countingRangeReads(engine: Backend): Backend & { rangeReads: number } {
  const counted = Object.create(engine, {
    rangeReads: { value: 0, writable: true },
    transact: {
      value: <T>(fn: (tx: Transaction) => T | Promise<T>, options?: TransactOptions) =>
        engine.transact((tx) => {
          const getRange: Transaction['getRange'] = (...args) => (counted.rangeReads++, tx.getRange(...args));
          return fn(Object.create(tx, { getRange: { value: getRange } }) as Transaction);
        }, options),
    },
  });
  return counted;
}

const Echo = defineActor({
  name: 'echo',
  initialState: () => ({ n: 0 }),
  reducers: {
    echo(state, text: string, ctx) {
      state.n++;
      return ctx.reply(text);
    },
  },
});

describe('one listener per process', () => {
  it('reads small replies in their pointers, a page in one range read, and a large one under its actor', async () => {
    const engine = memory();
    const server = await createSystem({ backend: engine, closeBackend: false });
    server.serve(Echo);
    const callerEngine = countingRangeReads(engine);
    const caller = await createSystem({ backend: callerEngine, closeBackend: false });
    const large = 'x'.repeat(20_000);
    const texts = [...Array.from({ length: 300 }, (_, i) => `small ${i}`), large];
    const replies = await Promise.all(texts.map((text, i) => caller.ref(Echo, `e${i % 10}`).call.echo(text)));
    expect(replies).toEqual(texts);
    expect(callerEngine.rangeReads).toBeLessThan(300 / 4); // before: at least one range read per reply
    await caller.close();
    await server.close();
    await engine.close();
  });

  it('answers 2,000 calls served by another system with far fewer transactions than calls', async () => {
    const engine = memory();
    const server = await createSystem({ backend: engine, closeBackend: false });
    server.serve(Counter);
    const callerEngine = counting(engine);
    const caller = await createSystem({ backend: callerEngine, closeBackend: false });
    const replies = await Promise.all(Array.from({ length: 2_000 }, (_, i) => caller.ref(Counter, `c${i % 10}`).call.add(1)));
    expect(replies.filter((r) => r === 200)).toHaveLength(10); // each actor's 200th reply, once
    expect(callerEngine.transactions).toBeLessThan(2_000 / 4);
    await caller.close();
    await server.close();
    await engine.close();
  });

  it('ref.reply gets a stored reply in the calling process (through its inbox) and in any other (polling the reply key)', async () => {
    const engine = memory();
    const caller = await createSystem({ backend: engine, closeBackend: false });
    const other = await createSystem({ backend: engine, closeBackend: false });
    const timeouts = await Promise.all([1, 2].map((n) => caller.ref(Counter, 'later').call.add(n, { timeout: 20 }).then(() => undefined, (e: unknown) => e as CallTimeoutError)));
    expect(timeouts.map((e) => e?.code)).toEqual(['call_timeout', 'call_timeout']);
    const server = await createSystem({ backend: engine, closeBackend: false });
    server.serve(Counter);
    const [first, second] = timeouts.map((e) => e!.messageId) as [string, string];
    expect(await caller.ref(Counter, 'later').reply.add(first, { timeout: 10_000 })).toBe(1);
    expect(await other.ref(Counter, 'later').reply.add(second, { timeout: 10_000 })).toBe(3);
    for (const s of [caller, other, server]) await s.close();
    await engine.close();
  });

  it('shares one loop among the state$ subscribers of an instance', async () => {
    const engine = memory();
    const server = await createSystem({ backend: engine, closeBackend: false });
    server.serve(Counter);
    const observerEngine = counting(engine);
    const observer = await createSystem({ backend: observerEngine, closeBackend: false });
    const ref = observer.ref(Counter, 'watched');
    const seen = Array.from({ length: 200 }, () => firstValueFrom(ref.state$.pipe(filter((s) => s.count === 1))));
    await firstValueFrom(ref.state$); // every subscriber is on
    const before = observerEngine.transactions;
    await server.ref(Counter, 'watched').dispatch.increment(1);
    expect((await Promise.all(seen)).length).toBe(200);
    expect(observerEngine.transactions - before).toBeLessThan(10);
    await observer.close();
    await server.close();
    await engine.close();
  });
});
