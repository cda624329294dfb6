/**
 * `dgen --format table`: CLI results as aligned text columns. A list of objects is one row per
 * object with a column per key; a list of values is one column; an object is key / value rows.
 * Nested values are shown as compact JSON.
 * @internal
 */

export function formatTable(value: unknown): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return '(none)';
    if (value.every((v) => isRecord(v))) {
      const columns = [...new Set(value.flatMap((v) => Object.keys(v as object)))];
      return grid([columns, ...value.map((v) => columns.map((c) => cell((v as Record<string, unknown>)[c])))]);
    }
    return value.map(cell).join('\n');
  }
  if (isRecord(value)) return grid(Object.entries(value).map(([k, v]) => [k, cell(v)]));
  return cell(value);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array) && !(v instanceof Map) && !(v instanceof Set);
}

function cell(v: unknown): string {
  if (v === undefined || v === null) return '-';
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v !== 'object') return String(v);
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x instanceof Map ? [...x] : x instanceof Set ? [...x] : x));
}

function grid(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}
