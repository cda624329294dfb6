import { describe, expect, it } from 'vitest';
import { RangeSet } from '../../src/backend/ranges.js';
import { SortedKeys } from '../../src/backend/sorted-keys.js';
import { WriteBuffer, type SnapshotReader, type StoredEntry } from '../../src/backend/write-buffer.js';
import { applyAdd, toDelta, versionstamp } from '../../src/backend/bytes.js';
import { seededRandom } from '../../src/backend/random.js';

/** A snapshot over a plain sorted map. */
function snapshotOf(entries: Record<string, string>): SnapshotReader {
  const keys = Object.keys(entries).sort();
  return {
    get: (k) => (k in entries ? Buffer.from(entries[k]!, 'latin1') : undefined),
    range(begin, end, reverse) {
      const inRange = keys.filter((k) => k >= begin && k < end);
      if (reverse) inRange.reverse();
      return inRange.map((key): StoredEntry => ({ key, value: Buffer.from(entries[key]!, 'latin1') }))[Symbol.iterator]();
    },
  };
}
const view = (es: StoredEntry[]) => es.map((e) => `${e.key}=${e.value.length === 8 ? e.value.readBigInt64LE(0) : e.value.toString('latin1')}`);

describe('WriteBuffer', () => {
  const snap = snapshotOf({ a: '1', b: '2', c: '3', d: '4', e: '5' });

  it('merges sets, clears, cleared ranges and adds over the snapshot, forward and reverse with limits', () => {
    const w = new WriteBuffer();
    w.set('bb', Buffer.from('x'));
    w.clear('c');
    w.clearRange('d', 'e');
    w.add('a', 5n);
    w.add('z', 1n);
    w.set('dd', Buffer.from('y')); // set after the clear range: visible
    expect(view(w.readRange('', '\xff', 0, false, snap))).toEqual(['a=54', 'b=2', 'bb=x', 'dd=y', 'e=5', 'z=1']);
    expect(view(w.readRange('', '\xff', 3, true, snap))).toEqual(['z=1', 'e=5', 'dd=y']);
    expect(view(w.readRange('b', 'e', 2, false, snap))).toEqual(['b=2', 'bb=x']);
    expect(w.read('a', snap)!.readBigInt64LE(0)).toBe(0x31n + 5n); // '1' is 0x31, zero-padded
    expect(w.read('c', snap)).toBeUndefined();
    expect(w.read('d', snap)).toBeUndefined();
    expect(w.touches('d')).toBe(true);
    expect(w.touches('e')).toBe(false);
  });

  it('turns adds over known values into values, and keeps the mutation log in order', () => {
    const w = new WriteBuffer();
    w.clear('k');
    w.add('k', toDelta(-2));
    w.add('k', 3n);
    expect(w.lookup('k')!.value!.readBigInt64LE(0)).toBe(1n);
    w.add('u', 1n);
    w.add('u', 2n);
    expect(w.lookup('u')).toEqual({ value: undefined, delta: 3n });
    expect(w.mutations.map((m) => m.type)).toEqual(['clear', 'add', 'add', 'add', 'add']);
  });

  it('does not read versionstamped writes back', () => {
    const w = new WriteBuffer();
    w.setVersionstampedValue('a', Buffer.alloc(10), 0);
    w.setVersionstampedKey(Buffer.from('q\0\0\0\0\0\0\0\0\0\0'), 1, Buffer.from('v'));
    expect(w.read('a', snap)!.toString()).toBe('1');
    expect(view(w.readRange('p', 'r', 0, false, snap))).toEqual([]);
    expect(w.touches('a')).toBe(true);
  });

  it('counts bytes toward the 10 MB transaction limit', () => {
    const w = new WriteBuffer();
    for (let i = 0; i < 99; i++) w.set(`k${i}`, Buffer.alloc(100_000));
    expect(() => w.set('last', Buffer.alloc(100_000))).toThrow(expect.objectContaining({ code: 'transaction_too_large' }));
    expect(w.mutations).toHaveLength(99);
  });
});

describe('RangeSet', () => {
  it('merges overlapping and adjacent ranges and answers membership and intersection', () => {
    const r = new RangeSet();
    r.add('c', 'e');
    r.add('a', 'b');
    r.add('e', 'f');
    r.add('x', 'x'); // empty
    expect([...r]).toEqual([
      ['a', 'b'],
      ['c', 'f'],
    ]);
    r.add('b', 'c');
    expect([...r]).toEqual([['a', 'f']]);
    expect(r.has('a')).toBe(true);
    expect(r.has('f')).toBe(false);
    expect(r.intersects('f', 'g')).toBe(false);
    expect(r.intersects('e\xff', 'g')).toBe(true);
    expect(r.intersects('', 'a')).toBe(false);
  });
});

describe('SortedKeys', () => {
  it('stays sorted through many random inserts and deletes, and iterates ranges both ways', () => {
    const rnd = seededRandom(5);
    const s = new SortedKeys();
    const ref = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const k = String.fromCharCode(...Array.from({ length: 1 + Math.floor(rnd.next() * 4) }, () => Math.floor(rnd.next() * 256)));
      if (rnd.next() < 0.7) expect(s.insert(k)).toBe(!ref.has(k)), ref.add(k);
      else expect(s.delete(k)).toBe(ref.has(k)), ref.delete(k);
    }
    const sorted = [...ref].sort();
    expect(s.size).toBe(sorted.length);
    expect([...s.range('', '\xff\xff\xff\xff\xff')]).toEqual(sorted);
    const [lo, hi] = ['\x40', '\xa0'];
    const inside = sorted.filter((k) => k >= lo && k < hi);
    expect([...s.range(lo, hi)]).toEqual(inside);
    expect([...s.range(lo, hi, true)]).toEqual([...inside].reverse());
  });
});

describe('bytes', () => {
  it('adds modulo 2^64 and builds 10-byte big-endian versionstamps', () => {
    expect(applyAdd(Buffer.from('ffffffffffffffff', 'hex'), 1n)).toEqual(Buffer.alloc(8));
    expect(applyAdd(undefined, toDelta(-1))).toEqual(Buffer.from('ffffffffffffffff', 'hex'));
    expect(() => toDelta(1.5)).toThrow(expect.objectContaining({ code: 'invalid_operation' }));
    expect(versionstamp(258, 1)).toEqual(Buffer.from('00000000000001020001', 'hex'));
  });
});

describe('WriteBuffer against a model', () => {
  it('reads back what interleaved sets, clears, adds and range clears wrote, over a snapshot, in both directions', () => {
    const rng = seededRandom(5);
    const random = () => rng.next();
    const keyOf = () => `k${String(Math.floor(random() * 200)).padStart(3, '0')}`;
    const base: Record<string, string> = {};
    for (let i = 0; i < 200; i += 3) base[`k${String(i).padStart(3, '0')}`] = `s${i}`;
    const snap = snapshotOf(base);
    const model = new Map<string, Buffer>(Object.entries(base).map(([k, v]) => [k, Buffer.from(v, 'latin1')]));
    const w = new WriteBuffer();
    for (let step = 0; step < 3_000; step++) {
      const r = random();
      const k = keyOf();
      if (r < 0.4) {
        const v = Buffer.from(`v${step}`);
        w.set(k, v);
        model.set(k, v);
      } else if (r < 0.55) {
        w.clear(k);
        model.delete(k);
      } else if (r < 0.7) {
        w.add(k, 1n);
        model.set(k, applyAdd(model.get(k), 1n));
      } else if (r < 0.85) {
        const [a, z] = [k, keyOf()].sort() as [string, string];
        w.clearRange(a, z);
        for (const key of [...model.keys()]) if (key >= a && key < z) model.delete(key);
      } else {
        const [a, z] = [k, keyOf()].sort() as [string, string];
        const reverse = random() < 0.5;
        const limit = Math.floor(random() * 5);
        let expected = [...model.keys()].filter((key) => key >= a && key < z).sort();
        if (reverse) expected.reverse();
        if (limit > 0) expected = expected.slice(0, limit);
        expect(view(w.readRange(a, z, limit, reverse, snap)), `step ${step}`).toEqual(expected.map((key) => view([{ key, value: model.get(key)! }])[0]));
      }
    }
  });
});

