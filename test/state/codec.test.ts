import { describe, expect, it } from 'vitest';
import { decodeValue, encodeValue, validateValue } from '../../src/state/codec.js';
import { CorruptDataError, UnserializableValueError } from '../../src/state/errors.js';
import { difference, prng } from './support.js';

const roundTrip = (v: unknown) => decodeValue(encodeValue(v));

function expectExact(v: unknown): void {
  const back = roundTrip(v);
  expect(difference(v, back)).toBeUndefined();
}

function rejection(v: unknown, root = 'value'): UnserializableValueError {
  try {
    encodeValue(v, root);
  } catch (e) {
    expect(e).toBeInstanceOf(UnserializableValueError);
    const u = e as UnserializableValueError;
    expect(u.code).toBe('unserializable_value');
    // validateValue agrees with the encoder
    expect(() => validateValue(v, root)).toThrow(u.message);
    return u;
  }
  throw new Error('expected a rejection');
}

describe('encodeValue / decodeValue', () => {
  it('round-trips every primitive exactly', () => {
    for (const v of [undefined, null, true, false, '', 'abc', 'é漢字🙂', 'lone \uD800 high', 'lone \uDC00 low', 'x'.repeat(200)]) expectExact(v);
    for (const n of [0, -0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 2 ** 53, -(2 ** 53), 0.1, 1e300, 5e-324, NaN, Infinity, -Infinity]) {
      expect(Object.is(roundTrip(n), n)).toBe(true);
    }
    for (const b of [0n, 1n, -1n, 255n, 256n, -(2n ** 64n), 2n ** 1000n + 7n]) expect(roundTrip(b)).toBe(b);
  });

  it('round-trips Date (invalid too), Uint8Array and Buffer, each as its own class', () => {
    expectExact(new Date(0));
    expectExact(new Date(-8.64e15));
    const invalid = roundTrip(new Date(NaN)) as Date;
    expect(invalid).toBeInstanceOf(Date);
    expect(invalid.getTime()).toBeNaN();
    const u8 = roundTrip(new Uint8Array([0, 1, 255])) as Uint8Array;
    expect(Object.getPrototypeOf(u8)).toBe(Uint8Array.prototype);
    expect([...u8]).toEqual([0, 1, 255]);
    const buf = roundTrip(Buffer.from('hi')) as Buffer;
    expect(Buffer.isBuffer(buf)).toBe(true);
    expect(buf.toString()).toBe('hi');
    // a view into a larger buffer encodes only its bytes, and the result does not alias the input
    const view = new Uint8Array([9, 8, 7, 6]).subarray(1, 3);
    const bytes = encodeValue(view);
    const back = decodeValue(bytes) as Uint8Array;
    expect([...back]).toEqual([8, 7]);
    bytes.fill(0);
    expect([...back]).toEqual([8, 7]);
  });

  it('round-trips objects (null-prototype, __proto__ key), arrays and undefined inside them', () => {
    expectExact({ a: 1, b: { c: [1, 'x', undefined, null] }, u: undefined });
    const bare = Object.assign(Object.create(null), { x: 1, nested: Object.create(null) });
    const back = roundTrip(bare) as Record<string, unknown>;
    expect(Object.getPrototypeOf(back)).toBeNull();
    expect(Object.getPrototypeOf(back.nested)).toBeNull();
    const proto = JSON.parse('{"__proto__": {"polluted": true}, "k": 1}');
    const p = roundTrip(proto) as Record<string, unknown>;
    expect(Object.getPrototypeOf(p)).toBe(Object.prototype);
    expect(Object.keys(p)).toEqual(['__proto__', 'k']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expectExact({ 'lone\uD800': 1, '': 2, '0': 3 });
    expectExact([]);
    expectExact([[[]]]);
  });

  it('keeps object key order and Map/Set iteration order', () => {
    const o = { z: 1, a: 2, m: 3 };
    expect(Object.keys(roundTrip(o) as object)).toEqual(['z', 'a', 'm']);
    const m = new Map<unknown, unknown>([['z', 1], [1, 2], [{ k: 1 }, 3], [undefined, new Set([3, 1, 2])]]);
    expectExact(m);
    expectExact(new Set(['b', 'a', -0, NaN, new Map([[1n, new Date(5)]])]));
  });

  it('turns array holes into undefined and shared references into copies', () => {
    // eslint-disable-next-line no-sparse-arrays
    const holes = roundTrip([1, , 3]) as unknown[];
    expect(holes).toHaveLength(3);
    expect(1 in holes).toBe(true);
    expect(holes[1]).toBeUndefined();
    const shared = { x: 1 };
    const back = roundTrip({ a: shared, b: shared }) as { a: object; b: object };
    expect(back.a).toEqual(back.b);
    expect(back.a).not.toBe(back.b);
  });

  it('is compact for small values', () => {
    expect(encodeValue(1).length).toBe(2);
    expect(encodeValue('ab').length).toBe(4);
    expect(encodeValue({ count: 1 }).length).toBe(11);
    expect(encodeValue([1, 2, 3]).length).toBe(8);
  });

  it('rejects what it cannot store, with the path and the reason', () => {
    let e = rejection({ items: [{ ok: 1 }, { ok: 2 }, { ok: 3 }, { fn: () => 1 }] }, 'state');
    expect(e.path).toBe('state.items[3].fn');
    expect(e.reason).toMatch(/function/);
    e = rejection({ s: Symbol('x') }, 'payload');
    expect(e.path).toBe('payload.s');
    expect(e.reason).toMatch(/symbol/);
    class Point {
      constructor(readonly x: number) {}
    }
    e = rejection({ 'a b': [new Point(1)] });
    expect(e.path).toBe('value["a b"][0]');
    expect(e.reason).toMatch(/instance of Point/);
    e = rejection(new Map([['k', new WeakMap()]]));
    expect(e.path).toBe('value.get("k")');
    expect(e.reason).toMatch(/WeakMap/);
    e = rejection(new Set([1, Promise.resolve()]));
    expect(e.path).toBe('value.values()[1]');
    e = rejection(new Map([[new Int32Array(1), 1]]));
    expect(e.path).toBe('value.keys()[0]');
    expect(e.reason).toMatch(/Int32Array.*Uint8Array/);
    e = rejection(new (class Custom extends Map {})());
    expect(e.path).toBe('value');
    e = rejection({ r: /x/ });
    expect(e.reason).toMatch(/RegExp/);
  });

  it('rejects cycles and names where the value contains itself', () => {
    const a: Record<string, unknown> = { name: 'a' };
    const b = { list: [1, a] };
    a.child = b;
    const e = rejection({ root: a }, 'state');
    expect(e.path).toBe('state.root.child.list[1]');
    expect(e.reason).toMatch(/cycle.*same object as state\.root\b/);
    const m = new Map<string, unknown>();
    m.set('self', m);
    expect(rejection(m).path).toBe('value.get("self")');
    // shared but acyclic is fine
    const shared = { x: 1 };
    expect(() => encodeValue([shared, shared, { again: shared }])).not.toThrow();
  });

  it('rejects nesting deeper than 1000 levels', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 1001; i++) deep = [deep];
    expect(rejection(deep).reason).toMatch(/deeper than 1000/);
    let ok: unknown = 1;
    for (let i = 0; i < 999; i++) ok = { x: ok };
    expectExact(ok);
  });

  it('throws CorruptDataError on bytes it did not write', () => {
    for (const bad of [Buffer.from([]), Buffer.from([0x7f]), Buffer.from([0x06, 5, 0x61]), Buffer.from([0x01, 0x01]), Buffer.from([0x10, 0xff, 0xff, 0x03])]) {
      expect(() => decodeValue(bad)).toThrow(CorruptDataError);
    }
  });

  it('round-trips strings around the short-string boundary, in every script', () => {
    for (const unit of ['a', 'é', '漢', '🙂', '\uD800', 'a\uDC00']) {
      for (let n = 0; n < 50; n++) expectExact(unit.repeat(n));
      expectExact(unit.repeat(1000));
    }
    expectExact(`${'a'.repeat(30)}é`);
  });

  it('round-trips random values', () => {
    const r = prng(42);
    const leaves = [undefined, null, true, 0, -0, 1.5, -7, 2 ** 40, NaN, 'x', 'é\uD800', 12n, new Date(3), new Uint8Array([1]), Buffer.from('b')];
    const gen = (depth: number): unknown => {
      const k = Math.floor(r() * 7);
      if (depth === 0 || k < 3) return leaves[Math.floor(r() * leaves.length)];
      const n = Math.floor(r() * 4);
      if (k === 3) return Array.from({ length: n }, () => gen(depth - 1));
      if (k === 4) return Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}${'é'.repeat(i)}`, gen(depth - 1)]));
      if (k === 5) return new Map(Array.from({ length: n }, () => [gen(depth - 1), gen(depth - 1)]));
      return new Set(Array.from({ length: n }, () => gen(depth - 1)));
    };
    for (let i = 0; i < 2000; i++) expectExact(gen(4));
  });

  it('decodes from a plain Uint8Array too', () => {
    const bytes = encodeValue({ a: [1, 'x'] });
    expect(decodeValue(new Uint8Array(bytes))).toEqual({ a: [1, 'x'] });
  });
});
