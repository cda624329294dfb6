/**
 * Timers on every engine: delayed dispatch, `ctx.schedule` / `ctx.send(…, when)` / `ctx.cancel`,
 * replacement by key, `ctx.now()` as the due time, never early, exactly once with several hosts,
 * removal with the instance, and the operator's view.
 */
import { describe, expect, it } from 'vitest';
import { firstValueFrom, filter } from 'rxjs';
import { type Backend, type System, type Transaction } from '../../src/index.js';
import { Hold } from '../fixtures/timers.js';
import { actorEngines, systemsOn } from '../support/actor-engines.js';

/** Resolves once the instance's state satisfies `done`. */
function until<T>(s: System, id: string, done: (state: ReturnType<typeof Hold.initialState>) => T) {
  return firstValueFrom(s.ref(Hold, id).state$.pipe(filter((st) => Boolean(done(st)))));
}

const WRITES = new Set(['set', 'clear', 'clearRange', 'add', 'setVersionstampedKey', 'setVersionstampedValue']);

/** `db` counting the transactions that committed writes. */
function countingWrites(db: Backend): { backend: Backend; writes: () => number } {
  let n = 0;
  const transact: Backend['transact'] = (fn, options) => {
    let wrote = false;
    const body = (tx: Transaction) => {
      wrote = false;
      const watched = new Proxy(tx, {
        get(target, prop) {
          const v = Reflect.get(target, prop) as unknown;
          if (typeof v !== 'function') return v;
          return (...args: unknown[]) => {
            if (WRITES.has(String(prop))) wrote = true;
            return (v as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      });
      return fn(watched);
    };
    return db.transact(body, options).then((r) => {
      if (wrote) n++;
      return r;
    });
  };
  const backend = new Proxy(db, { get: (target, prop) => (prop === 'transact' ? transact : typeof Reflect.get(target, prop) === 'function' ? (Reflect.get(target, prop) as (...a: unknown[]) => unknown).bind(target) : Reflect.get(target, prop)) });
  return { backend, writes: () => n };
}

describe.each(actorEngines())('timers on $name', (engine) => {
  if (engine.skip !== undefined) {
    it.skip(`skipped: ${engine.skip}`, () => {});
    return;
  }
  const system = systemsOn(engine);

  it('delivers a delayed dispatch once, never before its due time, with ctx.now() = due time', async () => {
    const s = await system();
    s.serve(Hold);
    const before = Date.now();
    await s.ref(Hold, 'a').dispatch.fired('d', { delay: 80 });
    const [timer] = await s.admin.timers(Hold, 'a');
    expect(timer).toMatchObject({ key: undefined, action: 'fired', payload: 'd' });
    expect(timer!.due).toBeGreaterThanOrEqual(before + 80);
    const st = await until(s, 'a', (st) => st.fired.length === 1);
    expect(st.fired[0]).toMatchObject({ tag: 'd', now: timer!.due });
    expect(st.fired[0]!.processedAt).toBeGreaterThanOrEqual(timer!.due);
    expect(await s.admin.timers(Hold, 'a')).toEqual([]);
  });

  it('processes the timer of an idle instance served in the same process in its firing commit (inline path)', async () => {
    let counted!: ReturnType<typeof countingWrites>;
    const s = await system(false, (backend) => (counted = countingWrites(backend)).backend);
    s.serve(Hold);
    const ref = s.ref(Hold, 'inline');
    await ref.call.reserve({ item: 'warm', delay: 60_000 }); // the consumer takes the lease
    await ref.call.reserve({ item: 'warm', delay: 60_000 }); // processed inline: the consumer is idle
    await ref.dispatch.fired('i', { delay: 50 });
    const before = counted.writes();
    const st = await until(s, 'inline', (st) => st.fired.length === 1);
    expect(st.fired[0]).toMatchObject({ tag: 'i' });
    // One writing transaction: the firing one, which also processed the message (no consumer batch).
    expect(counted.writes() - before).toBe(1);
    expect(await s.admin.queue(Hold, 'inline')).toEqual([]);
  });

  it('fires { at } in the past as soon as possible', async () => {
    const s = await system();
    s.serve(Hold);
    await s.ref(Hold, 'past').dispatch.fired('p', { at: new Date(Date.now() - 60_000) });
    const st = await until(s, 'past', (st) => st.fired.length === 1);
    expect(st.fired[0]!.tag).toBe('p');
  });

  it('sets a named timer from a reducer; a later schedule of the key replaces it; cancel removes it', async () => {
    const s = await system();
    s.serve(Hold);
    const ref = s.ref(Hold, 'r');
    await ref.call.later({ tag: 'first', delay: 150, key: 'k' });
    await ref.call.later({ tag: 'second', delay: 100, key: 'k' });
    await ref.call.later({ tag: 'gone', delay: 10_000, key: 'c' });
    expect((await s.admin.timers(Hold, 'r')).map((t) => [t.key, t.payload])).toEqual([['k', 'second'], ['c', 'gone']]);
    await ref.call.later({ tag: 'marker', delay: 200 });
    await ref.dispatch.confirm(); // cancels 'expiry', which is not set: nothing happens
    expect(await s.admin.cancelTimer(Hold, 'r', { key: 'c' })).toBe(true);
    expect(await s.admin.cancelTimer(Hold, 'r', { key: 'c' })).toBe(false);
    const st = await until(s, 'r', (st) => st.fired.some((f) => f.tag === 'marker'));
    expect(st.fired.map((f) => f.tag)).toEqual(['second', 'marker']);
  });

  it('lapses a reservation unless confirmed (ctx.cancel in the same batch as the state change)', async () => {
    const s = await system();
    s.serve(Hold);
    await s.ref(Hold, 'kept').call.reserve({ item: 'seat-1', delay: 60 });
    await s.ref(Hold, 'kept').call.confirm();
    await s.ref(Hold, 'lapsed').call.reserve({ item: 'seat-2', delay: 60 });
    await s.ref(Hold, 'kept').dispatch.fired('marker', { delay: 120 });
    expect((await until(s, 'lapsed', (st) => st.held === null)).fired.map((f) => f.tag)).toEqual(['expire:seat-2']);
    const kept = await until(s, 'kept', (st) => st.fired.length > 0);
    expect(kept).toMatchObject({ held: 'seat-1', fired: [{ tag: 'marker' }] });
  });

  it('sends a delayed message to another instance with ctx.send(Def, id, { delay })', async () => {
    const s = await system();
    s.serve(Hold);
    await s.ref(Hold, 'from').call.forward({ to: 'to', tag: 'hello', delay: 30 });
    expect((await until(s, 'to', (st) => st.fired.length === 1)).fired[0]!.tag).toBe('hello');
  });

  it('delivers an instance’s timers in due order, each once, with several hosts serving', async () => {
    const a = await system();
    const b = await system(true);
    const ref = a.ref(Hold, 'many');
    // Set before any host serves: a timer committed after later ones fired could not come before them.
    const base = Date.now() + 20;
    await Promise.all(Array.from({ length: 40 }, (_, i) => ref.dispatch.fired(String(i), { at: base + (39 - i) * 3 })));
    a.serve(Hold);
    b.serve(Hold);
    b.serve(Hold);
    const st = await until(a, 'many', (st) => st.fired.length >= 40);
    expect(st.fired.map((f) => f.tag)).toEqual(Array.from({ length: 40 }, (_, i) => String(39 - i)));
    for (const f of st.fired) expect(f.processedAt).toBeGreaterThanOrEqual(f.now);
    await new Promise((r) => setTimeout(r, 50));
    expect(await a.ref(Hold, 'many').query((st) => st.fired.length)).toBe(40);
  });

  it('fires what came due while no process served the definition', async () => {
    const producer = await system();
    await producer.ref(Hold, 'offline').dispatch.fired('x', { delay: 10 });
    await producer.ref(Hold, 'offline').dispatch.fired('y', { delay: 20 });
    await new Promise((r) => setTimeout(r, 40));
    const host = await system(true);
    host.serve(Hold);
    expect((await until(host, 'offline', (st) => st.fired.length === 2)).fired.map((f) => f.tag)).toEqual(['x', 'y']);
  });

  it('wakes a sleeping host when another process sets an earlier timer', async () => {
    const host = await system();
    host.serve(Hold);
    const producer = await system(true);
    await producer.ref(Hold, 'w').dispatch.fired('late', { delay: 3_600_000 });
    await new Promise((r) => setTimeout(r, 20)); // the host is asleep until the late one
    await producer.ref(Hold, 'w').dispatch.fired('soon', { delay: 10 });
    expect((await until(host, 'w', (st) => st.fired.length === 1)).fired[0]!.tag).toBe('soon');
    expect((await host.admin.timers(Hold, 'w')).map((t) => t.payload)).toEqual(['late']);
  });

  it('removes an instance’s timers when it is destroyed', async () => {
    const s = await system();
    await s.ref(Hold, 'd').dispatch.fired('never', { delay: 30 });
    await s.ref(Hold, 'kept').dispatch.fired('kept', { delay: 30 });
    await s.admin.destroy(Hold, 'd');
    expect(await s.admin.timers(Hold, 'd')).toEqual([]);
    s.serve(Hold);
    await until(s, 'kept', (st) => st.fired.length === 1);
    await new Promise((r) => setTimeout(r, 40));
    expect(await s.admin.state(Hold, 'd')).toBeUndefined();
    expect(await s.admin.queue(Hold, 'd')).toEqual([]);
  });

  it('keeps an idempotent delayed dispatch to one timer', async () => {
    const s = await system();
    const ref = s.ref(Hold, 'idem');
    await ref.dispatch.fired('once', { delay: 60_000, idempotencyKey: 'k1' });
    await ref.dispatch.fired('once', { delay: 60_000, idempotencyKey: 'k1' });
    // Not awaited one by one: both go in one transaction, which keeps the first.
    await Promise.all([ref.dispatch.fired('twice', { delay: 60_000, idempotencyKey: 'k2' }), ref.dispatch.fired('twice', { delay: 60_000, idempotencyKey: 'k2' })]);
    // Sorted: timers due in the same millisecond have no defined order.
    expect((await s.admin.timers(Hold, 'idem')).map((t) => t.payload).sort()).toEqual(['once', 'twice']);
  });
});
