/**
 * Write cost pins: what a change writes grows with the change, not with the state. The figures
 * are the exact mutation counts of the layout (docs/state-encoding.md); printed with STATE_COSTS=1.
 */
import { describe, expect, it } from 'vitest';
import { enableMapSet, enablePatches, produceWithPatches, type Draft } from 'immer';
import { Subspace } from '../../src/backend/subspace.js';
import { StateStore, type WriteStats } from '../../src/state/store.js';
import { FakeTx, difference } from './support.js';

enablePatches();
enableMapSet();

const space = new Subspace(Buffer.from('dgen-cost')).at('a', 'todo', 'tenant-42', 's');
const report = (label: string, s: WriteStats & { ms?: number }) => {
  if (process.env.STATE_COSTS) console.log(label.padEnd(48), JSON.stringify(s));
};

const GROW_STEP = 5_000;

/**
 * A stored state to measure changes on: written (in steps of 5,000 entries of `s0[grow]` when
 * given, as a state over the 10 MB transaction limit must be: FoundationDB counts each written key
 * again as a write conflict range), then loaded back, so positions come
 * from a load. Each `step` applies a recipe to the current state and returns what it wrote.
 */
class Session<S> {
  readonly tx = new FakeTx();
  readonly store = new StateStore(space);
  state!: S;

  static async start<S>(s0: S, grow?: keyof S & string): Promise<Session<S>> {
    const session = new Session<S>();
    const { tx, store } = session;
    if (grow === undefined) store.writeAll(tx.tx, s0);
    else {
      const entries = Object.entries(s0[grow] as object);
      let s = { ...s0, [grow]: {} } as S;
      store.writeAll(tx.tx, s);
      for (let i = 0; i < entries.length; i += GROW_STEP) {
        const [next, patches] = produceWithPatches(s, (d) => {
          const target = (d as Record<string, Record<string, unknown>>)[grow]!;
          for (const [k, v] of entries.slice(i, i + GROW_STEP)) target[k] = v;
        });
        store.writeChanges(tx.tx, s, next, patches);
        s = next;
      }
    }
    session.state = (await store.load(tx.tx)).state as S;
    return session;
  }

  step(recipe: (d: Draft<S>) => void): WriteStats & { ms: number } {
    const [next, patches] = produceWithPatches(this.state, recipe);
    this.tx.resetCounts();
    const started = performance.now();
    const stats = this.store.writeChanges(this.tx.tx, this.state, next, patches);
    const ms = Math.round((performance.now() - started) * 100) / 100;
    expect({ sets: this.tx.sets, clears: this.tx.clears }).toEqual({ sets: stats.sets, clears: stats.clears });
    this.state = next;
    return { ...stats, ms };
  }

  /** The stored state loads back equal to the one in memory. */
  async check(): Promise<void> {
    expect(difference(this.state, (await this.store.load(this.tx.tx)).state)).toBeUndefined();
  }
}

describe('a one-field change costs the same at any size', () => {
  const fields = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`f${i}`, i]));
  const entities = (n: number) =>
    Object.fromEntries(Array.from({ length: n }, (_, i) => [`e${i}`, { id: `e${i}`, title: `entity ${i}`, done: false }]));

  it('object of 10, 1,000 and 100,000 fields', async () => {
    const results = [];
    for (const n of [10, 1_000, 100_000]) {
      const session = await Session.start({ big: fields(n), other: 1 }, 'big');
      session.step((d) => void (d.big.f5 = -2)); // warm up
      const s = session.step((d) => void (d.big.f5 = -1));
      report(`field of an object of ${n}`, s);
      results.push(s);
      await session.check();
    }
    for (const s of results) expect({ sets: s.sets, clears: s.clears, bytes: s.bytes }).toEqual({ sets: 1, clears: 0, bytes: results[0]!.bytes });
  });

  it('field of an entity in a dictionary of 10, 1,000 and 20,000 entities; add and delete one', async () => {
    for (const n of [10, 1_000, 20_000]) {
      const session = await Session.start({ entities: entities(n) }, 'entities');
      const change = session.step((d) => void (d.entities.e5!.done = true));
      const add = session.step((d) => void (d.entities.new = { id: 'new', title: 'new', done: false }));
      const del = session.step((d) => void delete d.entities.e5);
      await session.check();
      report(`entity field, dictionary of ${n}`, change);
      report(`add entity, dictionary of ${n}`, add);
      report(`delete entity, dictionary of ${n}`, del);
      expect([change.sets, change.clears]).toEqual([1, 0]);
      expect([add.sets, add.clears]).toEqual([4, 0]); // marker + 3 fields
      expect([del.sets, del.clears]).toEqual([0, 1]); // one range
    }
  });
});

describe('keyed list of 10,000', () => {
  type Todo = { id: string; title: string; done: boolean };
  const todos = (): { todos: Todo[] } => ({
    todos: Array.from({ length: 10_000 }, (_, i) => ({ id: `t${i}`, title: `todo ${i}`, done: false })),
  });

  it('insert, remove, move and change in the middle write O(1) keys', async () => {
    const session = await Session.start(todos());
    const insert = session.step((d) => void d.todos.splice(5_000, 0, { id: 'new', title: 'new', done: false }));
    const remove = session.step((d) => void d.todos.splice(4_000, 1));
    const move = session.step((d) => void d.todos.splice(2_000, 0, ...d.todos.splice(7_000, 1)));
    const change = session.step((d) => void (d.todos[5_000]!.done = true));
    const push = session.step((d) => void d.todos.push({ id: 'last', title: 'last', done: false }));
    const unshift = session.step((d) => void d.todos.unshift({ id: 'first', title: 'first', done: false }));
    const swap = session.step((d) => {
      const a = d.todos[100]!;
      d.todos[100] = d.todos[9_000]!;
      d.todos[9_000] = a;
    });
    await session.check();
    for (const [label, s] of Object.entries({ insert, remove, move, change, push, unshift, swap })) report(`keyed list of 10,000: ${label}`, s);
    expect([insert.sets, insert.clears]).toEqual([5, 0]); // order key + marker + 3 fields
    expect([remove.sets, remove.clears]).toEqual([0, 2]); // order key + element range
    expect([move.sets, move.clears]).toEqual([1, 1]); // the order key only
    expect([change.sets, change.clears]).toEqual([1, 0]);
    expect([push.sets, push.clears]).toEqual([5, 0]);
    expect([unshift.sets, unshift.clears]).toEqual([5, 0]);
    expect([swap.sets, swap.clears]).toEqual([2, 2]);
    expect(insert.bytes).toBeLessThan(300);
  });

  it('keeps positions short under repeated inserts at one place', async () => {
    const tx = new FakeTx();
    const store = new StateStore(space);
    let s = { list: [{ id: 0 }, { id: 1 }] };
    store.writeAll(tx.tx, s);
    for (let i = 2; i < 302; i++) {
      const [next, patches] = produceWithPatches(s, (d) => void d.list.splice(1, 0, { id: i })); // always right after the first
      store.writeChanges(tx.tx, s, next, patches);
      s = next;
    }
    const orderKeys = [...tx.data.keys()].filter((k) => k.includes('\x02o\x00'));
    const longest = Math.max(...orderKeys.map((k) => k.length)) - space.prefix.length;
    if (process.env.STATE_COSTS) console.log('longest order key suffix after 300 inserts at one place:', longest, 'bytes');
    expect(longest).toBeLessThan(40);
    expect(difference(s, (await store.load(tx.tx)).state)).toBeUndefined();
  });
});

describe('Map and Set of 10,000', () => {
  const map = () => ({ m: new Map(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, { n: i }])) });
  const set = () => ({ s: new Set(Array.from({ length: 10_000 }, (_, i) => `v${i}`)) });

  it('set, add, delete one entry write O(1) keys', async () => {
    const m = await Session.start(map());
    const replace = m.step((d) => void d.m.set('k5000', { n: -1 }));
    const deep = m.step((d) => void (d.m.get('k5000')!.n = -2));
    const add = m.step((d) => void d.m.set('new', { n: 0 }));
    const del = m.step((d) => void d.m.delete('k5000'));
    await m.check();
    const s = await Session.start(set());
    const setAdd = s.step((d) => void d.s.add('new'));
    const setDelete = s.step((d) => void d.s.delete('v5000'));
    await s.check();
    for (const [label, s] of Object.entries({ replace, deep, add, del, setAdd, setDelete })) report(`Map/Set of 10,000: ${label}`, s);
    expect([replace.sets, replace.clears]).toEqual([1, 0]); // a new object of the same shape: only its changed field
    expect([deep.sets, deep.clears]).toEqual([1, 0]);
    expect([add.sets, add.clears]).toEqual([3, 0]); // key + value marker + field
    expect([del.sets, del.clears]).toEqual([0, 1]);
    expect([setAdd.sets, setAdd.clears]).toEqual([1, 0]);
    expect([setDelete.sets, setDelete.clears]).toEqual([0, 1]);
  });
});

describe('big leaves', () => {
  it('a 250 kB string is one header and three chunks; changing a small field next to it writes one key', async () => {
    const big = 'z'.repeat(250_000);
    const tx = new FakeTx();
    const store = new StateStore(space);
    const s0 = { big, n: 0 };
    const all = store.writeAll(tx.tx, s0);
    expect(all.sets).toBe(1 + 1 + 3 + 1); // root marker, header, chunks, n
    const [s1, patches] = produceWithPatches(s0, (d) => void (d.n = 1));
    tx.resetCounts();
    expect(store.writeChanges(tx.tx, s0, s1, patches)).toMatchObject({ sets: 1, clears: 0 });
    expect(difference(s1, (await store.load(tx.tx)).state)).toBeUndefined();
  });
});
