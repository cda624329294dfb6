/** The inspector UI's pure parts: how values, patches and payloads are shown and read, and its routes. */
import { describe, expect, it } from 'vitest';
import { describePatch, formatValue, parsePayload } from '../../inspector-ui/format.js';
import { hrefOf, parseRoute, type Route } from '../../inspector-ui/route.js';
import { toJson } from '../../src/inspect/json.js';

describe('formatValue shows what the server sends, tags included', () => {
  const cases: Array<[string, unknown, string]> = [
    ['a plain object', { a: 1, 'b c': [true, null] }, '{a: 1, "b c": [true, null]}'],
    ['a bigint', 12n, '12n'],
    ['undefined', undefined, 'undefined'],
    ['NaN and -0', [NaN, -0, Infinity], '[NaN, -0, Infinity]'],
    ['a Map', new Map([['k', 1]]), 'Map(1) {"k" => 1}'],
    ['a Set', new Set([1, 2]), 'Set(2) {1, 2}'],
    ['bytes', new Uint8Array([1, 2, 3, 4]), 'bytes(4)'],
    ['a Date', new Date(0), 'Date(1970-01-01T00:00:00.000Z)'],
    ['an object with a field named $dgen', { $dgen: 'bigint', value: 1 }, '{$dgen: "bigint", value: 1}'],
  ];
  it.each(cases)('%s', (_name, value, text) => {
    expect(formatValue(JSON.parse(JSON.stringify(toJson(value))))).toBe(text);
  });

  it('cuts long values', () => {
    expect(formatValue('x'.repeat(500), 20)).toHaveLength(20);
  });
});

describe('patches and payloads', () => {
  it('describes immer patches in one line', () => {
    expect(describePatch({ op: 'replace', path: ['count'], value: 3 })).toBe('replace count = 3');
    expect(describePatch({ op: 'remove', path: ['items', 2] })).toBe('remove items.2');
    expect(describePatch({ op: 'replace', path: [], value: { a: 1 } })).toBe('replace (root) = {a: 1}');
  });

  it('reads an empty payload as none, JSON as its value, and refuses anything else', () => {
    expect(parsePayload('  ')).toEqual({ ok: true, payload: undefined });
    expect(parsePayload('{"to":"a@b"}')).toEqual({ ok: true, payload: { to: 'a@b' } });
    expect(parsePayload('{to: 1}')).toMatchObject({ ok: false, error: expect.stringContaining('not JSON') });
  });
});

describe('routes', () => {
  const routes: Route[] = [
    { view: 'actors' },
    { view: 'instances', name: 'counter', prefix: '' },
    { view: 'instances', name: 'counter', prefix: 'tenant/4?' },
    { view: 'instance', name: 'counter', id: 'a/b#c%d é' },
  ];
  it.each(routes)('round-trips %j through the hash', (route) => {
    expect(parseRoute(hrefOf(route))).toEqual(route);
  });

  it('falls back to the actors page on a malformed hash', () => {
    for (const hash of ['', '#', '#/x/y', '#/a/', '#/a/%E0%A4%A', '#/a/n/%zz', '#/a/n/i/extra']) expect(parseRoute(hash)).toEqual({ view: 'actors' });
  });
});
