/**
 * Reads a state tree back from its keys (one range read, in key order, which is the tree in
 * pre-order) and remembers the positions of its ordered collections for later diffs.
 * @internal
 */
import * as tuple from 'fdb-tuple';
import type { KeyValue } from '../backend/contract.js';
import { decodeValue, MAX_CODEC_TAG, setField } from './codec.js';
import { CorruptDataError } from './errors.js';
import { compareFrac, type Frac } from './fractional.js';
import { Node, PACK_ELEMENT, fieldName, rememberPositions } from './layout.js';
import { setArrayHolds, setOrderedFields } from './hidden.js';

interface Open {
  readonly key: Buffer;
  readonly tag: number;
  /** Where the parent puts this node's value. */
  readonly slot: unknown;
  value: unknown;
  /** Does the value hold a Map or a Set? (see hidden.ts) */
  holds: boolean;
  /** Object: its fields that hold one. */
  fields?: Set<string>;
  /** Chunked leaf: the chunks so far. */
  chunks?: Buffer[];
  total?: number;
  count?: number;
  /** Keyed array: order entries and elements by packed id. */
  order?: Array<{ frac: Frac; id: string }>;
  elements?: Map<string, unknown>;
  /** Map and Set: entries in position order. */
  entries?: Array<{ frac: Frac; key?: unknown; value?: unknown; has: number }>;
}

function corrupt(key: Buffer, what: string): never {
  throw new CorruptDataError(`State key ${key.toString('hex')} does not decode: ${what}`);
}

function readVarints(b: Buffer, from: number, count: number): number[] {
  const out: number[] = [];
  let pos = from;
  for (let k = 0; k < count; k++) {
    let n = 0;
    let scale = 1;
    for (;;) {
      const byte = b[pos++];
      if (byte === undefined) throw new CorruptDataError('State chunk header is truncated');
      n += (byte & 0x7f) * scale;
      scale *= 0x80;
      if (byte < 0x80) break;
    }
    out.push(n);
  }
  return out;
}

function isFrac(e: unknown): e is Frac {
  return Array.isArray(e) && e.length > 0 && e.every((x) => typeof x === 'number' && Number.isSafeInteger(x));
}

function open(key: Buffer, value: Buffer, slot: unknown): Open {
  const tag = value[0];
  if (tag === undefined) corrupt(key, 'empty value');
  const node: Open = { key, tag, slot, value: undefined, holds: tag === Node.Map || tag === Node.Set };
  if (tag <= MAX_CODEC_TAG) node.value = decodeValue(value);
  else if (tag === Node.Chunked) {
    [node.count, node.total] = readVarints(value, 1, 2);
    node.chunks = [];
  } else if (tag === Node.Object) node.value = {};
  else if (tag === Node.NullObject) node.value = Object.create(null);
  else if (tag === Node.Array) node.value = [];
  else if (tag === Node.KeyedArray) {
    node.order = [];
    node.elements = new Map();
  } else if (tag === Node.Map || tag === Node.Set) node.entries = [];
  else corrupt(key, `unknown node tag ${tag}`);
  return node;
}

/** A key under `parent` that is not a node of its own (an order key, a chunk); true when consumed. */
function consumeEntry(parent: Open, key: Buffer, rel: tuple.TupleItem[], value: Buffer): boolean {
  if (parent.tag === Node.Chunked) {
    if (rel.length !== 1 || rel[0] !== parent.chunks!.length) corrupt(key, 'chunk out of sequence');
    parent.chunks!.push(value);
    return true;
  }
  if (parent.tag === Node.KeyedArray && rel[0] === 'o') {
    if (rel.length !== 2 || !isFrac(rel[1])) corrupt(key, 'bad order key');
    parent.order!.push({ frac: rel[1], id: value.toString('latin1') });
    return true;
  }
  return false;
}

/** The slot of a child node under `parent`, from the child's key elements after the parent's key. */
function slotOf(parent: Open, key: Buffer, rel: tuple.TupleItem[]): unknown {
  switch (parent.tag) {
    case Node.Object:
    case Node.NullObject: {
      const name = rel.length === 1 ? fieldName(rel[0]!) : undefined;
      if (name === undefined) corrupt(key, 'bad field key');
      return name;
    }
    case Node.Array:
      if (rel.length !== 1 || rel[0] !== (parent.value as unknown[]).length) corrupt(key, 'array index out of sequence');
      return rel[0];
    case Node.KeyedArray:
      if (rel.length !== 2 || rel[0] !== 'e') corrupt(key, 'bad keyed-array key');
      return key.subarray(parent.key.length + PACK_ELEMENT.length).toString('latin1');
    case Node.Map:
      if (rel.length !== 2 || !isFrac(rel[0]) || (rel[1] !== 0 && rel[1] !== 1)) corrupt(key, 'bad Map entry key');
      return rel;
    case Node.Set:
      if (rel.length !== 1 || !isFrac(rel[0])) corrupt(key, 'bad Set item key');
      return rel[0];
  }
  return corrupt(key, 'a leaf has children');
}

function entryAt(parent: Open, frac: Frac) {
  const entries = parent.entries!;
  const last = entries[entries.length - 1];
  if (last !== undefined && compareFrac(last.frac, frac) === 0) return last;
  const entry = { frac, key: undefined as unknown, value: undefined as unknown, has: 0 };
  entries.push(entry);
  return entry;
}

function deliver(parent: Open, node: Open): void {
  if (node.holds) {
    parent.holds = true;
    if (parent.tag === Node.Object || parent.tag === Node.NullObject) (parent.fields ??= new Set()).add(node.slot as string);
  }
  switch (parent.tag) {
    case Node.Object:
    case Node.NullObject:
      return setField(parent.value as Record<string, unknown>, node.slot as string, node.value);
    case Node.Array:
      (parent.value as unknown[]).push(node.value);
      return;
    case Node.KeyedArray:
      parent.elements!.set(node.slot as string, node.value);
      return;
    case Node.Map: {
      const [frac, which] = node.slot as [Frac, 0 | 1];
      const entry = entryAt(parent, frac);
      if (which === 0) entry.key = node.value;
      else entry.value = node.value;
      entry.has |= which === 0 ? 1 : 2;
      return;
    }
    case Node.Set: {
      const entry = entryAt(parent, node.slot as Frac);
      entry.value = node.value;
      entry.has = 3;
    }
  }
}

/** Completes `node` once all its descendants are read. */
function close(node: Open): void {
  switch (node.tag) {
    case Node.Object:
    case Node.NullObject:
      setOrderedFields(node.value as object, node.fields);
      return;
    case Node.Array:
      setArrayHolds(node.value as object, node.holds);
      return;
    case Node.Chunked: {
      const bytes = Buffer.concat(node.chunks!);
      if (node.chunks!.length !== node.count || bytes.length !== node.total) corrupt(node.key, 'chunks missing');
      node.value = decodeValue(bytes);
      return;
    }
    case Node.KeyedArray: {
      const a: unknown[] = [];
      for (const { id } of node.order!) {
        if (!node.elements!.has(id)) corrupt(node.key, 'order key without element');
        a.push(node.elements!.get(id));
      }
      if (a.length !== node.elements!.size || a.length === 0) corrupt(node.key, 'element without order key');
      node.value = a;
      setArrayHolds(a, node.holds);
      rememberPositions(a, node.key, node.order!.map((o) => o.frac));
      return;
    }
    case Node.Map:
    case Node.Set: {
      const fracs: Frac[] = [];
      const c = node.tag === Node.Map ? new Map<unknown, unknown>() : new Set<unknown>();
      for (const e of node.entries!) {
        if (e.has !== 3) corrupt(node.key, 'Map entry without key or value');
        fracs.push(e.frac);
        if (c instanceof Map) c.set(e.key, e.value);
        else c.add(e.value);
      }
      if (c.size !== fracs.length) corrupt(node.key, 'repeated Map key or Set item');
      node.value = c;
      rememberPositions(c, node.key, fracs);
    }
  }
}

const isStrictPrefix = (a: Buffer, b: Buffer): boolean => b.length > a.length && a.compare(b, 0, a.length) === 0;

/**
 * The value of the tree rooted at `rootKey` from `entries`, all keys from `rootKey` (inclusive)
 * to the end of its subtree, in key order. `undefined` when there are none.
 */
export function decodeTree(rootKey: Buffer, entries: readonly KeyValue[]): { exists: boolean; state: unknown } {
  if (entries.length === 0) return { exists: false, state: undefined };
  if (!entries[0]!.key.equals(rootKey)) corrupt(entries[0]!.key, 'no root node');
  const stack: Open[] = [open(rootKey, entries[0]!.value, undefined)];
  const pop = () => {
    const node = stack.pop()!;
    close(node);
    if (stack.length > 0) deliver(stack[stack.length - 1]!, node);
    return node;
  };
  for (let i = 1; i < entries.length; i++) {
    const { key, value } = entries[i]!;
    while (stack.length > 0 && !isStrictPrefix(stack[stack.length - 1]!.key, key)) pop();
    const parent = stack[stack.length - 1];
    if (parent === undefined) corrupt(key, 'outside the root node');
    let rel: tuple.TupleItem[];
    try {
      rel = tuple.unpack(key.subarray(parent.key.length));
    } catch {
      corrupt(key, 'not a tuple');
    }
    if (consumeEntry(parent, key, rel, value)) continue;
    stack.push(open(key, value, slotOf(parent, key, rel)));
  }
  let root: Open;
  do root = pop();
  while (stack.length > 0);
  return { exists: true, state: root.value };
}
