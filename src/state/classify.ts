/**
 * What dgen can store, decided once for the codec and the state tree: {@link classify} names the
 * kind of a value or throws why it cannot be stored, and {@link validateValue} walks a whole value.
 *
 * Supported: `undefined`, `null`, booleans, numbers (every IEEE double, -0 and NaN included),
 * strings (lone surrogates included), BigInt, Date (invalid dates included), Uint8Array, Buffer,
 * arrays, plain objects (prototype `Object.prototype` or `null`), Map and Set of supported values.
 * Anything else (functions, symbols, class instances, WeakMap, Promise, other typed arrays) is
 * rejected, and so are cycles. Shared references that are not cycles are accepted and stored
 * once per place they appear.
 * @internal
 */
import { PathError, withSegment, toUnserializable, type Segment } from './path.js';

/** The kinds of storable values; containers (those with children) come last. */
export const Kind = {
  Undefined: 0,
  Null: 1,
  Boolean: 2,
  Number: 3,
  String: 4,
  BigInt: 5,
  Date: 6,
  Uint8Array: 7,
  Buffer: 8,
  Object: 9,
  NullObject: 10,
  Array: 11,
  Map: 12,
  Set: 13,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

/** Containers nest at most this deep (codec and state tree alike), far above any real state. */
export const MAX_DEPTH = 1000;
/** Below this depth no cycle check is made: a cycle always goes deeper, so it is found there. */
const CYCLE_SCAN_DEPTH = 64;

/** A kind is a container when it has children. */
export function isContainer(kind: Kind): boolean {
  return kind >= Kind.Object;
}

/**
 * Signals a cycle found by a fast walk, which keeps no path. The entry point reruns the precise
 * walk of {@link validateValue} to name the place.
 */
export class CycleSignal extends Error {}

function typeName(v: object): string {
  try {
    const ctor = (Object.getPrototypeOf(v) as { constructor?: { name?: unknown } } | null)?.constructor;
    return typeof ctor?.name === 'string' && ctor.name !== '' ? ctor.name : 'an anonymous class';
  } catch {
    return 'an unknown class';
  }
}

/** The kind of `v`, or a {@link PathError} saying why it cannot be stored. */
export function classify(v: unknown): Kind {
  switch (typeof v) {
    case 'string':
      return Kind.String;
    case 'number':
      return Kind.Number;
    case 'boolean':
      return Kind.Boolean;
    case 'undefined':
      return Kind.Undefined;
    case 'bigint':
      return Kind.BigInt;
    case 'object': {
      if (v === null) return Kind.Null;
      let proto: unknown;
      try {
        proto = Object.getPrototypeOf(v);
      } catch {
        throw new PathError('a revoked proxy (an immer draft used after its produce call ended?) cannot be stored');
      }
      if (proto === Object.prototype) return Kind.Object;
      if (proto === Array.prototype) return Kind.Array;
      if (proto === null) return Kind.NullObject;
      if (proto === Map.prototype) return Kind.Map;
      if (proto === Set.prototype) return Kind.Set;
      if (proto === Date.prototype) return Kind.Date;
      if (proto === Uint8Array.prototype) return Kind.Uint8Array;
      if (proto === Buffer.prototype) return Kind.Buffer;
      const name = typeName(v);
      if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) {
        throw new PathError(`${name} is not supported; store the bytes as a Uint8Array`);
      }
      throw new PathError(
        `an instance of ${name} is not a plain value; store its data as a plain object, array, Map, Set, Date, BigInt or Uint8Array`,
      );
    }
    case 'function':
      throw new PathError('a function cannot be stored; keep functions out of state and messages');
    case 'symbol':
      throw new PathError('a symbol cannot be stored');
    default:
      throw new PathError(`a value of type ${typeof v} cannot be stored`);
  }
}

/**
 * Fast walk: checks every value under `v` (at `depth`), using `stack` (containers by depth) to
 * catch cycles once the walk is deeper than any real state. Throws {@link PathError} with the
 * path, or {@link CycleSignal}.
 */
export function checkValue(v: unknown, depth: number, stack: unknown[]): void {
  const kind = classify(v);
  if (kind < Kind.Object) return;
  enterContainer(v, depth, stack);
  checkChildren(v, kind, depth, stack);
}

/** Records `v` at `depth`; throws when too deep or when `v` is one of its own ancestors. */
export function enterContainer(v: unknown, depth: number, stack: unknown[]): void {
  if (depth >= CYCLE_SCAN_DEPTH) {
    for (let i = 0; i < depth; i++) if (stack[i] === v) throw new CycleSignal();
    if (depth >= MAX_DEPTH) throw new PathError(`nested deeper than ${MAX_DEPTH} levels`);
  }
  stack[depth] = v;
}

function checkChildren(v: unknown, kind: Kind, depth: number, stack: unknown[]): void {
  const d = depth + 1;
  switch (kind) {
    case Kind.Array: {
      const a = v as unknown[];
      let i = 0;
      try {
        for (; i < a.length; i++) checkValue(a[i], d, stack);
      } catch (e) {
        withSegment(e, { kind: 'index', index: i });
      }
      return;
    }
    case Kind.Object:
    case Kind.NullObject: {
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o);
      let i = 0;
      try {
        for (; i < keys.length; i++) checkValue(o[keys[i]!], d, stack);
      } catch (e) {
        withSegment(e, { kind: 'field', name: keys[i]! });
      }
      return;
    }
    case Kind.Map: {
      let position = 0;
      let key: unknown;
      let onKey = false;
      try {
        for (const [k, value] of v as Map<unknown, unknown>) {
          key = k;
          onKey = true;
          checkValue(k, d, stack);
          onKey = false;
          checkValue(value, d, stack);
          position++;
        }
      } catch (e) {
        withSegment(e, onKey ? { kind: 'mapKey', position } : { kind: 'mapValue', key, position });
      }
      return;
    }
    case Kind.Set: {
      let position = 0;
      try {
        for (const item of v as Set<unknown>) {
          checkValue(item, d, stack);
          position++;
        }
      } catch (e) {
        withSegment(e, { kind: 'setItem', position });
      }
      return;
    }
  }
}

/** Precise walk after a {@link CycleSignal}: finds the first value that contains itself. */
function findCycle(v: unknown, ancestors: Map<unknown, number>, depth: number): void {
  const kind = classify(v);
  if (kind < Kind.Object) return;
  const seenAt = ancestors.get(v);
  if (seenAt !== undefined) throw new PathError('cycle', seenAt);
  ancestors.set(v, depth);
  const visit = (child: unknown, segment: Segment) => {
    try {
      findCycle(child, ancestors, depth + 1);
    } catch (e) {
      withSegment(e, segment);
    }
  };
  switch (kind) {
    case Kind.Array:
      (v as unknown[]).forEach((child, index) => visit(child, { kind: 'index', index }));
      break;
    case Kind.Object:
    case Kind.NullObject:
      for (const name of Object.keys(v as object)) visit((v as Record<string, unknown>)[name], { kind: 'field', name });
      break;
    case Kind.Map: {
      let position = 0;
      for (const [key, value] of v as Map<unknown, unknown>) {
        visit(key, { kind: 'mapKey', position });
        visit(value, { kind: 'mapValue', key, position });
        position++;
      }
      break;
    }
    case Kind.Set: {
      let position = 0;
      for (const item of v as Set<unknown>) visit(item, { kind: 'setItem', position: position++ });
      break;
    }
  }
  ancestors.delete(v);
}

/**
 * The public error for anything a walker threw: a {@link PathError} becomes an
 * {@link UnserializableValueError} under `root`, a {@link CycleSignal} is located by a precise walk
 * of `value`, anything else is returned as is.
 */
export function describeFailure(e: unknown, value: unknown, root: string): unknown {
  if (e instanceof CycleSignal) {
    try {
      findCycle(value, new Map(), 0);
    } catch (precise) {
      e = precise;
    }
  }
  return toUnserializable(e, root);
}

/**
 * Throws {@link UnserializableValueError} when `v` cannot be stored, naming the first offending
 * place under `rootName` (e.g. `state.items[3].fn`) and why. Runs in one pass over `v`; cheap
 * enough for every message. {@link encodeValue} and the state store validate on their own, so
 * this is for checking early (e.g. a payload at `dispatch`).
 *
 * @example
 * ```ts
 * validateValue({ items: [{ fn() {} }] }, 'state'); // throws: Cannot store state.items[0].fn: a function cannot be stored…
 * ```
 * @internal
 */
export function validateValue(v: unknown, rootName: string): void {
  try {
    checkValue(v, 0, []);
  } catch (e) {
    throw describeFailure(e, v, rootName);
  }
}
