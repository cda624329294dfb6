/**
 * Incremental writes: the key writes that turn the stored `prev` into `next`.
 *
 * Immer's patches say where the change is: the walk follows only their paths through objects (so
 * a change in an object of 100,000 fields looks at one field), and compares with `===` below that,
 * so unchanged subtrees, shared by immer between `prev` and `next`, cost nothing. Arrays, Maps and
 * Sets are compared whole (their patches are index-based and shift), element by element by
 * reference: CPU grows with the collection, writes only with the change. Keyed arrays, Maps and
 * Sets are diffed by id/key: the longest run of elements that kept their order keeps its
 * positions, everything else moves, so one insert, remove or move writes O(1) keys.
 *
 * Whenever a node changes kind (object to array, keyed to plain, leaf to Map…) or the positions of
 * a stored collection are unknown, that subtree is rewritten.
 * @internal
 */
import type { Patch } from 'immer';
import { Kind, classify, enterContainer } from './classify.js';
import { fracsBetween, type Frac } from './fractional.js';
import {
  PACK_0,
  PACK_1,
  type Plan,
  elementKey,
  entryKey,
  fieldKey,
  indexKey,
  isKeyedArray,
  isKeyedElement,
  mayBeChunked,
  orderKey,
  packId,
  positionsOf,
  writeLeaf,
  writeNode,
} from './layout.js';
import { withSegment } from './path.js';
import { holdsOrdered, knownArrayHolds, orderedFields, setArrayHolds, setOrderedFields } from './hidden.js';

/** Where the patches changed something: `full` below a node means "anything may have changed". */
export interface Trie {
  full: boolean;
  kids: Map<unknown, Trie> | undefined;
}

/**
 * The paths of `patches` as a trie; a patch at a path covers everything below it. A numeric
 * segment is an array index (or a Set position, or a numeric Map key): arrays, Sets and Maps are
 * compared whole anyway, so the trie stops there rather than growing a node for each of the
 * thousands of index patches a splice in a long array produces.
 */
export function buildTrie(patches: readonly Patch[]): Trie {
  const root: Trie = { full: false, kids: undefined };
  outer: for (const p of patches) {
    let node = root;
    for (const segment of p.path) {
      if (node.full) continue outer;
      if (typeof segment === 'number') break;
      node.kids ??= new Map();
      let next = node.kids.get(segment);
      if (next === undefined) node.kids.set(segment, (next = { full: false, kids: undefined }));
      node = next;
    }
    node.full = true;
    node.kids = undefined;
  }
  return root;
}

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/** Removes the stored node `p` (of `kind`) at `key`. */
function remove(plan: Plan, key: Buffer, p: unknown): void {
  const kind = classify(p);
  if (kind < Kind.Object && !mayBeChunked(p, kind)) plan.clear(key);
  else plan.clearTree(key);
}

/** Rewrites the subtree at `key`, whose stored value is `p`, with `n`. */
function rewrite(plan: Plan, key: Buffer, n: unknown, depth: number, stack: unknown[]): boolean {
  plan.clearChildren(key);
  return writeNode(plan, key, n, depth, stack);
}

/**
 * Adds to `plan` the writes that turn the stored value `p` at `key` into `n`. `trie` is the part of
 * the patch trie at this node, `undefined` when unknown (compare everything). Returns whether `n`
 * holds a Map or a Set (see hidden.ts).
 */
export function diffNode(plan: Plan, key: Buffer, p: unknown, n: unknown, trie: Trie | undefined, depth: number, stack: unknown[]): boolean {
  if (Object.is(p, n)) return holdsOrdered(n);
  const kn = classify(n);
  const kp = classify(p);
  if (kn < Kind.Object) {
    if (kp >= Kind.Object || mayBeChunked(p, kp)) plan.clearChildren(key);
    writeLeaf(plan, key, n, kn);
    return false;
  }
  if (kp < Kind.Object) {
    if (mayBeChunked(p, kp)) plan.clearChildren(key);
    return writeNode(plan, key, n, depth, stack);
  }
  if (kp !== kn) return rewrite(plan, key, n, depth, stack);
  enterContainer(n, depth, stack);
  switch (kn) {
    case Kind.Object:
    case Kind.NullObject:
      return diffObject(plan, key, p as Record<string, unknown>, n as Record<string, unknown>, trie, depth, stack);
    case Kind.Array: {
      const pa = p as unknown[];
      const na = n as unknown[];
      const fracs = positionsOf(pa, key);
      if (fracs !== undefined) {
        if (!diffKeyed(plan, key, pa, na, fracs, depth, stack)) return rewrite(plan, key, n, depth, stack);
      } else if (isKeyedArray(pa) || isKeyedArray(na)) return rewrite(plan, key, n, depth, stack);
      else diffPlainArray(plan, key, pa, na, depth, stack);
      return holdsOrdered(na);
    }
    case Kind.Map:
    case Kind.Set: {
      const fracs = positionsOf(p as object, key);
      if (fracs === undefined) return rewrite(plan, key, n, depth, stack);
      if (kn === Kind.Map) diffMap(plan, key, p as Map<unknown, unknown>, n as Map<unknown, unknown>, fracs, trie, depth, stack);
      else diffSet(plan, key, p as Set<unknown>, n as Set<unknown>, fracs, depth, stack);
      return true;
    }
  }
  return false;
}

/**
 * Fields of an object to compare: with patches, the fields they name plus the fields holding a
 * Map or a Set (where a change can hide from patches); without, every field.
 */
function diffObject(
  plan: Plan,
  key: Buffer,
  p: Record<string, unknown>,
  n: Record<string, unknown>,
  trie: Trie | undefined,
  depth: number,
  stack: unknown[],
): boolean {
  const d = depth + 1;
  let name = '';
  let ordered: Set<string> | undefined;
  const field = (k: string, sub: Trie | undefined) => {
    name = k;
    const inN = hasOwn(n, k);
    const inP = hasOwn(p, k);
    let holds = false;
    if (!inN) {
      if (inP) remove(plan, fieldKey(key, k), p[k]);
    } else if (!inP) holds = writeNode(plan, fieldKey(key, k), n[k], d, stack);
    else holds = diffNode(plan, fieldKey(key, k), p[k], n[k], sub, d, stack);
    if (holds) (ordered ??= new Set()).add(k);
    else ordered?.delete(k);
  };
  try {
    const kids = trie !== undefined && !trie.full ? trie.kids : undefined;
    if (kids !== undefined && [...kids.keys()].every((k) => typeof k === 'string')) {
      const before = orderedFields(p);
      if (before.size > 0) ordered = new Set(before);
      for (const [k, sub] of kids) field(k as string, sub);
      for (const k of before) if (!kids.has(k)) field(k, undefined);
    } else {
      for (const k of Object.keys(n)) field(k, undefined);
      for (const k of Object.keys(p)) if (!hasOwn(n, k)) field(k, undefined);
    }
  } catch (e) {
    withSegment(e, { kind: 'field', name });
  }
  setOrderedFields(n, ordered);
  return ordered !== undefined && ordered.size > 0;
}

function diffPlainArray(plan: Plan, key: Buffer, p: unknown[], n: unknown[], depth: number, stack: unknown[]): void {
  const d = depth + 1;
  let holds = false;
  let i = 0;
  try {
    const shared = Math.min(p.length, n.length);
    for (; i < shared; i++) if (!Object.is(p[i], n[i]) && diffNode(plan, indexKey(key, i), p[i], n[i], undefined, d, stack)) holds = true;
    for (; i < n.length; i++) if (writeNode(plan, indexKey(key, i), n[i], d, stack)) holds = true;
  } catch (e) {
    withSegment(e, { kind: 'index', index: i });
  }
  if (n.length < p.length) plan.clearRange(indexKey(key, n.length), Buffer.concat([key, Buffer.from([0xff])]));
  // elements left as they were hold nothing when p held nothing
  if (knownArrayHolds(p) === false) setArrayHolds(n, holds);
}

const sameId = (a: unknown, b: unknown): boolean => a === b || (a !== a && b !== b);

/**
 * How an ordered collection moved from `prev` to `next` (ids unique in `prev`): a common prefix
 * and suffix that stayed in place, and for the middle the elements kept in place (the longest run
 * in the same relative order), moved, added and removed. `undefined` when `next` repeats an id.
 */
interface Order {
  prefix: number;
  suffix: number;
  /** For each middle element of next (from `prefix`): its index in prev, or -1 when new. */
  from: Int32Array;
  /** For each middle element of next: does it keep its position? */
  kept: Uint8Array;
  /** Indices in prev of the elements no longer there. */
  removed: number[];
  /** Positions of next, element by element. */
  fracs: Frac[];
}

function planOrder(prevIds: readonly unknown[], nextIds: readonly unknown[], prevFracs: readonly Frac[]): Order | undefined {
  const pl = prevIds.length;
  const nl = nextIds.length;
  let prefix = 0;
  while (prefix < pl && prefix < nl && sameId(prevIds[prefix], nextIds[prefix])) prefix++;
  let suffix = 0;
  while (suffix < pl - prefix && suffix < nl - prefix && sameId(prevIds[pl - 1 - suffix], nextIds[nl - 1 - suffix])) suffix++;
  const pEnd = pl - suffix;
  const nEnd = nl - suffix;
  const where = new Map<unknown, number>();
  for (let i = prefix; i < pEnd; i++) where.set(prevIds[i], i);
  const used = new Uint8Array(pl);
  const from = new Int32Array(nEnd - prefix);
  let added: Set<unknown> | undefined;
  for (let i = prefix; i < nEnd; i++) {
    const id = nextIds[i];
    const at = where.get(id);
    if (at !== undefined) {
      if (used[at]) return undefined;
      used[at] = 1;
      from[i - prefix] = at;
    } else {
      if (added?.has(id)) return undefined;
      (added ??= new Set()).add(id);
      from[i - prefix] = -1;
    }
  }
  if (added !== undefined) {
    for (let i = 0; i < prefix; i++) if (added.has(nextIds[i])) return undefined;
    for (let i = nEnd; i < nl; i++) if (added.has(nextIds[i])) return undefined;
  }
  const removed: number[] = [];
  for (let i = prefix; i < pEnd; i++) if (!used[i]) removed.push(i);
  const kept = longestIncreasing(from);
  const fracs = new Array<Frac>(nl);
  for (let i = 0; i < prefix; i++) fracs[i] = prevFracs[i]!;
  for (let i = 0; i < suffix; i++) fracs[nl - 1 - i] = prevFracs[pl - 1 - i]!;
  for (let m = 0; m < from.length; m++) if (kept[m]) fracs[prefix + m] = prevFracs[from[m]!]!;
  // new positions for each run of elements that did not keep theirs, between its neighbours
  for (let i = prefix; i < nEnd; ) {
    if (fracs[i] !== undefined) {
      i++;
      continue;
    }
    let j = i;
    while (j < nEnd && fracs[j] === undefined) j++;
    const fresh = fracsBetween(i > 0 ? fracs[i - 1] : undefined, j < nl ? fracs[j] : undefined, j - i);
    for (let k = i; k < j; k++) fracs[k] = fresh[k - i]!;
    i = j;
  }
  return { prefix, suffix, from, kept, removed, fracs };
}

/** Marks the longest strictly increasing subsequence of the non-negative entries of `seq`. */
function longestIncreasing(seq: Int32Array): Uint8Array {
  const n = seq.length;
  const kept = new Uint8Array(n);
  const tails: number[] = []; // index in seq of the smallest tail of each length
  const before = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    const v = seq[i]!;
    if (v < 0) continue;
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (seq[tails[mid]!]! < v) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) before[i] = tails[lo - 1]!;
    tails[lo] = i;
  }
  for (let i = tails.length > 0 ? tails[tails.length - 1]! : -1; i >= 0; i = before[i]!) kept[i] = 1;
  return kept;
}

/** A keyed array to a keyed array; false (nothing planned) when `n` is not keyed. */
function diffKeyed(plan: Plan, key: Buffer, p: unknown[], n: unknown[], prevFracs: Frac[], depth: number, stack: unknown[]): boolean {
  if (n.length === 0) return false;
  const nIds = new Array<string | number>(n.length);
  for (let i = 0; i < n.length; i++) {
    const e = n[i];
    if (!isKeyedElement(e)) return false;
    nIds[i] = e.id;
  }
  const pIds = idsOf.get(p) ?? (p as { id: string | number }[]).map((e) => e.id);
  const order = planOrder(pIds, nIds, prevFracs);
  if (order === undefined) return false;
  const { prefix, suffix, from, kept, removed, fracs } = order;
  const d = depth + 1;
  let holds = false;
  // clears first: a new position may be one just freed
  for (const i of removed) {
    plan.clear(orderKey(key, prevFracs[i]!));
    plan.clearTree(elementKey(key, packId(pIds[i] as string | number)));
  }
  for (let m = 0; m < from.length; m++) if (from[m]! >= 0 && !kept[m]) plan.clear(orderKey(key, prevFracs[from[m]!]!));
  let i = 0;
  try {
    const same = (i: number, j: number) => {
      if (!Object.is(p[j], n[i]) && diffNode(plan, elementKey(key, packId(nIds[i]!)), p[j], n[i], undefined, d, stack)) holds = true;
    };
    for (i = 0; i < prefix; i++) same(i, i);
    for (i = prefix; i < n.length - suffix; i++) {
      const m = i - prefix;
      const at = from[m]!;
      if (kept[m]) {
        same(i, at);
        continue;
      }
      const id = packId(nIds[i]!);
      plan.set(orderKey(key, fracs[i]!), id);
      if (at >= 0) same(i, at);
      else if (writeNode(plan, elementKey(key, id), n[i], d, stack)) holds = true;
    }
    const shift = p.length - n.length;
    for (i = n.length - suffix; i < n.length; i++) same(i, i + shift);
  } catch (e) {
    withSegment(e, { kind: 'index', index: i });
  }
  plan.remember(n, key, fracs);
  idsOf.set(n, nIds);
  if (knownArrayHolds(p) === false) setArrayHolds(n, holds);
  return true;
}

/** The ids of keyed arrays already diffed, so the next diff does not collect them again. */
const idsOf = new WeakMap<object, readonly (string | number)[]>();

function diffMap(
  plan: Plan,
  key: Buffer,
  p: Map<unknown, unknown>,
  n: Map<unknown, unknown>,
  prevFracs: Frac[],
  trie: Trie | undefined,
  depth: number,
  stack: unknown[],
): void {
  const pKeys = [...p.keys()];
  const nKeys = [...n.keys()];
  const order = planOrder(pKeys, nKeys, prevFracs)!;
  const { prefix, suffix, from, kept, removed, fracs } = order;
  const kids = trie !== undefined && !trie.full ? trie.kids : undefined;
  const d = depth + 1;
  for (const i of removed) plan.clearTree(entryKey(key, prevFracs[i]!));
  for (let m = 0; m < from.length; m++) if (from[m]! >= 0 && !kept[m]) plan.clearTree(entryKey(key, prevFracs[from[m]!]!));
  let position = 0;
  let onKey = false;
  try {
    const same = (i: number) => {
      const k = nKeys[i];
      const pv = p.get(k);
      const nv = n.get(k);
      if (!Object.is(pv, nv)) diffNode(plan, Buffer.concat([entryKey(key, fracs[i]!), PACK_1]), pv, nv, kids?.get(k), d, stack);
    };
    for (position = 0; position < nKeys.length; position++) {
      const m = position - prefix;
      if (position < prefix || position >= nKeys.length - suffix || kept[m]) {
        same(position);
        continue;
      }
      const entry = entryKey(key, fracs[position]!);
      onKey = true;
      writeNode(plan, Buffer.concat([entry, PACK_0]), nKeys[position], d, stack);
      onKey = false;
      writeNode(plan, Buffer.concat([entry, PACK_1]), n.get(nKeys[position]), d, stack);
    }
  } catch (e) {
    withSegment(e, onKey ? { kind: 'mapKey', position } : { kind: 'mapValue', key: nKeys[position], position });
  }
  plan.remember(n, key, fracs);
}

function diffSet(plan: Plan, key: Buffer, p: Set<unknown>, n: Set<unknown>, prevFracs: Frac[], depth: number, stack: unknown[]): void {
  const pItems = [...p];
  const nItems = [...n];
  const { prefix, suffix, from, kept, removed, fracs } = planOrder(pItems, nItems, prevFracs)!;
  for (const i of removed) plan.clearTree(entryKey(key, prevFracs[i]!));
  for (let m = 0; m < from.length; m++) if (from[m]! >= 0 && !kept[m]) plan.clearTree(entryKey(key, prevFracs[from[m]!]!));
  let position = prefix;
  try {
    for (; position < nItems.length - suffix; position++) {
      if (!kept[position - prefix]) writeNode(plan, entryKey(key, fracs[position]!), nItems[position], depth + 1, stack);
    }
  } catch (e) {
    withSegment(e, { kind: 'setItem', position });
  }
  plan.remember(n, key, fracs);
}
