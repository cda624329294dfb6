/**
 * Side effects users build sagas on: thunk replies, compensation when a thunk gives up, fencing
 * tokens handed to thunks, idempotent calls. On every engine (memory, LMDB, FoundationDB simulated
 * and real); ambiguous commits on memory.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ActorError, CallTimeoutError, createSystem, defineActor, isDgenError, memory, type MemoryBackend, type System } from '../../src/index.js';
import { actorEngines, systemsOn } from '../support/actor-engines.js';

/** A fake payment service: charges by idempotency key; can fail, or wait at a gate. */
const payments = {
  charges: new Map<string, number>(),
  failNext: 0,
  gate: undefined as Promise<void> | undefined,
  runs: [] as Array<{ order: string; attempt: number; fencingToken: number }>,
};

type Order = { order: string; amount: number };

const Shop = defineActor({
  name: 'shop',
  initialState: () => ({ stock: 100, held: 0, paid: 0, orders: {} as Record<string, string>, compensations: 0 }),
  thunks: {
    charge: {
      async run({ order, amount }: Order, { key, attempt, fencingToken }) {
        payments.runs.push({ order, attempt, fencingToken });
        if (payments.gate !== undefined) await payments.gate;
        if (payments.failNext > 0) {
          payments.failNext--;
          throw Object.assign(new Error(`card declined for ${order}`), { code: 'card_declined' });
        }
        payments.charges.set(key, amount);
        return {
          recipe: (d) => {
            d.held -= 1;
            d.paid += amount;
            d.orders[order] = 'paid';
          },
          reply: { receipt: `receipt-${order}`, attempt },
        };
      },
      onFailure(draft, error, { order }: Order) {
        draft.stock += 1;
        draft.held -= 1;
        draft.orders[order] = `cancelled: ${error.code}`;
        draft.compensations += 1;
      },
    },
    bad: {
      run: async () => {
        throw new Error('always');
      },
      onFailure(draft) {
        draft.stock = -1;
        throw new Error('compensation bug');
      },
    },
  },
  reducers: {
    reserve(state, o: Order, ctx) {
      if (state.stock === 0) throw Object.assign(new Error('sold out'), { code: 'sold_out' });
      state.stock -= 1;
      state.held += 1;
      state.orders[o.order] = 'pending';
      return ctx.lock('charge', o);
    },
    badCompensation(_state, _: void, ctx) {
      ctx.lock('bad');
    },
  },
  options: { thunkAttempts: 2, thunkRetryMs: 5, leaseMs: 400 },
});

beforeEach(() => {
  payments.charges.clear();
  payments.failNext = 0;
  payments.gate = undefined;
  payments.runs = [];
});

describe.each(actorEngines())('thunks on $name', (engine) => {
  if (engine.skip !== undefined) {
    it.skip(`skipped: ${engine.skip}`, () => {});
    return;
  }
  const systems = systemsOn(engine);
  const system = () => systems(true); // every system of a test on one store

  it('a call whose reducer returns ctx.lock gets the thunk reply, delivered with its recipe', async () => {
    const s = await system();
    s.serve(Shop);
    const shop = s.ref(Shop, 'a');
    const reply = await shop.call.reserve({ order: 'o1', amount: 30 });
    expect(reply).toEqual({ receipt: 'receipt-o1', attempt: 1 });
    expect(await shop.query()).toMatchObject({ stock: 99, held: 0, paid: 30, orders: { o1: 'paid' }, compensations: 0 });
    expect([...payments.charges.values()]).toEqual([30]);
  });

  it('a thunk that gives up: the call rejects with its error, onFailure compensates once in the dead-lettering transaction', async () => {
    const s = await system();
    s.serve(Shop);
    const shop = s.ref(Shop, 'a');
    payments.failNext = 2; // both attempts
    const error = await shop.call.reserve({ order: 'o2', amount: 10 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ActorError);
    expect(error).toMatchObject({ code: 'card_declined', message: 'card declined for o2', action: 'reserve' });
    expect(await shop.query()).toMatchObject({ stock: 100, held: 0, paid: 0, orders: { o2: 'cancelled: card_declined' }, compensations: 1 });
    const letters = await s.admin.deadLetters(Shop, 'a');
    expect(letters).toHaveLength(1);
    expect(letters[0]!.error).toMatchObject({ code: 'card_declined' });
    // The instance is unlocked: the next order goes through.
    expect(await shop.call.reserve({ order: 'o3', amount: 5 })).toEqual({ receipt: 'receipt-o3', attempt: 1 });
  });

  it('a compensation that throws changes nothing; the dead letter says why', async () => {
    const s = await system();
    s.serve(Shop);
    const shop = s.ref(Shop, 'a');
    await expect(shop.call.badCompensation()).rejects.toMatchObject({ message: 'always' });
    expect((await shop.query()).stock).toBe(100);
    const [letter] = await s.admin.deadLetters(Shop, 'a');
    expect(letter!.error.message).toContain('compensation onFailure failed, changing nothing: compensation bug');
  });

  it('ctx.fencingToken: a consumer that lost its lease is refused by a store that checks tokens', async () => {
    // The external store keeps the highest token it has seen and refuses writes below it.
    const store = { token: 0, value: '', refused: [] as number[] };
    const write = (token: number, value: string) => {
      if (token < store.token) {
        store.refused.push(token);
        throw new Error(`fenced: token ${token} < ${store.token}`);
      }
      store.token = token;
      store.value = value;
    };
    let release!: () => void;
    const firstRunHeld = new Promise<void>((r) => (release = r));
    const seen: number[] = [];
    const Fenced = defineActor({
      name: 'fenced',
      initialState: () => ({ writes: 0 }),
      thunks: {
        async put(value: string, { fencingToken, attempt }) {
          seen.push(fencingToken);
          if (attempt === 1) await firstRunHeld; // paused past its lease (a GC pause, a partition): ignores its signal
          write(fencingToken, `${value}@${attempt}`);
          return (d) => {
            d.writes += 1;
          };
        },
      },
      reducers: {
        put(_s, value: string, ctx) {
          ctx.lock('put', value);
        },
      },
      options: { leaseMs: 300, thunkRetryMs: 5 },
    });
    const a = await system();
    const b = await system();
    const serving = a.serve(Fenced);
    await a.ref(Fenced, 'x').dispatch.put('v');
    await until(() => seen.length === 1);
    await serving.stop(); // consumer A is gone from the lease, but its thunk is still running
    b.serve(Fenced);
    await until(() => seen.length === 2 && store.value !== '');
    expect(seen[1]!).toBeGreaterThan(seen[0]!);
    release(); // the stale run wakes up and writes with its old token
    await until(() => store.refused.length === 1);
    expect(store).toMatchObject({ value: 'v@2', token: seen[1], refused: [seen[0]] });
    await until(async () => (await b.ref(Fenced, 'x').query()).writes === 1);
  });

  it('idempotent calls: a retry with the same key sends nothing and gets the first reply, also from another process', async () => {
    const s = await system();
    s.serve(Shop);
    const shop = s.ref(Shop, 'a');
    const first = await shop.call.reserve({ order: 'o4', amount: 7 }, { idempotencyKey: 'order-4' });
    const again = await shop.call.reserve({ order: 'o4', amount: 7 }, { idempotencyKey: 'order-4' });
    const elsewhere = await (await system()).ref(Shop, 'a').call.reserve({ order: 'o4', amount: 7 }, { idempotencyKey: 'order-4' });
    expect(again).toEqual(first);
    expect(elsewhere).toEqual(first);
    expect(await shop.query()).toMatchObject({ stock: 99, paid: 7 });
    expect(payments.runs).toHaveLength(1);
  });

  it('idempotent calls: a retry while the first is still running waits for its reply; a failed first call fails its retries alike', async () => {
    const s = await system();
    s.serve(Shop);
    const shop = s.ref(Shop, 'a');
    let open!: () => void;
    payments.gate = new Promise<void>((r) => (open = r));
    const first = shop.call.reserve({ order: 'o5', amount: 1 }, { idempotencyKey: 'k5', timeout: 50 }).catch((e: unknown) => e);
    expect(await first).toBeInstanceOf(CallTimeoutError);
    const retry = shop.call.reserve({ order: 'o5', amount: 1 }, { idempotencyKey: 'k5' });
    open();
    expect(await retry).toEqual({ receipt: 'receipt-o5', attempt: 1 });
    payments.gate = undefined;
    payments.failNext = 2;
    const failed = await shop.call.reserve({ order: 'o6', amount: 1 }, { idempotencyKey: 'k6' }).catch((e: unknown) => e);
    const retried = await shop.call.reserve({ order: 'o6', amount: 1 }, { idempotencyKey: 'k6' }).catch((e: unknown) => e);
    expect(failed).toMatchObject({ code: 'card_declined' });
    expect(retried).toBeInstanceOf(ActorError);
    expect(retried).toMatchObject({ code: 'card_declined', message: (failed as Error).message });
    expect((await shop.query()).compensations).toBe(1);
  });

  it('a key first used by a dispatch fails the call with idempotency_key_used', async () => {
    const s = await system();
    const shop = s.ref(Shop, 'a');
    await shop.dispatch.reserve({ order: 'o7', amount: 1 }, { idempotencyKey: 'k7' });
    await expect(shop.call.reserve({ order: 'o7', amount: 1 }, { idempotencyKey: 'k7' })).rejects.toMatchObject({ code: 'idempotency_key_used' });
  });
});

describe('thunks under ambiguous commits (memory faults)', () => {
  let backend: MemoryBackend;
  const open: System[] = [];
  beforeEach(() => {
    backend = memory({ seed: 11 });
  });
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    await backend.close();
  });

  it('every call gets its thunk reply or its error, and each given-up thunk is compensated exactly once', async () => {
    const s = await createSystem({ backend, closeBackend: false });
    open.push(s);
    s.serve(Shop);
    const shop = s.ref(Shop, 'f');
    await shop.dispatch.reserve({ order: 'warm', amount: 0 }); // stored state before the faults
    await until(async () => (await shop.query()).orders.warm === 'paid');
    backend.faults.set({ conflict: 0.1, unknownResult: 0.15, unknownResultNotApplied: 0.15, failBeforeCommit: 0.05 });
    const outcomes: unknown[] = [];
    for (let i = 0; i < 12; i++) {
      payments.failNext = i % 2 === 0 ? 2 : 0; // every other order's card is declined on both attempts
      outcomes.push(await shop.call.reserve({ order: `o${i}`, amount: 1 }, { idempotencyKey: `f-${i}`, timeout: 20_000 }).catch((e: unknown) => e));
    }
    backend.faults.clear();
    expect(backend.faults.injected.unknownResult).toBeGreaterThan(0);
    const state = await shop.query();
    const declined = outcomes.filter((o) => isDgenError(o, 'card_declined')).length;
    const paid = outcomes.filter((o) => (o as { receipt?: string }).receipt !== undefined).length;
    expect(outcomes.filter((o) => !isDgenError(o, 'card_declined') && (o as { receipt?: string }).receipt === undefined).map(String)).toEqual([]);
    expect(declined + paid).toBe(12);
    expect(state.compensations).toBe(declined);
    expect(state).toMatchObject({ stock: 100 - 1 - paid, held: 0, paid });
    expect(await s.admin.deadLetters(Shop, 'f')).toHaveLength(declined);
    for (let i = 0; i < 12; i++) expect(state.orders[`o${i}`]).toBe(isDgenError(outcomes[i], 'card_declined') ? 'cancelled: card_declined' : 'paid');
  });
});

async function until(check: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
