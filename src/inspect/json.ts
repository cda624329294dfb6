/**
 * Stored values as JSON for the browser. JSON has no bigint, Map, Set, bytes, Date, undefined,
 * NaN or ±Infinity, so those become tagged objects `{ $dgen: type, value }` that the UI shows as
 * what they are; every other value is plain JSON. A real field named `$dgen` is tagged too, so
 * no stored object is mistaken for a tag.
 */

/** A tagged stand-in for a value JSON cannot carry. */
export interface Tagged {
  readonly $dgen: 'bigint' | 'map' | 'set' | 'bytes' | 'date' | 'undefined' | 'number' | 'object';
  readonly value?: unknown;
}

/** `value` as a JSON-ready tree (tagged where JSON falls short). */
export function toJson(value: unknown, depth = 0): unknown {
  if (depth > 200) return { $dgen: 'object', value: '(nested too deeply to show)' };
  switch (typeof value) {
    case 'undefined':
      return { $dgen: 'undefined' };
    case 'bigint':
      return { $dgen: 'bigint', value: value.toString() };
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0) ? value : { $dgen: 'number', value: String(Object.is(value, -0) ? '-0' : value) };
    case 'string':
    case 'boolean':
      return value;
    case 'object':
      return objectToJson(value, depth + 1);
    default:
      return { $dgen: 'object', value: `(${typeof value})` };
  }
}

function objectToJson(value: object | null, depth: number): unknown {
  if (value === null) return null;
  if (value instanceof Uint8Array) return { $dgen: 'bytes', value: Buffer.from(value.buffer, value.byteOffset, value.length).toString('base64') };
  if (value instanceof Date) return { $dgen: 'date', value: Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString() };
  if (value instanceof Map) return { $dgen: 'map', value: [...value].map(([k, v]) => [toJson(k, depth), toJson(v, depth)]) };
  if (value instanceof Set) return { $dgen: 'set', value: [...value].map((v) => toJson(v, depth)) };
  if (Array.isArray(value)) return Array.from(value, (v) => toJson(v, depth));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = toJson(v, depth);
  return Object.hasOwn(value, '$dgen') ? { $dgen: 'object', value: out } : out;
}

/** The HTTP body of `value`. */
export function stringify(value: unknown): string {
  return JSON.stringify(toJson(value));
}
