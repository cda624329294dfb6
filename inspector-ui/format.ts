/**
 * Values as the server sends them (JSON, with tagged stand-ins `{ $dgen, value }` for what JSON
 * cannot carry: see src/inspect/json.ts) shown as short text.
 */

export interface Tagged {
  readonly $dgen: string;
  readonly value?: unknown;
}

export function isTagged(v: unknown): v is Tagged {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as { $dgen?: unknown }).$dgen === 'string';
}

/** One line of text for a value, cut at `max` characters. */
export function formatValue(v: unknown, max = 200): string {
  const text = render(v, 0);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function render(v: unknown, depth: number): string {
  if (depth > 20) return '…';
  if (isTagged(v)) return renderTagged(v, depth);
  if (Array.isArray(v)) return `[${v.map((x) => render(x, depth + 1)).join(', ')}]`;
  if (typeof v === 'object' && v !== null) return renderObject(v, depth);
  return JSON.stringify(v) ?? String(v);
}

/** An object's fields (never read as a tag: a stored object with a `$dgen` field arrives wrapped). */
function renderObject(v: object, depth: number): string {
  return `{${Object.entries(v).map(([k, x]) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)}: ${render(x, depth + 1)}`).join(', ')}}`;
}

function renderTagged(t: Tagged, depth: number): string {
  switch (t.$dgen) {
    case 'undefined':
      return 'undefined';
    case 'bigint':
      return `${String(t.value)}n`;
    case 'number':
      return String(t.value);
    case 'date':
      return `Date(${String(t.value)})`;
    case 'bytes':
      return `bytes(${atobLength(String(t.value))})`;
    case 'map': {
      const entries = t.value as Array<[unknown, unknown]>;
      return `Map(${entries.length}) {${entries.map(([k, x]) => `${render(k, depth + 1)} => ${render(x, depth + 1)}`).join(', ')}}`;
    }
    case 'set': {
      const items = t.value as unknown[];
      return `Set(${items.length}) {${items.map((x) => render(x, depth + 1)).join(', ')}}`;
    }
    case 'object':
      return typeof t.value === 'object' && t.value !== null ? renderObject(t.value, depth) : String(t.value);
    default:
      return `(${t.$dgen})`;
  }
}

/** Bytes in a base64 string. */
function atobLength(b64: string): number {
  const pad = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0;
  return Math.floor((b64.length * 3) / 4) - pad;
}

/** An immer patch as one line: `replace count = 3`, `remove items.2`. */
export function describePatch(p: { readonly op: string; readonly path: readonly unknown[]; readonly value?: unknown }): string {
  const path = p.path.length === 0 ? '(root)' : p.path.map((s) => (isTagged(s) ? render(s, 0) : String(s))).join('.');
  return p.op === 'remove' ? `remove ${path}` : `${p.op} ${path} = ${formatValue(p.value, 120)}`;
}

/** When something happened, from ms since epoch, in the viewer's local time. */
export function formatTime(ms: number): string {
  return new Date(ms).toLocaleString();
}

/** Parses the payload typed in the dispatch form: empty is no payload; anything else must be JSON. */
export function parsePayload(text: string): { ok: true; payload: unknown } | { ok: false; error: string } {
  if (text.trim() === '') return { ok: true, payload: undefined };
  try {
    return { ok: true, payload: JSON.parse(text) };
  } catch (e) {
    return { ok: false, error: `The payload is not JSON: ${(e as Error).message}` };
  }
}
