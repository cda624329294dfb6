/**
 * Paths to values inside a state or payload, for error messages only: `state.items[3].fn`,
 * `payload.tags.get("x")`, `state.seen.values()[2]`. They are built while an error unwinds, so a
 * value that encodes costs nothing here.
 * @internal
 */
import { UnserializableValueError } from './errors.js';

/** One step from a container to a child. */
export type Segment =
  | { readonly kind: 'field'; readonly name: string }
  | { readonly kind: 'index'; readonly index: number }
  | { readonly kind: 'mapValue'; readonly key: unknown; readonly position: number }
  | { readonly kind: 'mapKey'; readonly position: number }
  | { readonly kind: 'setItem'; readonly position: number };

/**
 * Thrown inside the walkers with the segments collected so far, innermost first. Turned into an
 * {@link UnserializableValueError} at the entry point by {@link toUnserializable}.
 */
export class PathError extends Error {
  readonly segments: Segment[] = [];
  /**
   * @param reason what is wrong with the value.
   * @param cycleDepth for a cycle, the depth of the ancestor the value repeats.
   */
  constructor(
    readonly reason: string,
    readonly cycleDepth?: number,
  ) {
    super(reason);
  }
}

/** Adds the step `segment` to an unwinding {@link PathError}; rethrows anything else as is. */
export function withSegment(e: unknown, segment: Segment): never {
  if (e instanceof PathError) e.segments.push(segment);
  throw e;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function renderKey(key: unknown, position: number): string {
  switch (typeof key) {
    case 'string':
      return JSON.stringify(key);
    case 'number':
      return Object.is(key, -0) ? '-0' : String(key);
    case 'bigint':
      return `${key}n`;
    case 'boolean':
      return String(key);
    case 'undefined':
      return 'undefined';
    default:
      return key === null ? 'null' : `<key #${position}>`;
  }
}

/** `root` followed by `segments` (outermost first). */
export function renderPath(root: string, segments: readonly Segment[]): string {
  let out = root;
  for (const s of segments) {
    switch (s.kind) {
      case 'field':
        out += IDENTIFIER.test(s.name) ? `.${s.name}` : `[${JSON.stringify(s.name)}]`;
        break;
      case 'index':
        out += `[${s.index}]`;
        break;
      case 'mapValue':
        out += `.get(${renderKey(s.key, s.position)})`;
        break;
      case 'mapKey':
        out += `.keys()[${s.position}]`;
        break;
      case 'setItem':
        out += `.values()[${s.position}]`;
        break;
    }
  }
  return out;
}

/** The public error for an unwound {@link PathError}; anything else is returned unchanged. */
export function toUnserializable(e: unknown, root: string): unknown {
  if (!(e instanceof PathError)) return e;
  const segments = [...e.segments].reverse();
  const reason =
    e.cycleDepth === undefined
      ? e.reason
      : `${e.reason}: it is the same object as ${renderPath(root, segments.slice(0, e.cycleDepth))}, which contains it`;
  return new UnserializableValueError(renderPath(root, segments), reason);
}
