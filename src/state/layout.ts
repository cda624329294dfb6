/**
 * How a state tree sits in keys. Every node of the tree has a key, its path packed as a tuple
 * under the state subspace, and the node's value says what it is (its first byte is the tag):
 *
 * ```
 * key                          value                       node
 * P                            codec bytes (tag < 0x30)    leaf, inline
 * P                            0x36 n total                leaf over the value limit…
 *   P,i                        bytes                         …its chunks, i = 0..n-1
 * P                            0x30 / 0x31                 object / null-prototype object
 *   P,name                     node                          one key per field (Buffer = UTF-16LE name
 *                                                            when the name has lone surrogates)
 * P                            0x32                        array, by index
 *   P,i                        node                          element i
 * P                            0x33                        keyed array (every element an object with
 *                                                            a unique string or number id)
 *   P,'o',frac                 packed id                     order: one key per element, frac ascending
 *   P,'e',id                   node                          the element, addressed by its id
 * P                            0x34                        Map, in insertion order
 *   P,frac,0                   node                          key of the entry at position frac
 *   P,frac,1                   node                          value of that entry
 * P                            0x35                        Set, in insertion order
 *   P,frac                     node                          item at position frac
 * ```
 * `frac` is a nested tuple of integers (see fractional.ts). A node's key is a prefix of all its
 * descendants' keys and of nothing else, so a subtree is cleared with one range.
 * @internal
 */
import * as tuple from 'fdb-tuple';
import { LIMITS, type Transaction } from '../backend/contract.js';
import { TransactionTooLargeError } from '../backend/errors.js';
import { Kind, classify, enterContainer } from './classify.js';
import { encodeLeaf } from './codec.js';
import { initialFracs, type Frac } from './fractional.js';
import { PathError, withSegment } from './path.js';
import { setArrayHolds, setOrderedFields } from './hidden.js';

/** Tags of non-leaf node values (leaves use the codec's tags, all below these). */
export const Node = {
  Object: 0x30,
  NullObject: 0x31,
  Array: 0x32,
  KeyedArray: 0x33,
  Map: 0x34,
  Set: 0x35,
  Chunked: 0x36,
} as const;

const MARKERS: Record<number, Buffer> = Object.fromEntries(
  Object.values(Node).map((t) => [t, Buffer.from([t])]),
);

/** Longest string id for a keyed array; an array with a longer id is stored by index. */
export const MAX_ID_LENGTH = 1024;

const ZERO = Buffer.from([0x00]);
const FF = Buffer.from([0xff]);
export const PACK_ORDER = tuple.pack('o');
export const PACK_ELEMENT = tuple.pack('e');
export const PACK_0 = tuple.pack(0);
export const PACK_1 = tuple.pack(1);

const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

/** The tuple element of a field name or string id (a Buffer of UTF-16LE when it has lone surrogates). */
export function stringElement(s: string): tuple.TupleItem {
  return isWellFormed(s) ? s : Buffer.from(s, 'utf16le');
}

/** The key of field `name` under the node at `key`. */
export function fieldKey(key: Buffer, name: string): Buffer {
  return Buffer.concat([key, tuple.pack(stringElement(name))]);
}

/** The field name of a tuple element written by {@link stringElement}. */
export function fieldName(e: tuple.TupleItem): string | undefined {
  if (typeof e === 'string') return e;
  if (Buffer.isBuffer(e)) return e.toString('utf16le');
  return undefined;
}

/** The packed tuple element addressing a keyed-array element with this id (-0 is 0, like Map keys). */
export function packId(id: string | number): Buffer {
  return tuple.pack(typeof id === 'string' ? stringElement(id) : Object.is(id, -0) ? 0 : id);
}

export function packFrac(f: Frac): Buffer {
  return tuple.pack([f as number[]]);
}

export function indexKey(key: Buffer, i: number): Buffer {
  return Buffer.concat([key, tuple.pack(i)]);
}

export function orderKey(key: Buffer, f: Frac): Buffer {
  return Buffer.concat([key, PACK_ORDER, packFrac(f)]);
}

export function elementKey(key: Buffer, packedId: Buffer): Buffer {
  return Buffer.concat([key, PACK_ELEMENT, packedId]);
}

export function entryKey(key: Buffer, f: Frac): Buffer {
  return Buffer.concat([key, packFrac(f)]);
}

/** The element of a keyed array: a plain object with a string (not too long) or number id. */
export function isKeyedElement(e: unknown): e is { id: string | number } {
  if (typeof e !== 'object' || e === null) return false;
  const proto = Object.getPrototypeOf(e);
  if (proto !== Object.prototype && proto !== null) return false;
  const id = (e as { id?: unknown }).id;
  return typeof id === 'number' || (typeof id === 'string' && id.length <= MAX_ID_LENGTH);
}

/** Is `a` stored as a keyed collection: non-empty, every element keyed, ids unique? */
export function isKeyedArray(a: readonly unknown[]): boolean {
  if (a.length === 0) return false;
  const ids = new Set<unknown>();
  for (const e of a) {
    if (!isKeyedElement(e) || ids.has(e.id)) return false;
    ids.add(e.id);
  }
  return true;
}

/**
 * Positions of ordered collections as last written or loaded, by collection object and node key.
 * Module-wide, so any StateStore over the same keys can continue from a state another one
 * produced. One slot an object: a collection shared by two places of a state keeps the positions
 * of the last one written, and the other is rewritten whole when it next changes.
 */
const positions = new WeakMap<object, { key: Buffer; fracs: Frac[] }>();

/** The positions of collection `c` stored at `key`, if known. */
export function positionsOf(c: object, key: Buffer): Frac[] | undefined {
  const p = positions.get(c);
  return p !== undefined && p.key.equals(key) ? p.fracs : undefined;
}

export function rememberPositions(c: object, key: Buffer, fracs: Frac[]): void {
  positions.set(c, { key, fracs });
}

/** Counts of what a write did, to see the cost of a change. */
export interface WriteStats {
  /** `set` calls. */
  sets: number;
  /** `clear` and `clearRange` calls. */
  clears: number;
  /** Bytes of keys and values set plus bytes of keys cleared (FoundationDB's transaction size). */
  bytes: number;
}

type Op =
  | { readonly kind: 0; readonly key: Buffer; readonly value: Buffer }
  | { readonly kind: 1; readonly key: Buffer }
  | { readonly kind: 2; readonly key: Buffer; readonly end: Buffer };

/**
 * The writes of one change, collected before the transaction is touched, so that a value that
 * cannot be stored leaves the transaction as it was.
 */
export class Plan {
  private readonly ops: Op[] = [];
  private readonly remembered: Array<[object, Buffer, Frac[]]> = [];
  readonly stats: WriteStats = { sets: 0, clears: 0, bytes: 0 };
  /**
   * Bytes of the write conflict ranges FoundationDB adds for these writes (a key and the key after
   * it per set or clear, both ends per range clear): they count toward its 10 MB as much as the
   * writes do, so the check below refuses on every engine what FoundationDB would refuse.
   */
  private conflictBytes = 0;

  set(key: Buffer, value: Buffer): void {
    if (key.length > LIMITS.keyBytes) {
      throw new PathError(
        `its key would be ${key.length} bytes, over the limit of ${LIMITS.keyBytes}; use shorter field names, Map keys or ids, or nest less deeply`,
      );
    }
    this.ops.push({ kind: 0, key, value });
    this.stats.sets++;
    this.stats.bytes += key.length + value.length;
    this.conflictBytes += 2 * key.length + 1;
  }

  /** Clears one key that has no descendants. */
  clear(key: Buffer): void {
    this.ops.push({ kind: 1, key });
    this.stats.clears++;
    this.stats.bytes += key.length;
    this.conflictBytes += 2 * key.length + 1;
  }

  /** Clears the node at `key` and its descendants. */
  clearTree(key: Buffer): void {
    this.clearRange(key, Buffer.concat([key, FF]));
  }

  /** Clears the descendants of the node at `key`, keeping the node's own key. */
  clearChildren(key: Buffer): void {
    this.clearRange(Buffer.concat([key, ZERO]), Buffer.concat([key, FF]));
  }

  clearRange(begin: Buffer, end: Buffer): void {
    this.ops.push({ kind: 2, key: begin, end });
    this.stats.clears++;
    this.stats.bytes += begin.length + end.length;
    this.conflictBytes += begin.length + end.length;
  }

  /** Positions to remember once the plan is applied. */
  remember(c: object, key: Buffer, fracs: Frac[]): void {
    this.remembered.push([c, key, fracs]);
  }

  private tooLarge(total: number): string {
    const n = (x: number) => x.toLocaleString('en-US');
    return (
      `This state change cannot fit one transaction: ${n(this.stats.sets + this.stats.clears)} key writes of ${n(this.stats.bytes)} bytes, ` +
      `plus ${n(this.conflictBytes)} bytes of write conflict ranges (FoundationDB counts each written key again), ${n(total)} bytes in all, ` +
      `over the limit of ${n(LIMITS.transactionBytes)} bytes a transaction (transaction_too_large). ` +
      `Change less of the state in one message, or keep large data outside the actor's state`
    );
  }

  /** Performs the writes on `tx` in order, then remembers the positions written. */
  apply(tx: Transaction): WriteStats {
    const total = this.stats.bytes + this.conflictBytes;
    if (total > LIMITS.transactionBytes) throw new TransactionTooLargeError(total, LIMITS.transactionBytes, this.tooLarge(total));
    for (const op of this.ops) {
      if (op.kind === 0) tx.set(op.key, op.value);
      else if (op.kind === 1) tx.clear(op.key);
      else tx.clearRange(op.key, op.end);
    }
    for (const [c, key, fracs] of this.remembered) rememberPositions(c, key, fracs);
    return { ...this.stats };
  }
}

/** Writes leaf `v` (of `kind`) at `key`: inline, or chunked when over the value limit. */
export function writeLeaf(plan: Plan, key: Buffer, v: unknown, kind: Kind): void {
  const bytes = encodeLeaf(v, kind);
  if (bytes.length <= LIMITS.valueBytes) return plan.set(key, bytes);
  const chunks = Math.ceil(bytes.length / LIMITS.valueBytes);
  const header = Buffer.alloc(1 + 16);
  header[0] = Node.Chunked;
  let pos = 1;
  for (let n of [chunks, bytes.length]) {
    while (n >= 0x80) {
      header[pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    header[pos++] = n;
  }
  plan.set(key, header.subarray(0, pos));
  for (let i = 0; i < chunks; i++) {
    plan.set(indexKey(key, i), bytes.subarray(i * LIMITS.valueBytes, (i + 1) * LIMITS.valueBytes));
  }
}

/** Could leaf `v` have been written in chunks (so that it has descendants to clear)? */
export function mayBeChunked(v: unknown, kind: Kind): boolean {
  const room = LIMITS.valueBytes - 16;
  switch (kind) {
    case Kind.String:
      return (v as string).length * 3 > room;
    case Kind.Uint8Array:
    case Kind.Buffer:
      return (v as Uint8Array).length > room;
    case Kind.BigInt:
      return (v as bigint).toString(16).length / 2 > room;
    default:
      return false;
  }
}

/**
 * Writes the value `v` as a new subtree at `key` (nothing is stored there yet). Returns whether `v`
 * holds a Map or a Set (see hidden.ts), and records it on the containers it writes.
 */
export function writeNode(plan: Plan, key: Buffer, v: unknown, depth: number, stack: unknown[]): boolean {
  const kind = classify(v);
  if (kind < Kind.Object) {
    writeLeaf(plan, key, v, kind);
    return false;
  }
  enterContainer(v, depth, stack);
  const d = depth + 1;
  switch (kind) {
    case Kind.Object:
    case Kind.NullObject: {
      plan.set(key, MARKERS[kind === Kind.Object ? Node.Object : Node.NullObject]!);
      const o = v as Record<string, unknown>;
      const names = Object.keys(o);
      let ordered: Set<string> | undefined;
      let i = 0;
      try {
        for (; i < names.length; i++) {
          if (writeNode(plan, fieldKey(key, names[i]!), o[names[i]!], d, stack)) (ordered ??= new Set()).add(names[i]!);
        }
      } catch (e) {
        withSegment(e, { kind: 'field', name: names[i]! });
      }
      setOrderedFields(o, ordered);
      return ordered !== undefined;
    }
    case Kind.Array: {
      const a = v as unknown[];
      let holds = false;
      let i = 0;
      try {
        if (!isKeyedArray(a)) {
          plan.set(key, MARKERS[Node.Array]!);
          for (; i < a.length; i++) if (writeNode(plan, indexKey(key, i), a[i], d, stack)) holds = true;
        } else {
          plan.set(key, MARKERS[Node.KeyedArray]!);
          const fracs = initialFracs(a.length);
          for (; i < a.length; i++) {
            const id = packId((a[i] as { id: string | number }).id);
            plan.set(orderKey(key, fracs[i]!), id);
            if (writeNode(plan, elementKey(key, id), a[i], d, stack)) holds = true;
          }
          plan.remember(a, key, fracs);
        }
      } catch (e) {
        withSegment(e, { kind: 'index', index: i });
      }
      setArrayHolds(a, holds);
      return holds;
    }
    case Kind.Map: {
      plan.set(key, MARKERS[Node.Map]!);
      const fracs = initialFracs((v as Map<unknown, unknown>).size);
      let position = 0;
      let mapKey: unknown;
      let onKey = false;
      try {
        for (const [k, value] of v as Map<unknown, unknown>) {
          const entry = entryKey(key, fracs[position]!);
          mapKey = k;
          onKey = true;
          writeNode(plan, Buffer.concat([entry, PACK_0]), k, d, stack);
          onKey = false;
          writeNode(plan, Buffer.concat([entry, PACK_1]), value, d, stack);
          position++;
        }
      } catch (e) {
        withSegment(e, onKey ? { kind: 'mapKey', position } : { kind: 'mapValue', key: mapKey, position });
      }
      plan.remember(v as object, key, fracs);
      return true;
    }
    case Kind.Set: {
      plan.set(key, MARKERS[Node.Set]!);
      const fracs = initialFracs((v as Set<unknown>).size);
      let position = 0;
      try {
        for (const item of v as Set<unknown>) {
          writeNode(plan, entryKey(key, fracs[position]!), item, d, stack);
          position++;
        }
      } catch (e) {
        withSegment(e, { kind: 'setItem', position });
      }
      plan.remember(v as object, key, fracs);
      return true;
    }
  }
  return false;
}

