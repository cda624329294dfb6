/** The state store on the memory engine: real transactions, retried bodies, engine counters. */
import { describe, expect, it } from 'vitest';
import { enableMapSet, enablePatches, produceWithPatches } from 'immer';
import { memory } from '../../src/backend/memory.js';
import { Layout } from '../../src/store/keys.js';
import { StateStore } from '../../src/state/store.js';
import { difference } from './support.js';

enablePatches();
enableMapSet();

type Todo = { id: string; title: string; done: boolean };
type S = { todos: Todo[]; tags: Set<string>; counts: Map<string, number>; n: number };

describe('StateStore on memory()', () => {
  it('writes, changes and loads through transactions, retried bodies included', async () => {
    const db = memory({ seed: 11, faults: { conflict: 0.3 } });
    const store = new StateStore(new Layout().actor('todo', 'tenant-1').state);
    let state: S = { todos: [], tags: new Set(), counts: new Map(), n: 0 };
    await db.transact((tx) => void store.writeAll(tx, state), { idempotent: true });
    for (let i = 0; i < 60; i++) {
      const [next, patches] = produceWithPatches(state, (d) => {
        d.n++;
        if (i % 3 === 0) d.todos.splice(Math.floor(d.todos.length / 2), 0, { id: `t${i}`, title: `todo ${i}`, done: false });
        if (i % 5 === 0 && d.todos.length > 2) d.todos.splice(1, 1);
        if (i % 4 === 0 && d.todos.length > 0) d.todos[0]!.done = !d.todos[0]!.done;
        if (i % 7 === 0) d.tags.add(`tag${i % 3}`);
        d.counts.set(`k${i % 4}`, i);
      });
      const prev = state;
      // the body may run several times (conflicts are injected): it must write the same each time
      await db.transact((tx) => void store.writeChanges(tx, prev, next, patches), { idempotent: true });
      state = next;
    }
    expect(db.faults.injected.conflict ?? 0).toBeGreaterThan(0);
    const loaded = await db.transact((tx) => store.load(tx, { snapshot: true }));
    expect(loaded.exists).toBe(true);
    expect(difference(state, loaded.state)).toBeUndefined();

    // the engine's own counters agree: one field, one key
    db.faults.clear();
    const before = db.stats();
    const [next] = produceWithPatches(state, (d) => void (d.n = -1));
    await db.transact((tx) => void store.writeChanges(tx, state, next, [{ op: 'replace', path: ['n'], value: -1 }]));
    const after = db.stats();
    expect(after.keysWritten - before.keysWritten).toBe(1);
    await db.close();
  });
});
