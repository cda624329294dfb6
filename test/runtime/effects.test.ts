import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSystem, defineActor, memory, type MemoryBackend, type System, type SystemEvent } from '../../src/index.js';
import { encodeValue } from '../../src/state/codec.js';
import { Layout } from '../../src/store/keys.js';
import { Account, mailbox } from '../fixtures/bank.js';
import { Counter } from '../fixtures/actors.js';

let backend: MemoryBackend;
const systems: System[] = [];
async function system(): Promise<System> {
  const s = await createSystem({ backend, closeBackend: false });
  systems.push(s);
  return s;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(check: () => Promise<boolean> | boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(10);
  }
}

beforeEach(() => {
  backend = memory({ seed: 7 });
  mailbox.requests = [];
  mailbox.failNext = 0;
  mailbox.gate = undefined;
});
afterEach(async () => {
  for (const s of systems.splice(0)) await s.close();
  await backend.close();
});

describe('after-commit effects', () => {
  it('run exactly once per message after its commit, in order, under injected conflicts and ambiguous commits', async () => {
    const seen: number[] = [];
    const Tally = defineActor({
      name: 'tally',
      initialState: { n: 0 },
      reducers: {
        bump(state, _: void, ctx) {
          state.n += 1;
          ctx.after((s) => void seen.push(s.n));
        },
      },
    });
    const s = await system();
    s.serve(Tally);
    backend.faults.set({ conflict: 0.15, unknownResult: 0.1, unknownResultNotApplied: 0.1, failBeforeCommit: 0.1 });
    const t = s.ref(Tally, 't');
    for (let i = 0; i < 60; i++) await t.dispatch.bump();
    backend.faults.clear();
    await t.call.bump();
    // One run per message, after its batch committed, with the state that batch committed.
    expect(seen).toHaveLength(61);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen.at(-1)).toBe(61);
    expect(backend.faults.injected.unknownResult).toBeGreaterThan(0);
  });

  it('reports an effect that throws on events$ and keeps the actor going', async () => {
    const Boom = defineActor({
      name: 'boom',
      initialState: { n: 0 },
      reducers: {
        bump(state, _: void, ctx) {
          state.n += 1;
          ctx.after(() => {
            throw new Error('effect failed');
          });
        },
      },
    });
    const s = await system();
    const events: SystemEvent[] = [];
    s.events$.subscribe((e) => events.push(e));
    s.serve(Boom);
    await s.ref(Boom, 'b').call.bump();
    await s.ref(Boom, 'b').call.bump();
    expect(await s.ref(Boom, 'b').query((st) => st.n)).toBe(2);
    expect(events.filter((e) => e.type === 'effect-failed')).toHaveLength(2);
  });
});

describe('locked thunks', () => {
  it('pause the queue, run outside the transaction, apply their recipe and answer the call after', async () => {
    const s = await system();
    s.serve(Account);
    const a = s.ref(Account, 'alice');
    await a.dispatch.deposit(100);
    let release!: () => void;
    mailbox.gate = new Promise((r) => (release = r));
    const reply = a.call.sendStatement('alice@example.com');
    await until(() => mailbox.requests.length === 1);
    await a.dispatch.deposit(5); // accepted while locked, processed after
    await sleep(50);
    expect(await a.query((st) => st.balance)).toBe(100);
    expect(await s.admin.lock(Account, 'alice')).toMatchObject({ thunk: 'mailStatement', attempt: 1 });
    release();
    expect(await reply).toBe(100);
    await until(async () => (await a.query((st) => st.balance)) === 105);
    expect(await a.query((st) => st.statements)).toBe(1);
    expect(mailbox.requests[0]!.key).toMatch(/^account\/alice\/[0-9a-f]{32}$/);
    expect(await s.admin.lock(Account, 'alice')).toBeUndefined();
  });

  it('re-run a failing thunk with backoff and the same idempotency key, applying the recipe once', async () => {
    const s = await system();
    s.serve(Account);
    mailbox.failNext = 2;
    await s.ref(Account, 'bob').call.sendStatement('bob@example.com');
    expect(mailbox.requests.map((r) => r.attempt)).toEqual([1, 2, 3]);
    expect(new Set(mailbox.requests.map((r) => r.key)).size).toBe(1);
    expect(await s.ref(Account, 'bob').query((st) => st.statements)).toBe(1);
  });

  it('dead-letter the message after the last attempt, reject the call, and release the queue', async () => {
    const s = await system();
    s.serve(Account);
    mailbox.failNext = 3;
    const c = s.ref(Account, 'carol');
    await expect(c.call.sendStatement('carol@example.com')).rejects.toMatchObject({ message: 'mail server unavailable' });
    const letters = await s.admin.deadLetters(Account, 'carol');
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ attempts: 3, error: { message: 'mail server unavailable' }, message: { action: 'sendStatement' } });
    await c.call.deposit(1);
    expect(await c.query((st) => st.balance)).toBe(1);
  });

  it('refuse the recipe of a consumer that lost its lease (fencing) and let the next owner re-run', async () => {
    const first = await system();
    first.serve(Account);
    let release!: () => void;
    mailbox.gate = new Promise((r) => (release = r));
    const call = first.ref(Account, 'dave').call.sendStatement('dave@example.com', { timeout: 10_000 });
    await until(() => mailbox.requests.length === 1);
    // Another consumer takes the lease over (as after an expiry): new owner, new fencing token.
    const keys = new Layout().actor('account', 'dave');
    await backend.transact((tx) => tx.set(keys.lease, encodeValue({ owner: 'other', expires: Date.now() + 60_000, token: 99 })));
    mailbox.gate = undefined;
    release();
    await sleep(100);
    expect(await first.ref(Account, 'dave').query((st) => st.statements)).toBe(0);
    expect(await first.admin.lock(Account, 'dave')).toBeDefined();
    // The lease expires; a new consumer re-runs the thunk and applies its recipe once.
    await backend.transact((tx) => tx.set(keys.lease, encodeValue({ owner: 'other', expires: 0, token: 99 })));
    const second = await system();
    second.serve(Account);
    await expect(call).resolves.toBe(0);
    await until(async () => (await second.ref(Account, 'dave').query((st) => st.statements)) === 1);
    expect(mailbox.requests.map((r) => r.attempt)).toEqual([1, 2]);
  });
});

describe('actor-to-actor sends', () => {
  it('happen if and only if the sending state change commits, under injected commit failures', async () => {
    const s = await system();
    s.serve(Account);
    const refs = ['a0', 'a1', 'a2', 'a3'].map((id) => s.ref(Account, id));
    for (const r of refs) await r.call.deposit(1_000);
    backend.faults.set({ conflict: 0.1, unknownResult: 0.1, unknownResultNotApplied: 0.1, failBeforeCommit: 0.1 });
    await Promise.all(
      Array.from({ length: 200 }, (_, i) => refs[i % 4]!.dispatch.transfer({ to: `a${(i + 1) % 4}`, amount: 1 + (i % 7) })),
    );
    backend.faults.clear();
    let balances: number[] = [];
    await until(async () => {
      balances = await Promise.all(refs.map((r) => r.query((st) => st.balance)));
      return balances.reduce((a, b) => a + b, 0) === 4_000;
    }, 10_000);
    const expected = [1_000, 1_000, 1_000, 1_000];
    for (let i = 0; i < 200; i++) {
      expected[i % 4]! -= 1 + (i % 7);
      expected[(i + 1) % 4]! += 1 + (i % 7);
    }
    await until(async () => JSON.stringify(await Promise.all(refs.map((r) => r.query((st) => st.balance)))) === JSON.stringify(expected), 10_000);
  });
});

describe('idempotent dispatch', () => {
  it('enqueues once per key, also when the commit result was unknown', async () => {
    const s = await system();
    const c = s.ref(Counter, 'idem');
    backend.faults.injectNext('unknownResult');
    await c.dispatch.increment(1, { idempotencyKey: 'order-1' });
    await c.dispatch.increment(1, { idempotencyKey: 'order-1' }); // a producer retrying by hand
    backend.faults.injectNext('unknownResultNotApplied');
    await c.dispatch.increment(10, { idempotencyKey: 'order-2' });
    backend.faults.injectNext('unknownResult');
    await c.dispatch.increment(100); // no key: exactly once through the enqueue marker
    s.serve(Counter);
    await c.call.increment(0);
    expect(await c.query((st) => st.count)).toBe(111);
  });

  it('rejects an empty idempotency key', async () => {
    const s = await system();
    await expect(s.ref(Counter, 'k').dispatch.increment(1, { idempotencyKey: '' })).rejects.toMatchObject({ code: 'invalid_idempotency_key' });
  });
});

describe('failures, dead letters and the admin API', () => {
  it('dead-letters a failing message, and requeues it once the cause is fixed', async () => {
    const s = await system();
    s.serve(Account);
    const e = s.ref(Account, 'erin');
    await e.call.setStrict(true);
    await expect(e.call.transfer({ to: 'frank', amount: 50 })).rejects.toMatchObject({ code: 'insufficient_funds' });
    const [letter] = await s.admin.deadLetters(Account, 'erin');
    expect(letter).toMatchObject({ attempts: 1, error: { code: 'insufficient_funds', name: 'Error' }, message: { action: 'transfer', payload: { to: 'frank', amount: 50 } } });
    await e.call.deposit(50);
    expect(await s.admin.requeue(Account, 'erin', letter!.position)).toBe(true);
    await until(async () => (await s.ref(Account, 'frank').query((st) => st.balance)) === 50);
    expect(await s.admin.deadLetters(Account, 'erin')).toEqual([]);
  });

  it('halts the actor on a failure with policy halt, until an operator acts', async () => {
    const Strict = defineActor({
      name: 'strict',
      initialState: { log: [] as string[] },
      reducers: {
        add(state, item: string) {
          if (item === 'poison') throw new Error('poison message');
          state.log.push(item);
        },
      },
      options: { failurePolicy: 'halt' },
    });
    const s = await system();
    s.serve(Strict);
    const r = s.ref(Strict, 'h');
    await r.dispatch.add('a');
    await expect(r.call.add('poison')).rejects.toMatchObject({ message: 'poison message' });
    await r.dispatch.add('b');
    await sleep(100);
    expect(await r.query((st) => st.log)).toEqual(['a']);
    expect(await s.admin.halted(Strict, 'h')).toMatchObject({ error: { message: 'poison message' } });
    const queued = await s.admin.queue(Strict, 'h');
    expect(queued.map((q) => ('action' in q.message ? q.message.payload : null))).toEqual(['poison', 'b']);
    expect(await s.admin.deleteQueued(Strict, 'h', queued[0]!.position)).toBe(true);
    expect(await s.admin.resume(Strict, 'h')).toBe(true);
    await until(async () => (await r.query((st) => st.log)).length === 2);
    expect(await r.query((st) => st.log)).toEqual(['a', 'b']);
  });

  it('lists instances, reads state, releases a stuck lock and destroys an instance', async () => {
    const s = await system();
    s.serve(Account);
    await s.ref(Account, 'g1').call.deposit(1);
    await s.ref(Account, 'g2').call.deposit(2);
    expect(await s.admin.instances(Account)).toEqual(['g1', 'g2']);
    expect(await s.admin.state('account', 'g2')).toMatchObject({ balance: 2 });
    mailbox.gate = new Promise(() => {}); // a thunk that never finishes
    void s.ref(Account, 'g1').call.sendStatement('x', { timeout: 200 }).catch(() => {});
    await until(async () => (await s.admin.lock(Account, 'g1')) !== undefined);
    expect(await s.admin.releaseLock(Account, 'g1')).toBe(true);
    expect(await s.admin.deadLetters(Account, 'g1')).toHaveLength(1);
    await s.admin.destroy(Account, 'g2');
    expect(await s.admin.state(Account, 'g2')).toBeUndefined();
    expect(await s.admin.instances(Account)).toEqual(['g1']);
  });
});
