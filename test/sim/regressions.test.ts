/**
 * Bugs the simulation found, each pinned by a small scenario of its own (real time, memory engine)
 * so they stay fixed whatever the seeded workloads become.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CommitUnknownResultError, createSystem, defineActor, isDgenError, memory, type Backend, type MemoryBackend, type System, type Transaction, type TransactOptions } from '../../src/index.js';
import { Layout } from '../../src/store/keys.js';
import { decodeVersion, encodeVersion } from '../../src/store/version.js';
import { CrashError, ProcessBackend, TxView } from '../../src/testing/process.js';

const open: System[] = [];
let engine: MemoryBackend;
async function system(backend: Backend): Promise<System> {
  const s = await createSystem({ backend, closeBackend: false });
  open.push(s);
  return s;
}
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  await engine?.close();
});

/**
 * A process's view of `engine` in which the first commit that `matches` applies but reports
 * commit_unknown_result (after running `meanwhile`, e.g. another process's commit). `ambiguous()`
 * counts such commits.
 */
function ambiguousView(matches: (tx: TxView) => boolean, meanwhile: () => Promise<void> = async () => {}): Backend & { ambiguous(): number } {
  const owner = new ProcessBackend(engine, 'view');
  let count = 0;
  return {
    kind: 'memory',
    get closed() {
      return engine.closed;
    },
    stats: () => engine.stats(),
    close: async () => {},
    ambiguous: () => count,
    async transact<T>(fn: (tx: Transaction) => T | Promise<T>, options?: TransactOptions): Promise<T> {
      let tx: TxView | undefined;
      const result = await engine.transact(async (t) => fn((tx = new TxView(t, owner))), options);
      if (tx !== undefined && count === 0 && matches(tx)) {
        count++;
        await meanwhile();
        throw new CommitUnknownResultError('Transaction may or may not have committed (it did)');
      }
      return result;
    },
  };
}

describe('found by the simulation', () => {
  it('a consumer takes over the lock a crashed consumer left on its last thunk attempt, and dead-letters it', async () => {
    engine = memory({ seed: 1 });
    const doomed = new ProcessBackend(engine, 'doomed');
    let runs = 0;
    const Mailer = defineActor({
      name: 'mailer',
      initialState: { sent: 0 },
      thunks: {
        async mail() {
          runs++;
          if (doomed.alive) {
            // The process dies during the last allowed run, leaving the lock (attempt 1 of 1) behind.
            doomed.kill();
            await first.close();
            throw new CrashError('doomed');
          }
          return (draft: { sent: number }) => void (draft.sent += 1);
        },
      },
      reducers: {
        send(_state, _: void, ctx) {
          ctx.lock('mail');
        },
        ping(state, _: void, ctx) {
          return ctx.reply(state.sent);
        },
      },
      options: { thunkAttempts: 1, leaseMs: 60, thunkRetryMs: 5 },
    });
    const first = await system(doomed);
    first.serve(Mailer, { consumerName: 'doomed', pollMs: 20 });
    const producer = await system(engine);
    await producer.ref(Mailer, 'm').dispatch.send();
    for (let i = 0; i < 100 && doomed.alive; i++) await new Promise((r) => setTimeout(r, 10));
    expect(doomed.alive).toBe(false);
    expect(await producer.admin.lock(Mailer, 'm')).toMatchObject({ owner: 'doomed', attempt: 1 });

    const second = await system(engine);
    second.serve(Mailer, { consumerName: 'next', pollMs: 20 });
    // Before the fix, `fail` refused the lock of another owner (stale_lock) forever and the queue stayed paused.
    expect(await producer.ref(Mailer, 'm').call.ping(undefined, { timeout: 5_000 })).toBe(0);
    expect(await producer.admin.lock(Mailer, 'm')).toBeUndefined();
    expect(await producer.admin.deadLetters(Mailer, 'm')).toHaveLength(1);
    expect(runs).toBe(1);
  });

  it('a caller in the consumer process gets the error of a message that halted its actor, also when the halting commit was ambiguous', async () => {
    engine = memory({ seed: 3 });
    const Strict = defineActor({
      name: 'strict',
      initialState: { n: 0 },
      reducers: {
        bad() {
          throw new Error('refused');
        },
      },
      options: { failurePolicy: 'halt' },
    });
    // The commit that writes the halt record applies but reports commit_unknown_result. A caller
    // in the consumer's process gets no stored reply (its consumer answers it directly), so before
    // the fix it waited for its timeout.
    const view = ambiguousView((tx) => tx.touched.has('x'));
    const s = await system(view);
    s.serve(Strict);
    await expect(s.ref(Strict, 'h').call.bad(undefined, { timeout: 3_000 })).rejects.toMatchObject({ message: 'refused' });
    expect(view.ambiguous()).toBe(1);
    expect(await s.admin.halted(Strict, 'h')).toMatchObject({ error: { message: 'refused' } });
  });

  it('after an ambiguous commit, a batch that committed is known as such even when a later batch already moved the version key', async () => {
    engine = memory({ seed: 4 });
    const effects: number[] = [];
    const Tally = defineActor({
      name: 'tally',
      initialState: { n: 0 },
      reducers: {
        bump(state, _: void, ctx) {
          state.n += 1;
          ctx.after((s) => void effects.push(s.n));
          return ctx.reply(state.n);
        },
      },
    });
    const keys = new Layout().actor('tally', 't');
    // The consumer's first batch commits, then another batch (as another consumer's, after a lease
    // takeover) moves the version key on before the consumer can look, and the consumer is told
    // commit_unknown_result.
    const view = ambiguousView(
      (tx) => tx.step === 'batch',
      () =>
        engine.transact(async (t) => {
          const v = decodeVersion(await t.get(keys.version));
          t.set(keys.version, encodeVersion({ n: v.n + 1, batch: 'ab'.repeat(16) }));
        }),
    );
    const consumer = await system(view);
    consumer.serve(Tally);
    const producer = await system(engine);
    // Before the fix the consumer took its committed batch for a failed one: the after-commit
    // effect never ran (and a caller in the consumer's process would have waited for its timeout).
    expect(await producer.ref(Tally, 't').call.bump(undefined, { timeout: 2_000 })).toBe(1);
    expect(view.ambiguous()).toBe(1);
    for (let i = 0; i < 50 && effects.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(effects).toEqual([1]);
  });

  it('a consumer isolates into the dead letters only the message that failed alone, not the one behind it', async () => {
    engine = memory({ seed: 6 });
    const Store = defineActor({
      name: 'store',
      initialState: () => ({ n: 0 }),
      reducers: {
        add(state, v: number) {
          state.n += v;
        },
        poison(state) {
          (state as unknown as Record<string, number>)['k'.repeat(12_000)] = 1; // a key over the 10,000-byte limit
        },
      },
    });
    const keys = new Layout().actor('store', 's');
    // The consumer's view of the store: when a batch of the poison alone fails (the second
    // failure), another consumer that took the lease over meanwhile has already isolated it.
    const owner = new ProcessBackend(engine, 'consumer');
    let failures = 0;
    const view: Backend = {
      kind: 'memory',
      get closed() {
        return engine.closed;
      },
      stats: () => engine.stats(),
      close: async () => {},
      async transact<T>(fn: (tx: Transaction) => T | Promise<T>, options?: TransactOptions): Promise<T> {
        try {
          return await engine.transact((t) => fn(new TxView(t, owner)), options);
        } catch (e) {
          if (isDgenError(e, 'unserializable_value') && ++failures === 2) {
            await engine.transact(async (t) => {
              const [head] = await t.getRange(keys.queue.range().begin, keys.queue.range().end, { limit: 1 });
              t.clear(head!.key);
            });
          }
          throw e;
        }
      },
    };
    const producer = await system(engine);
    await producer.ref(Store, 's').dispatch.poison();
    await producer.ref(Store, 's').dispatch.add(5);
    const consumer = await system(view);
    consumer.serve(Store);
    // Before the fix the consumer dead-lettered the head of the queue, whichever message it was.
    for (let i = 0; i < 100 && (await producer.ref(Store, 's').query((st) => st.n)) !== 5; i++) await new Promise((r) => setTimeout(r, 10));
    expect(failures).toBeGreaterThanOrEqual(2);
    expect(await producer.ref(Store, 's').query((st) => st.n)).toBe(5);
    expect(await producer.admin.deadLetters(Store, 's')).toEqual([]);
  });

  it('a caller in the consumer process gets the error of a message isolated into the dead letters, also when that commit was ambiguous', async () => {
    engine = memory({ seed: 7 });
    const Store = defineActor({
      name: 'store',
      initialState: () => ({ n: 0 }),
      reducers: {
        poison(state) {
          (state as unknown as Record<string, number>)['k'.repeat(12_000)] = 1;
        },
      },
    });
    // The commit that moves the message to the dead letters (no state change) applies but reports
    // commit_unknown_result; before the fix the caller, in the same process, waited for its timeout.
    const view = ambiguousView((tx) => tx.touched.has('d') && !tx.touched.has('v'));
    const s = await system(view);
    s.serve(Store);
    await expect(s.ref(Store, 's').call.poison(undefined, { timeout: 3_000 })).rejects.toMatchObject({ code: 'unserializable_value' });
    expect(view.ambiguous()).toBe(1);
    expect(await s.admin.deadLetters(Store, 's')).toHaveLength(1);
  });

  it('a caller gets its reply, and the next call is applied once, when the commit that clears the stored reply is ambiguous', async () => {
    engine = memory({ seed: 2 });
    const Counter = defineActor({
      name: 'counter',
      initialState: { n: 0 },
      reducers: {
        add(state, by: number, ctx) {
          state.n += by;
          return ctx.reply(state.n);
        },
      },
    });
    // The commit that clears a reply read applies but reports commit_unknown_result, as
    // FoundationDB may report it. The reply listener reads without committing and the clear
    // rides in the process's next enqueue: that enqueue is the ambiguous commit, which the sender
    // settles through its marker (the second call is applied once: 6, not 7).
    const producerView = ambiguousView((tx) => tx.touched.has('r'));
    const consumer = await system(engine);
    consumer.serve(Counter);
    const producer = await system(producerView);
    const ref = producer.ref(Counter, 'c');
    expect(await ref.call.add(5, { timeout: 2_000 })).toBe(5);
    expect(await ref.call.add(1, { timeout: 2_000 })).toBe(6);
    expect(producerView.ambiguous()).toBe(1);
    expect(await ref.query((s) => s.n)).toBe(6);
  });

  it('a caller in the consumer process gets the error of a thunk that gave up, also when the commit that dead-letters it was ambiguous', async () => {
    engine = memory({ seed: 5 });
    const Mailer = defineActor({
      name: 'mailer',
      initialState: { n: 0 },
      thunks: {
        async mail() {
          throw new Error('mail failed');
        },
      },
      reducers: {
        send(_state, _: void, ctx) {
          ctx.lock('mail');
          return ctx.reply(0);
        },
      },
      options: { thunkAttempts: 1, thunkRetryMs: 5 },
    });
    // The commit that releases the lock and dead-letters the message applies but reports
    // commit_unknown_result; before the fix the caller, in the same process, waited for its timeout.
    const view = ambiguousView((tx) => tx.step === 'thunk-fail');
    const s = await system(view);
    s.serve(Mailer);
    await expect(s.ref(Mailer, 'm').call.send(undefined, { timeout: 3_000 })).rejects.toMatchObject({ message: 'mail failed' });
    expect(view.ambiguous()).toBe(1);
    expect(await s.admin.deadLetters(Mailer, 'm')).toHaveLength(1);
  });
});
