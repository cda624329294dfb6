/**
 * Writing commits per call, counted: on LMDB each is one fsync, so the count is what a call costs
 * there, pinned by behaviour rather than timing. Two systems on one engine stand for two
 * processes: the serving system does not hold the caller's waiters, so its consumer stores the
 * reply and points the caller's inbox at it, as across processes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Backend, Transaction } from '../../src/backend/contract.js';
import { createSystem, memory, type System } from '../../src/index.js';
import { Layout } from '../../src/store/keys.js';
import { Counter } from '../fixtures/actors.js';

const MUTATIONS = new Set(['set', 'clear', 'clearRange', 'add', 'setVersionstampedKey', 'setVersionstampedValue']);

/** `inner`, counting the transactions that committed writes (the ones that cost an fsync on LMDB). */
function counting(inner: Backend): Backend & { writingCommits: number } {
  const counter = {
    kind: inner.kind,
    writingCommits: 0,
    get closed() {
      return inner.closed;
    },
    stats: () => inner.stats(),
    close: () => inner.close(),
    async transact<T>(fn: (tx: Transaction) => T | Promise<T>, options?: Parameters<Backend['transact']>[1]): Promise<T> {
      let wrote = false;
      const result = await inner.transact((tx) => {
        wrote = false;
        const spy = new Proxy(tx, {
          get(target, prop, receiver) {
            const value = Reflect.get(target, prop, receiver) as unknown;
            if (typeof value !== 'function') return value;
            if (MUTATIONS.has(prop as string)) wrote = true;
            return (value as (...a: unknown[]) => unknown).bind(target);
          },
        });
        return fn(spy);
      }, options);
      if (wrote) counter.writingCommits++;
      return result;
    },
  };
  return counter;
}

const systems: System[] = [];
afterEach(async () => {
  for (const s of systems.splice(0)) await s.close();
});

async function settled(): Promise<void> {
  // Lets the serving consumer finish clearing its "has work" flag after the batch that answered.
  await new Promise((r) => setTimeout(r, 50));
}

describe('writing commits per call', () => {
  it('a call served by another process to an idle actor costs 2 writing commits: the enqueue, and the batch that also clears the "has work" flag', async () => {
    const engine = memory();
    const callerEngine = counting(engine);
    const serverEngine = counting(engine);
    const server = await createSystem({ backend: serverEngine });
    const caller = await createSystem({ backend: callerEngine });
    systems.push(caller, server);
    server.serve(Counter);
    const ref = caller.ref(Counter, 'c');
    expect(await ref.call.add(1)).toBe(1); // warm-up: first state, lease
    await settled();
    const calls = 20;
    const before = callerEngine.writingCommits + serverEngine.writingCommits;
    for (let i = 2; i <= calls + 1; i++) {
      expect(await ref.call.add(1)).toBe(i);
      await settled();
    }
    const perCall = (callerEngine.writingCommits + serverEngine.writingCommits - before) / calls;
    expect(perCall).toBeLessThanOrEqual(2);
    // The caller's only writing commit per call is its enqueue: clearing the reply it read rides in the next one.
    expect(callerEngine.writingCommits).toBeLessThanOrEqual(calls + 1);
  });

  it('a batch that clears the "has work" flag fails if an enqueue commits meanwhile, and the message it brought is processed', async () => {
    const engine = memory();
    const { work, version } = new Layout().actor(Counter.name, 'c');
    let meanwhile: (() => Promise<void>) | undefined;
    let interrupted = 0;
    // The serving system's engine: once, between the body of a batch (it writes the version) that clears the flag and its commit, another system enqueues.
    const serving: Backend = {
      kind: engine.kind,
      get closed() {
        return engine.closed;
      },
      stats: () => engine.stats(),
      close: () => engine.close(),
      transact: (fn, options) =>
        engine.transact(async (tx) => {
          let clearsFlag = false;
          let writesState = false;
          const spy = new Proxy(tx, {
            get(target, prop, receiver) {
              const value = Reflect.get(target, prop, receiver) as unknown;
              if (typeof value !== 'function') return value;
              return (...args: unknown[]) => {
                if (prop === 'clear' && Buffer.from(args[0] as Uint8Array).equals(work)) clearsFlag = true;
                if (prop === 'set' && Buffer.from(args[0] as Uint8Array).equals(version)) writesState = true;
                return (value as (...a: unknown[]) => unknown).apply(target, args);
              };
            },
          });
          const result = await fn(spy);
          const run = meanwhile;
          if (clearsFlag && writesState && run !== undefined) {
            meanwhile = undefined;
            interrupted++;
            await run();
          }
          return result;
        }, options),
    };
    const server = await createSystem({ backend: serving });
    const other = await createSystem({ backend: engine });
    systems.push(other, server);
    server.serve(Counter);
    const callerRef = other.ref(Counter, 'c');
    expect(await callerRef.call.add(1)).toBe(1);
    await settled();
    meanwhile = () => callerRef.dispatch.increment(10);
    const conflicts = engine.stats().conflicts;
    expect(await callerRef.call.add(1)).toBe(2); // its batch clears the flag; the increment lands before it commits
    expect(interrupted).toBe(1);
    // The interrupted batch did not commit: it conflicted on the flag the enqueue set, and ran again without clearing it.
    expect(engine.stats().conflicts - conflicts).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < 100 && (await callerRef.query((s) => s.count)) !== 12; i++) await settled();
    expect(await callerRef.query((s) => s.count)).toBe(12);
    await settled();
    // Settled: nothing queued, and the flag is down again.
    expect(await engine.transact(async (tx) => tx.get(work))).toBeUndefined();
  });

  it('replies read are cleared: by the next enqueue, or on their own, or when the system closes', async () => {
    const engine = memory();
    const server = await createSystem({ backend: engine });
    const caller = await createSystem({ backend: engine });
    systems.push(server);
    server.serve(Counter);
    const ref = caller.ref(Counter, 'c');
    await Promise.all(Array.from({ length: 30 }, () => ref.call.add(1)));
    await caller.close();
    const root = new Layout().root;
    const { begin, end } = root.range();
    const stored = await engine.transact(async (tx) => (await tx.getRange(begin, end)).map((kv) => root.unpack(kv.key)));
    expect(stored.some((k) => k[0] === 'a')).toBe(true); // the actor's own records are there
    // Neither replies (prefix, 'a', name, id, 'r', msgId) nor inbox pointers (prefix, 'y', inbox, msgId) are left behind.
    expect(stored.filter((k) => (k[0] === 'a' && k[3] === 'r') || (k[0] === 'y' && k.length === 3))).toEqual([]);
  });
});
