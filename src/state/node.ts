/**
 * One node of a stored state tree and a page of its direct children, read without loading the
 * rest of the tree: what an inspector needs to show a large state lazily, a subtree at a time.
 *
 * A node is named by its address: the bytes of its key after the state subspace's prefix (the
 * root is the empty address). Children are found by skipping over each child's subtree (one short
 * range read per child), so a page costs its own size, never the size of the subtrees below it.
 * @internal
 */
import * as tuple from 'fdb-tuple';
import type { Transaction } from '../backend/contract.js';
import type { Subspace } from '../backend/subspace.js';
import { decodeValue, MAX_CODEC_TAG } from './codec.js';
import { CorruptDataError } from './errors.js';
import { decodeTree } from './load.js';
import { Node, PACK_0, PACK_1, PACK_ELEMENT, PACK_ORDER, fieldName } from './layout.js';

/** What a node is: a container of a kind, or a leaf value. */
export type NodeKind = 'object' | 'array' | 'keyed-array' | 'map' | 'set' | 'leaf';

/** A direct child of a node. */
export interface ChildView {
  /** Field name, index, keyed-array id, Map key (a leaf key; `undefined` for a container key), or Set position. */
  readonly label: unknown;
  /** The child's address, to read it with {@link readNode}. */
  readonly address: Buffer;
  readonly kind: NodeKind;
  /** A leaf child's value (absent for containers and for leaves stored in chunks). */
  readonly value?: unknown;
}

/** A node and one page of its children. */
export interface NodeView {
  readonly kind: NodeKind;
  /** A leaf's value. */
  readonly value?: unknown;
  readonly children: readonly ChildView[];
  /** Give as `after` to read the next page; absent on the last page. */
  readonly next?: Buffer;
}

const FF = Buffer.from([0xff]);
const KINDS: Record<number, NodeKind> = {
  [Node.Object]: 'object',
  [Node.NullObject]: 'object',
  [Node.Array]: 'array',
  [Node.KeyedArray]: 'keyed-array',
  [Node.Map]: 'map',
  [Node.Set]: 'set',
  [Node.Chunked]: 'leaf',
};

function kindOf(key: Buffer, value: Buffer): NodeKind {
  const tag = value[0];
  if (tag !== undefined && tag <= MAX_CODEC_TAG) return 'leaf';
  const kind = tag === undefined ? undefined : KINDS[tag];
  if (kind === undefined) throw new CorruptDataError(`State key ${key.toString('hex')} does not decode: unknown node tag ${tag}`);
  return kind;
}

/** A leaf child as listed: its value when stored inline. */
function child(label: unknown, root: Buffer, key: Buffer, value: Buffer): ChildView {
  const kind = kindOf(key, value);
  const address = key.subarray(root.length);
  return kind === 'leaf' && value[0]! <= MAX_CODEC_TAG ? { label, address, kind, value: decodeValue(value) } : { label, address, kind };
}

/**
 * Reads the node at `address` under `state` and up to `limit` of its children after `after`.
 * Undefined when no node is stored there. A leaf stored in chunks is read whole (it is one value).
 *
 * @example
 * ```ts
 * const root = await backend.transact((tx) => readNode(tx, keys.state, Buffer.alloc(0), { limit: 50 }));
 * const first = root && (await backend.transact((tx) => readNode(tx, keys.state, root.children[0]!.address, { limit: 50 })));
 * ```
 */
export async function readNode(tx: Transaction, state: Subspace, address: Buffer, options: { readonly after?: Buffer; readonly limit: number }): Promise<NodeView | undefined> {
  const root = state.prefix;
  const key = Buffer.concat([root, address]);
  const value = await tx.get(key, { snapshot: true });
  if (value === undefined) return undefined;
  const marker = Buffer.from(value);
  const kind = kindOf(key, marker);
  if (kind === 'leaf') {
    if (marker[0]! <= MAX_CODEC_TAG) return { kind, value: decodeValue(marker), children: [] };
    const chunks = await tx.getRange(Buffer.concat([key, Buffer.of(0)]), Buffer.concat([key, FF]), { snapshot: true });
    return { kind, value: decodeTree(key, [{ key, value: marker }, ...chunks]).state, children: [] };
  }
  const after = options.after === undefined ? undefined : Buffer.concat([root, options.after]);
  const page = kind === 'keyed-array' ? await keyedChildren(tx, root, key, after, options.limit + 1) : await skipChildren(tx, root, key, marker[0]!, after, options.limit + 1);
  const children = page.slice(0, options.limit).map((p) => p.child);
  const last = page.length > options.limit ? page[options.limit - 1] : undefined;
  return last === undefined ? { kind, children } : { kind, children, next: last.cursor.subarray(root.length) };
}

interface Listed {
  readonly child: ChildView;
  /** The key after which the next child starts (its subtree's unit). */
  readonly cursor: Buffer;
}

/** Children of an object, array, Map or Set: the first key after each child's subtree is the next child. */
async function skipChildren(tx: Transaction, root: Buffer, key: Buffer, tag: number, after: Buffer | undefined, limit: number): Promise<Listed[]> {
  const end = Buffer.concat([key, FF]);
  let begin = after === undefined ? Buffer.concat([key, Buffer.of(0)]) : Buffer.concat([after, FF]);
  const out: Listed[] = [];
  while (out.length < limit) {
    const [first] = await tx.getRange(begin, end, { limit: 1, snapshot: true });
    if (first === undefined) break;
    const firstKey = Buffer.from(first.key);
    const rel = unpack(firstKey, key);
    const unit = Buffer.concat([key, tuple.pack([rel[0]!])]);
    out.push({ child: await childOf(tx, root, unit, tag, rel, firstKey, Buffer.from(first.value)), cursor: unit });
    begin = Buffer.concat([unit, FF]);
  }
  return out;
}

/** The child whose subtree starts at `unit`; `firstKey` / `firstValue` is the first key in it. */
async function childOf(tx: Transaction, root: Buffer, unit: Buffer, tag: number, rel: tuple.TupleItem[], firstKey: Buffer, firstValue: Buffer): Promise<ChildView> {
  if (tag === Node.Map) {
    // an entry is (frac, 0) → its key node and (frac, 1) → its value node
    const keyNode = Buffer.concat([unit, PACK_0]);
    const label = firstKey.equals(keyNode) && firstValue[0]! <= MAX_CODEC_TAG ? decodeValue(firstValue) : undefined;
    const valueKey = Buffer.concat([unit, PACK_1]);
    const value = await tx.get(valueKey, { snapshot: true });
    if (value === undefined) throw new CorruptDataError(`State key ${unit.toString('hex')} does not decode: Map entry without value`);
    return child(label, root, valueKey, Buffer.from(value));
  }
  if (!firstKey.equals(unit)) throw new CorruptDataError(`State key ${firstKey.toString('hex')} does not decode: no node at ${unit.toString('hex')}`);
  if (tag === Node.Set) return child((rel[0] as number[]).join('.'), root, unit, firstValue);
  const label = tag === Node.Array ? rel[0] : fieldName(rel[0]!);
  return child(label, root, unit, firstValue);
}

/** Children of a keyed array, in order: its order keys name the elements, read one by one. */
async function keyedChildren(tx: Transaction, root: Buffer, key: Buffer, after: Buffer | undefined, limit: number): Promise<Listed[]> {
  const order = Buffer.concat([key, PACK_ORDER]);
  const begin = after === undefined ? order : Buffer.concat([after, FF]);
  const entries = await tx.getRange(begin, Buffer.concat([order, FF]), { limit, snapshot: true });
  return Promise.all(
    entries.map(async (e) => {
      const elementKey = Buffer.concat([key, PACK_ELEMENT, Buffer.from(e.value)]);
      const value = await tx.get(elementKey, { snapshot: true });
      if (value === undefined) throw new CorruptDataError(`State key ${key.toString('hex')} does not decode: order key without element`);
      const [id] = tuple.unpack(Buffer.from(e.value));
      return { child: child(typeof id === 'number' ? id : fieldName(id!), root, elementKey, Buffer.from(value)), cursor: Buffer.from(e.key) };
    }),
  );
}

function unpack(key: Buffer, parent: Buffer): tuple.TupleItem[] {
  try {
    return tuple.unpack(key.subarray(parent.length));
  } catch {
    throw new CorruptDataError(`State key ${key.toString('hex')} does not decode: not a tuple`);
  }
}
