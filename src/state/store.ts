/**
 * The state of one actor as a tree of keys under a subspace: load it, write it whole, or write
 * only what changed between two states. The layout is in layout.ts, the diff in diff.ts.
 * @internal
 */
import type { Patch } from 'immer';
import type { Transaction } from '../backend/contract.js';
import type { Subspace } from '../backend/subspace.js';
import { describeFailure } from './classify.js';
import { buildTrie, diffNode } from './diff.js';
import { Plan, writeNode, type WriteStats } from './layout.js';
import { decodeTree } from './load.js';

export type { WriteStats };

const FF = Buffer.from([0xff]);

/**
 * Reads and writes a state tree under one subspace: the root node at the subspace's own key, its
 * descendants under it.
 *
 * Ordered collections (keyed arrays, Maps, Sets) carry positions that the store remembers by
 * object, module-wide: {@link writeChanges} needs `prev` to be a state this module loaded or
 * wrote (any instance, same keys). Otherwise the collections in it that changed are rewritten
 * whole, which is correct but costs their size. States are treated as immutable, as immer makes
 * them.
 *
 * @example
 * ```ts
 * const store = new StateStore(layout.actor('counter', 'a').state);
 * await backend.transact((tx) => store.writeAll(tx, { count: 0 }));
 * const [next, patches] = produceWithPatches(prev, (d) => { d.count++; });
 * await backend.transact((tx) => store.writeChanges(tx, prev, next, patches)); // one key written
 * ```
 * @internal
 */
export class StateStore {
  private readonly root: Buffer;
  private readonly end: Buffer;

  constructor(readonly subspace: Subspace) {
    this.root = subspace.prefix;
    this.end = Buffer.concat([subspace.prefix, FF]);
  }

  /** Reads the whole state. `exists` is false when nothing is stored (then `state` is undefined); `bytes`: keys and values read. */
  async load(tx: Transaction, opts?: { snapshot?: boolean }): Promise<{ exists: boolean; state: unknown; bytes: number }> {
    const entries = await tx.getRange(this.root, this.end, { snapshot: opts?.snapshot ?? false });
    let bytes = 0;
    for (const e of entries) bytes += e.key.length + e.value.length;
    return { ...decodeTree(this.root, entries), bytes };
  }

  /**
   * Replaces whatever is stored with `state`. Throws {@link UnserializableValueError} (transaction
   * untouched) when `state` cannot be stored.
   */
  writeAll(tx: Transaction, state: unknown): WriteStats {
    const plan = new Plan();
    plan.clearRange(this.root, this.end);
    try {
      writeNode(plan, this.root, state, 0, []);
    } catch (e) {
      throw describeFailure(e, state, 'state');
    }
    return plan.apply(tx);
  }

  /**
   * Writes what changed from the stored `prev` to `next`. `patches` are immer's patches from `prev`
   * to `next` (several produce calls concatenated in order are fine); they narrow the comparison to
   * the changed paths. Without them every changed object is compared field by field. Writes grow
   * with the change, not with the state. Throws {@link UnserializableValueError} (transaction
   * untouched) when `next` cannot be stored.
   */
  writeChanges(tx: Transaction, prev: unknown, next: unknown, patches?: readonly Patch[]): WriteStats {
    const plan = new Plan();
    try {
      diffNode(plan, this.root, prev, next, patches === undefined ? undefined : buildTrie(patches), 0, []);
    } catch (e) {
      throw describeFailure(e, next, 'state');
    }
    return plan.apply(tx);
  }

  /** Removes the state. */
  clear(tx: Transaction): void {
    tx.clearRange(this.root, this.end);
  }
}
