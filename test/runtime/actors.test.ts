import { describe, expect, it } from 'vitest';
import { firstValueFrom, take, toArray } from 'rxjs';
import {
  ActorError,
  CallTimeoutError,
  DefinitionConflictError,
  InvalidIdError,
  MessageTooLargeError,
  SystemClosedError,
  UnknownActionError,
  defineActor,
} from '../../src/index.js';
import { Counter, Todos } from '../fixtures/actors.js';
import { actorEngines, systemsOn } from '../support/actor-engines.js';

describe.each(actorEngines())('actors on $name', (engine) => {
  if (engine.skip !== undefined) {
    it.skip(`skipped: ${engine.skip}`, () => {});
    return;
  }
  const system = systemsOn(engine);

  it('processes dispatches and answers calls with the reducer reply', async () => {
    const s = await system();
    s.serve(Counter);
    const c = s.ref(Counter, 'c1');
    await c.dispatch.increment(2);
    await c.dispatch.increment();
    expect(await c.call.add(10)).toBe(13);
    expect(await c.query((st) => st.count)).toBe(13);
  });

  it('processes a call to an idle actor served in the same process in one commit (inline path)', async () => {
    const s = await system();
    s.serve(Counter);
    const c = s.ref(Counter, 'inline');
    await c.call.add(1);
    const before = s.backend.stats().commits;
    expect(await c.call.add(2)).toBe(3);
    expect(s.backend.stats().commits - before).toBe(1);
    expect(await s.admin.queue(Counter, 'inline')).toEqual([]);
  });

  it('starts from the initial state and answers queries without any message', async () => {
    const s = await system();
    expect(await s.ref(Counter, 'fresh').query()).toEqual({ count: 0, log: [] });
  });

  it('keeps the order of messages sent through one ref without awaiting each', async () => {
    const s = await system();
    const c = s.ref(Counter, 'order');
    await Promise.all(Array.from({ length: 300 }, (_, i) => c.dispatch.record(i)));
    s.serve(Counter);
    await c.call.increment();
    expect(await c.query((st) => st.log)).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });

  it('gives the caller the reducer error with its class name, message and code; state unchanged', async () => {
    const s = await system();
    s.serve(Counter);
    const c = s.ref(Counter, 'err');
    await c.dispatch.increment(5);
    const error = await c.call.fail('nope').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ActorError);
    expect(error).toMatchObject({ name: 'RangeError', message: 'nope', code: 'too_far', action: 'fail' });
    await expect(c.call.failAfterChange()).rejects.toMatchObject({ message: 'changed, then failed', code: 'reducer_failed' });
    expect(await c.call.add(1)).toBe(6);
  });

  it('rejects a state that cannot be stored, naming the path, and keeps the previous state', async () => {
    const s = await system();
    s.serve(Counter);
    const c = s.ref(Counter, 'fn');
    await c.dispatch.increment(1);
    await expect(c.call.storeFunction()).rejects.toMatchObject({ code: 'unserializable_value', message: expect.stringContaining('state.f') });
    expect(await c.call.add(1)).toBe(2);
  });

  it('makes ctx.now and ctx.random deterministic per message', async () => {
    const s = await system();
    s.serve(Counter);
    const before = Date.now();
    const r = await s.ref(Counter, 'det').call.stamp();
    expect(r.now).toBeGreaterThanOrEqual(before);
    expect(r.now).toBeLessThanOrEqual(Date.now());
    expect(r.random).toBeGreaterThanOrEqual(0);
    expect(r.random).toBeLessThan(1);
    expect(r.id).toMatch(/^[0-9a-f]{32}$/);
  });

  it('runs after-commit effects once per commit with the committed state', async () => {
    const seen: number[] = [];
    const Effects = defineActor({
      name: 'effects',
      initialState: { n: 0 },
      reducers: {
        bump(state, _: void, ctx) {
          state.n += 1;
          ctx.after((committed) => void seen.push(committed.n));
        },
      },
    });
    const s = await system();
    s.serve(Effects);
    const e = s.ref(Effects, 'x');
    for (let i = 0; i < 5; i++) await e.call.bump();
    expect(seen).toEqual([1, 2, 3, 4, 5]);
  });

  it('stores keyed collections and applies inserts, updates and removals', async () => {
    const s = await system();
    s.serve(Todos);
    const t = s.ref(Todos, 'list');
    for (let i = 0; i < 20; i++) await t.dispatch.add({ id: `t${i}`, title: `task ${i}`, done: false });
    await t.dispatch.toggle('t3');
    await t.dispatch.remove('t7');
    await t.call.toggle('t19');
    const other = await system(true);
    const items = await other.ref(Todos, 'list').query((st) => st.items);
    expect(items).toHaveLength(19);
    expect(items.find((i) => i.id === 't3')?.done).toBe(true);
    expect(items.find((i) => i.id === 't19')?.done).toBe(true);
    expect(items.map((i) => i.id)).not.toContain('t7');
  });

  it('emits every committed state in order on state$, in the serving process and elsewhere', async () => {
    const s = await system();
    const observer = await system(true); // a second system on the same store, not serving
    const local = firstValueFrom(s.ref(Counter, 'obs').state$.pipe(take(6), toArray()));
    const remote = firstValueFrom(observer.ref(Counter, 'obs').state$.pipe(take(6), toArray()));
    await new Promise((r) => setTimeout(r, 50));
    s.serve(Counter, { ids: ['obs'] });
    const c = s.ref(Counter, 'obs');
    for (let i = 0; i < 5; i++) await c.call.increment();
    expect((await local).map((st) => st.count)).toEqual([0, 1, 2, 3, 4, 5]);
    expect((await remote).map((st) => st.count)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('follows many instances on state$ at once without a listener-leak warning', async () => {
    const s = await system();
    s.serve(Counter);
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const ids = Array.from({ length: 25 }, (_, i) => `many-${i}`);
      const seen = ids.map((id) => firstValueFrom(s.ref(Counter, id).state$.pipe(take(2), toArray())));
      await new Promise((r) => setTimeout(r, 50));
      await Promise.all(ids.map((id) => s.ref(Counter, id).call.increment()));
      for (const states of await Promise.all(seen)) expect(states.map((st) => st.count)).toEqual([0, 1]);
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
      // (the simulated FoundationDB harness loads a binding per system, each adding an 'exit' listener: not ours)
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning' && w.message.includes('abort listeners'))).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('processes each message exactly once with several consumers of the same actors', async () => {
    const a = await system();
    const b = await system(true);
    const producer = await system(true);
    a.serve(Counter);
    b.serve(Counter);
    const refs = ['m0', 'm1', 'm2'].map((id) => producer.ref(Counter, id));
    await Promise.all(refs.flatMap((r) => Array.from({ length: 200 }, () => r.dispatch.increment())));
    for (const r of refs) await r.call.increment(0);
    for (const r of refs) expect(await r.query((st) => st.count)).toBe(200);
  });

  it('answers a call from a consumer in another system through the reply key', async () => {
    const server = await system();
    const client = await system(true);
    server.serve(Counter);
    expect(await client.ref(Counter, 'remote').call.add(7)).toBe(7);
  });

  it('chunks large messages and rejects those over the maximum', async () => {
    const Blob = defineActor({ name: 'blob', initialState: { size: 0 }, reducers: { put(state, data: string) { state.size = data.length; } } });
    const s = await system();
    s.serve(Blob);
    const b = s.ref(Blob, 'b');
    await b.call.put('x'.repeat(400_000));
    expect(await b.query((st) => st.size)).toBe(400_000);
    await expect(b.dispatch.put('x'.repeat(1_100_000))).rejects.toThrow(MessageTooLargeError);
  });

  it('lets enqueues in flight commit when the system closes', async () => {
    const s = await system();
    const c = s.ref(Counter, 'closing');
    const sends = Array.from({ length: 50 }, () => c.dispatch.increment());
    await s.close();
    await Promise.all(sends);
    const after = await system(true);
    after.serve(Counter);
    expect(await after.ref(Counter, 'closing').call.add(0)).toBe(50);
  });

  it('times out a call nobody serves', async () => {
    const s = await system();
    await expect(s.ref(Counter, 'idle').call.add(1, { timeout: 100 })).rejects.toBeInstanceOf(CallTimeoutError);
  });

  it('rejects bad input at the boundary with typed errors', async () => {
    const s = await system();
    expect(() => s.ref(Counter, '')).toThrow(InvalidIdError);
    expect(() => s.ref(Counter, 42 as unknown as string)).toThrow(InvalidIdError);
    const untyped = s.ref(Counter, 'u').dispatch as unknown as Record<string, () => Promise<void>>;
    expect(() => untyped['nope']!()).toThrow(UnknownActionError);
    const Clash = defineActor({ name: 'counter', initialState: 0, reducers: { x() {} } });
    expect(() => s.ref(Clash, 'a')).toThrow(DefinitionConflictError);
    await s.close();
    expect(() => s.ref(Counter, 'a').dispatch.increment()).toThrow(SystemClosedError);
  });
});
