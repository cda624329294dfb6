import { describe, expect, it } from 'vitest';
import { enableMapSet, enablePatches, produceWithPatches, type Patch } from 'immer';
import { LIMITS } from '../../src/backend/contract.js';
import { Subspace } from '../../src/backend/subspace.js';
import { StateStore } from '../../src/state/store.js';
import { CorruptDataError, UnserializableValueError } from '../../src/state/errors.js';
import { FakeTx, difference } from './support.js';

enablePatches();
enableMapSet();

const space = new Subspace(Buffer.from([0x15, 0x07])).at('s');

async function reload(tx: FakeTx, store = new StateStore(space)): Promise<unknown> {
  const { exists, state } = await store.load(tx.tx);
  expect(exists).toBe(true);
  return state;
}

async function expectStored(tx: FakeTx, expected: unknown): Promise<unknown> {
  const back = await reload(tx);
  expect(difference(expected, back)).toBeUndefined();
  return back;
}

const sample = () => ({
  count: 0,
  name: 'sample',
  neg: -0,
  nan: NaN,
  big: 2n ** 70n,
  at: new Date(1_700_000_000_000),
  bad: new Date(NaN),
  bytes: new Uint8Array([1, 2, 3]),
  buf: Buffer.from('buf'),
  nothing: undefined,
  nil: null,
  'lone\uD800': 'field with a lone surrogate',
  nested: { deep: { deeper: [1, [2, [3]]] } },
  bare: Object.assign(Object.create(null), { x: 1 }),
  todos: [
    { id: 'a', text: 'first', done: false },
    { id: 'b', text: 'second', done: true },
  ],
  byNumber: [{ id: 1 }, { id: 2.5 }, { id: -0 }],
  plain: [1, 'two', { three: 3 }, undefined],
  mixed: [{ id: 'x' }, { noId: true }],
  dup: [{ id: 1 }, { id: 1 }],
  empty: [],
  tags: new Set(['b', 'a', 3]),
  scores: new Map<unknown, unknown>([['z', 1], [2, { n: 2 }], [2n, 'bigint key'], [{ obj: 'key' }, [1]], [undefined, null]]),
  setOfObjects: new Set([{ a: 1 }, [2]]),
});

describe('StateStore round trip', () => {
  it('writeAll then load gives back the same state, types and orders included', async () => {
    const tx = new FakeTx();
    const store = new StateStore(space);
    expect(await store.load(tx.tx)).toEqual({ exists: false, state: undefined, bytes: 0 });
    store.writeAll(tx.tx, sample());
    await expectStored(tx, sample());
  });

  it('stores any root: a leaf, an array, a Map', async () => {
    for (const root of [42, 'text', undefined, null, [1, 2], [{ id: 1 }], new Map([[1, 2]]), new Set()]) {
      const tx = new FakeTx();
      new StateStore(space).writeAll(tx.tx, root);
      await expectStored(tx, root);
    }
  });

  it('writeAll replaces what was there and clear removes everything', async () => {
    const tx = new FakeTx();
    const store = new StateStore(space);
    store.writeAll(tx.tx, sample());
    store.writeAll(tx.tx, { only: 1 });
    await expectStored(tx, { only: 1 });
    store.clear(tx.tx);
    expect(tx.data.size).toBe(0);
  });

  it('keeps keys of other subspaces untouched', async () => {
    const tx = new FakeTx();
    const sibling = space.at('x');
    tx.set(new Subspace(Buffer.from([0x15, 0x07])).pack(['r']), Buffer.from('other'));
    tx.set(Buffer.from([0x15, 0x07, 0x02, 0x73, 0x00 + 1]), Buffer.from('near')); // a key sorting just after the state range
    const store = new StateStore(space);
    store.writeAll(tx.tx, sample());
    store.clear(tx.tx);
    expect(tx.data.size).toBe(2);
    expect(sibling).toBeDefined();
  });

  it('chunks a leaf over the value limit and reads it back, and shrinks it back inline', async () => {
    const tx = new FakeTx();
    const store = new StateStore(space);
    const big = 'x'.repeat(250_000);
    const bytes = new Uint8Array(LIMITS.valueBytes * 2 + 5).map((_, i) => i % 251);
    store.writeAll(tx.tx, { big, bytes, small: 1 });
    for (const v of tx.data.values()) expect(v.length).toBeLessThanOrEqual(LIMITS.valueBytes);
    const s0 = (await expectStored(tx, { big, bytes, small: 1 })) as { big: string; bytes: Uint8Array; small: number };
    const [s1, patches] = produceWithPatches(s0, (d) => {
      d.big = 'short';
    });
    store.writeChanges(tx.tx, s0, s1, patches);
    await expectStored(tx, s1);
    const [s2, p2] = produceWithPatches(s1, (d) => {
      d.big = 'y'.repeat(150_000);
      d.bytes = new Uint8Array(3);
    });
    store.writeChanges(tx.tx, s1, s2, p2);
    await expectStored(tx, s2);
  });

  it('continues from a state loaded by another StateStore instance', async () => {
    const tx = new FakeTx();
    new StateStore(space).writeAll(tx.tx, sample());
    const loaded = (await reload(tx)) as ReturnType<typeof sample>;
    const [next, patches] = produceWithPatches(loaded, (d) => {
      d.todos.splice(1, 0, { id: 'c', text: 'inserted', done: false });
      d.scores.delete('z');
      d.tags.add('new');
    });
    tx.resetCounts();
    new StateStore(space).writeChanges(tx.tx, loaded, next, patches);
    expect(tx.sets).toBeLessThan(8);
    await expectStored(tx, next);
  });

  it('rewrites a collection whose positions it does not know, and is still right', async () => {
    const tx = new FakeTx();
    const store = new StateStore(space);
    const s0 = { todos: [{ id: 1 }, { id: 2 }], m: new Map([[1, 1]]) };
    store.writeAll(tx.tx, s0);
    const stranger = structuredClone(s0); // not written by the store: positions unknown
    const [next, patches] = produceWithPatches(stranger, (d) => {
      d.todos.push({ id: 3 });
      d.m.set(2, 2);
    });
    store.writeChanges(tx.tx, stranger, next, patches);
    await expectStored(tx, next);
  });
});

describe('StateStore rejects what it cannot store, before writing anything', () => {
  it('on writeAll and on writeChanges, with the path', async () => {
    const tx = new FakeTx();
    const store = new StateStore(space);
    expect(() => store.writeAll(tx.tx, { a: [{ fn: () => 1 }] })).toThrow(UnserializableValueError);
    expect(tx.sets + tx.clears).toBe(0);
    store.writeAll(tx.tx, { items: [{ id: 1, v: 1 }], m: new Map() });
    const s0 = (await reload(tx)) as { items: { id: number; v: unknown }[]; m: Map<string, unknown> };
    tx.resetCounts();
    class Money {
      constructor(readonly cents: number) {}
    }
    const cases: Array<[(d: typeof s0) => void, string, RegExp]> = [
      [(d) => void (d.items[0]!.v = new Money(5)), 'state.items[0].v', /instance of Money/],
      [(d) => void d.items.push({ id: 2, v: Symbol('s') }), 'state.items[1].v', /symbol/],
      [(d) => void d.m.set('k', { f() {} }), 'state.m.get("k").f', /function/],
      [(d) => void ((d as Record<string, unknown>)['x'.repeat(LIMITS.keyBytes)] = 1), `state.${'x'.repeat(LIMITS.keyBytes)}`, /key would be/],
    ];
    for (const [recipe, path, reason] of cases) {
      const [next, patches] = produceWithPatches(s0, recipe);
      let error: unknown;
      try {
        store.writeChanges(tx.tx, s0, next, patches);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(UnserializableValueError);
      expect((error as UnserializableValueError).path).toBe(path);
      expect((error as UnserializableValueError).reason).toMatch(reason);
      expect(tx.sets + tx.clears).toBe(0);
    }
    const cyclic: Record<string, unknown> = { id: 3 };
    cyclic.self = { back: cyclic };
    const next = { ...s0, items: [...s0.items, cyclic] };
    expect(() => store.writeChanges(tx.tx, s0, next)).toThrow(/state\.items\[1\]\.self\.back: cycle/);
    expect(tx.sets + tx.clears).toBe(0);
    await expectStored(tx, s0);
  });

  it('load reports keys that do not form a tree', async () => {
    const tx = new FakeTx();
    const store = new StateStore(space);
    store.writeAll(tx.tx, { a: [{ id: 'x' }] });
    tx.set(Buffer.concat([space.pack(['a', 'e']), Buffer.from([0x02, 0x79, 0x00])]), Buffer.from([0x30])); // element without order key
    await expect(store.load(tx.tx)).rejects.toThrow(CorruptDataError);
    store.writeAll(tx.tx, { a: 1 });
    tx.set(space.pack(['a', 0]), Buffer.from([0x01])); // a child under a leaf
    await expect(store.load(tx.tx)).rejects.toThrow(/leaf has children/);
  });
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

describe('writeChanges handles every kind of change', () => {
  type S = Record<string, unknown>;
  const steps: Array<[string, (d: S) => unknown]> = [
    ['replace the root', () => ({ fresh: [1, 2, 3] })],
    ['object to keyed array', (d) => void (d.nested = [{ id: 1 }])],
    ['keyed array to plain by a duplicate id', (d) => void (d.todos as unknown[]).push({ id: 'a' })],
    ['keyed array to plain by an element without id', (d) => void (d.byNumber as unknown[]).unshift(5)],
    ['plain array to keyed', (d) => void (d.mixed = [{ id: 'x' }])],
    ['dup to keyed', (d) => void (d.dup as unknown[]).pop()],
    ['empty to keyed', (d) => void (d.empty as unknown[]).push({ id: 'first' })],
    ['keyed to empty', (d) => void (d.todos as unknown[]).splice(0)],
    ['leaf to Map', (d) => void (d.count = new Map([['a', 1]]))],
    ['Map to Set', (d) => void (d.scores = new Set([1]))],
    ['Set to leaf', (d) => void (d.tags = 'tags')],
    ['object to null-prototype object', (d) => void (d.nested = Object.assign(Object.create(null), { deep: 1 }))],
    ['plain array shrinks and grows', (d) => void ((d.plain as unknown[]).length = 1)],
    ['delete fields', (d) => void delete d.nothing],
    ['Map value deep change', (d) => void ((d.scores as Map<unknown, { n: number }>).get(2)!.n = 3)],
    ['Map delete and re-add moves the key to the end', (d) => {
      const m = d.scores as Map<unknown, unknown>;
      const v = m.get('z');
      m.delete('z');
      m.set('z', v);
    }],
    ['Set delete and re-add', (d) => {
      const s = d.tags as Set<unknown>;
      s.delete('b');
      s.add('b');
    }],
    ['Map and Set reorders that immer reports no patch for, next to a patched change', (d) => {
      d.count = 99;
      const m = d.scores as Map<unknown, unknown>;
      const v = m.get('z');
      m.delete('z');
      m.set('z', v);
      const nested = (d.nested as { deep: Record<string, unknown> }).deep;
      nested.s = new Set([1, 2]);
    }],
    ['move a keyed element to the front', (d) => {
      const a = d.todos as unknown[];
      a.unshift(a.pop());
    }],
    ['reverse a keyed array', (d) => void (d.todos as unknown[]).reverse()],
    ['sort ids numerically', (d) => void (d.byNumber as { id: number }[]).sort((x, y) => y.id - x.id)],
  ];

  for (const [name, recipe] of steps) {
    it(name, async () => {
      const tx = new FakeTx();
      const store = new StateStore(space);
      store.writeAll(tx.tx, sample());
      const s0 = (await reload(tx)) as S;
      const [s1, patches] = produceWithPatches(s0, recipe as (d: S) => void);
      store.writeChanges(tx.tx, s0, s1, patches);
      await expectStored(tx, s1);
      // and again from the in-memory next state, as a consumer with a cache does
      const [s2, patches2] = produceWithPatches(s1, (d: S) => {
        d.after = (d.after as number | undefined ?? 0) + 1;
      });
      store.writeChanges(tx.tx, s1, s2, patches2);
      await expectStored(tx, s2);
    });
  }

  it('sees a Map reorder with no patch under a large object, guided by patches elsewhere', async () => {
    const tx = new FakeTx();
    const store = new StateStore(space);
    const big: Record<string, unknown> = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`f${i}`, i]));
    big.f500 = { inner: new Map([['a', 1], ['b', 2]]) };
    big.f600 = new Set(['x', 'y']);
    store.writeAll(tx.tx, { big, n: 0 });
    const s0 = (await reload(tx)) as { big: Record<string, Any>; n: number };
    const [s1, patches] = produceWithPatches(s0, (d) => {
      d.n = 1;
      const m = d.big.f500.inner as Map<string, number>;
      m.delete('a');
      m.set('a', 1);
      const set = d.big.f600 as Set<string>;
      set.delete('x');
      set.add('x');
    });
    expect(patches).toEqual([{ op: 'replace', path: ['n'], value: 1 }]);
    tx.resetCounts();
    store.writeChanges(tx.tx, s0, s1, patches);
    await expectStored(tx, s1);
    expect(tx.sets).toBe(1 + 2 + 1); // n, the moved Map entry (key and value), the moved Set item
  });

  it('works without patches (full structural diff)', async () => {
    const tx = new FakeTx();
    const store = new StateStore(space);
    const s0 = sample();
    store.writeAll(tx.tx, s0);
    const [s1] = produceWithPatches(s0, (d) => {
      d.todos[1]!.done = false;
      d.scores.set('new', 1);
      d.count = 5;
    });
    tx.resetCounts();
    store.writeChanges(tx.tx, s0, s1);
    expect(tx.sets).toBe(4);
    await expectStored(tx, s1);
  });

  it('patches concatenated over several produce calls', async () => {
    const tx = new FakeTx();
    const store = new StateStore(space);
    const s0 = sample();
    store.writeAll(tx.tx, s0);
    const all: Patch[] = [];
    let s: ReturnType<typeof sample> = s0;
    const step = (recipe: (d: ReturnType<typeof sample>) => void) => {
      const [next, patches] = produceWithPatches(s, recipe);
      all.push(...patches);
      s = next;
    };
    step((d) => void (d.nested.deep.deeper[0] = 5));
    step((d) => void (d.nested = { deep: { deeper: [] } }));
    step((d) => void d.nested.deep.deeper.push(9));
    step((d) => void d.todos.splice(0, 1));
    step((d) => void d.todos.unshift({ id: 'q', text: 'q', done: false }));
    step((d) => void (d.count += 1));
    store.writeChanges(tx.tx, s0, s, all);
    await expectStored(tx, s);
  });
});
