/**
 * Where a change can hide from immer's patches. Immer reports no patch when a Map key or a Set
 * item is deleted and added back with the same value (only the iteration order changed), yet the
 * objects above it are new. The diff follows patches through objects, so it must also look at
 * every field whose subtree holds a Map or a Set: this module remembers, per object, which fields
 * those are (and per array whether it holds one), filled in as states are written, diffed and
 * loaded, computed once on demand otherwise. States are immutable, so the answers never go stale.
 * @internal
 */

const EMPTY: ReadonlySet<string> = new Set();
const objectFields = new WeakMap<object, ReadonlySet<string>>();
const arrayHolds = new WeakMap<object, boolean>();

const isMapOrSet = (v: object): boolean => {
  const proto = Object.getPrototypeOf(v);
  return proto === Map.prototype || proto === Set.prototype;
};

/** Does `v` hold a Map or a Set (or is one)? */
export function holdsOrdered(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  if (Array.isArray(v)) {
    let holds = arrayHolds.get(v);
    if (holds === undefined) arrayHolds.set(v, (holds = v.some(holdsOrdered)));
    return holds;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) return orderedFields(v).size > 0;
  return isMapOrSet(v);
}

/** The fields of object `o` whose values hold a Map or a Set. */
export function orderedFields(o: object): ReadonlySet<string> {
  let fields = objectFields.get(o);
  if (fields === undefined) {
    let found: Set<string> | undefined;
    for (const k of Object.keys(o)) if (holdsOrdered((o as Record<string, unknown>)[k])) (found ??= new Set()).add(k);
    objectFields.set(o, (fields = found ?? EMPTY));
  }
  return fields;
}

/** Records the fields of `o` that hold a Map or a Set, when already known. */
export function setOrderedFields(o: object, fields: ReadonlySet<string> | undefined): void {
  objectFields.set(o, fields === undefined || fields.size === 0 ? EMPTY : fields);
}

/** Whether array `a` holds a Map or a Set, if already known. */
export function knownArrayHolds(a: object): boolean | undefined {
  return arrayHolds.get(a);
}

/** Records whether array `a` holds a Map or a Set. */
export function setArrayHolds(a: object, holds: boolean): void {
  arrayHolds.set(a, holds);
}
