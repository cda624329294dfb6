/**
 * Conformance: reads, writes, ranges and atomic add, with read-your-writes inside a transaction.
 */
import { expect, it } from 'vitest';
import { b, describeEngines, dump, le64, rangeText, readLe64, text } from './harness.js';

describeEngines('reads and writes', (ctx) => {
  it('a committed set is read back by a later transaction; a missing key reads undefined', async () => {
    const s = ctx.space();
    await ctx.db.transact((tx) => tx.set(s.pack(['a']), b('1')));
    const [a, missing] = await ctx.db.transact(async (tx) => [await tx.get(s.pack(['a'])), await tx.get(s.pack(['b']))]);
    expect(text(a)).toBe('1');
    expect(missing).toBeUndefined();
    expect(Buffer.isBuffer(a)).toBe(true);
  });

  it('transact resolves with the value the body returns', async () => {
    await expect(ctx.db.transact(() => 42)).resolves.toBe(42);
    await expect(ctx.db.transact(async () => 'async')).resolves.toBe('async');
  });

  it('empty keys and values and arbitrary bytes round-trip', async () => {
    const s = ctx.space();
    const bytes = Buffer.from([0x00, 0xff, 0x01, 0xfe, 0x00]);
    await ctx.db.transact((tx) => {
      tx.set(s.pack(['empty']), Buffer.alloc(0));
      tx.set(s.pack([bytes]), bytes);
    });
    await ctx.db.transact(async (tx) => {
      const empty = await tx.get(s.pack(['empty']));
      expect(empty).toBeDefined();
      expect(empty!.length).toBe(0);
      expect(Buffer.compare((await tx.get(s.pack([bytes])))!, bytes)).toBe(0);
    });
  });

  it('the engine does not keep a reference to a written buffer', async () => {
    const s = ctx.space();
    const v = b('before');
    await ctx.db.transact((tx) => {
      tx.set(s.pack(['k']), v);
      v.write('AFTER!');
    });
    expect(await dump(ctx.db, s)).toEqual([[s.pack(['k']).toString(), 'before']]);
  });

  it('get sees the transaction’s own set, clear and clearRange (read-your-writes)', async () => {
    const s = ctx.space();
    await ctx.db.transact((tx) => {
      for (const k of ['a', 'b', 'c', 'd']) tx.set(s.pack([k]), b(`old-${k}`));
    });
    await ctx.db.transact(async (tx) => {
      tx.set(s.pack(['a']), b('new-a'));
      expect(text(await tx.get(s.pack(['a'])))).toBe('new-a');
      tx.clear(s.pack(['b']));
      expect(await tx.get(s.pack(['b']))).toBeUndefined();
      tx.clearRange(s.pack(['c']), s.pack(['e']));
      expect(await tx.get(s.pack(['c']))).toBeUndefined();
      expect(await tx.get(s.pack(['d']))).toBeUndefined();
      tx.set(s.pack(['d']), b('again-d'));
      expect(text(await tx.get(s.pack(['d'])))).toBe('again-d');
      tx.set(s.pack(['z']), b('fresh'));
      expect(text(await tx.get(s.pack(['z'])))).toBe('fresh');
    });
    expect((await dump(ctx.db, s)).map(([, v]) => v)).toEqual(['new-a', 'again-d', 'fresh']);
  });

  it('getRange merges the transaction’s own sets, clears, clearRange and add with committed data', async () => {
    const s = ctx.space();
    const k = (x: string) => s.pack([x]);
    await ctx.db.transact((tx) => {
      for (const x of ['a', 'c', 'e', 'g', 'i']) tx.set(k(x), b(x));
    });
    await ctx.db.transact(async (tx) => {
      tx.set(k('b'), b('B'));
      tx.set(k('c'), b('C'));
      tx.clear(k('e'));
      tx.clearRange(k('f'), k('h')); // removes g
      tx.add(k('h'), 7);
      const { begin, end } = s.range();
      const got = await tx.getRange(begin, end);
      expect(got.map((kv) => s.unpack(kv.key)[0])).toEqual(['a', 'b', 'c', 'h', 'i']);
      expect(got.map((kv) => kv.value.toString()).slice(0, 3)).toEqual(['a', 'B', 'C']);
      expect(readLe64(got[3]!.value)).toBe(7n);
      // the same merge in reverse and with a limit
      expect((await rangeText(tx, begin, end, { reverse: true, limit: 3 })).map(([, v]) => v)).toEqual(['i', le64(7).toString(), 'C']);
    });
  });

  it('getRange in a transaction whose only writes are clears skips the cleared keys', async () => {
    const s = ctx.space();
    await ctx.db.transact((tx) => {
      for (const x of ['a', 'b', 'c', 'd']) tx.set(s.pack([x]), b(x));
    });
    await ctx.db.transact(async (tx) => {
      tx.clearRange(s.pack(['b']), s.pack(['d']));
      expect((await rangeText(tx, s.range().begin, s.range().end)).map(([, v]) => v)).toEqual(['a', 'd']);
      expect((await rangeText(tx, s.range().begin, s.range().end, { limit: 1, reverse: true })).map(([, v]) => v)).toEqual(['d']);
    });
    await ctx.db.transact(async (tx) => {
      tx.clear(s.pack(['a']));
      expect((await rangeText(tx, s.range().begin, s.range().end, { limit: 1 })).map(([, v]) => v)).toEqual(['d']);
    });
  });

  it('getRange: begin is inclusive, end exclusive, results in key order', async () => {
    const s = ctx.space();
    await ctx.db.transact((tx) => {
      for (const x of ['d', 'a', 'c', 'b', 'e']) tx.set(s.pack([x]), b(x));
    });
    await ctx.db.transact(async (tx) => {
      const vals = async (from: string, to: string) => (await rangeText(tx, s.pack([from]), s.pack([to]))).map(([, v]) => v);
      expect(await vals('b', 'd')).toEqual(['b', 'c']);
      expect(await vals('a', 'e')).toEqual(['a', 'b', 'c', 'd']);
      expect(await vals('b', 'b')).toEqual([]);
      expect(await vals('bb', 'c')).toEqual([]);
      // raw byte bounds between keys
      const between = Buffer.concat([s.pack(['b']), Buffer.from([0x00])]);
      expect((await rangeText(tx, between, s.pack(['z']))).map(([, v]) => v)).toEqual(['c', 'd', 'e']);
    });
  });

  it('getRange with limit, reverse, and limit with reverse', async () => {
    const s = ctx.space();
    await ctx.db.transact((tx) => {
      for (let i = 0; i < 10; i++) tx.set(s.pack([i]), b(String(i)));
    });
    const { begin, end } = s.range();
    await ctx.db.transact(async (tx) => {
      const vals = async (o: { limit?: number; reverse?: boolean }) => (await rangeText(tx, begin, end, o)).map(([, v]) => v);
      expect(await vals({ limit: 3 })).toEqual(['0', '1', '2']);
      expect(await vals({ reverse: true })).toEqual(['9', '8', '7', '6', '5', '4', '3', '2', '1', '0']);
      expect(await vals({ limit: 2, reverse: true })).toEqual(['9', '8']);
      expect(await vals({ limit: 0 })).toHaveLength(10);
      expect(await vals({ limit: 100 })).toHaveLength(10);
      expect(await vals({ limit: 1, reverse: true })).toEqual(['9']);
    });
  });

  it('clearRange removes exactly [begin, end) and nothing outside it', async () => {
    const s = ctx.space();
    const outside = ctx.space();
    await ctx.db.transact((tx) => {
      for (let i = 0; i < 6; i++) tx.set(s.pack([i]), b(String(i)));
      tx.set(outside.pack([3]), b('x'));
    });
    await ctx.db.transact((tx) => tx.clearRange(s.pack([1]), s.pack([4])));
    expect((await dump(ctx.db, s)).map(([, v]) => v)).toEqual(['0', '4', '5']);
    expect(await dump(ctx.db, outside)).toHaveLength(1);
    // clearing an empty range is harmless
    await ctx.db.transact((tx) => tx.clearRange(s.pack([9]), s.pack([9])));
    expect(await dump(ctx.db, s)).toHaveLength(3);
  });

  it('a set after a clearRange in the same transaction wins, and a clearRange after a set removes it', async () => {
    const s = ctx.space();
    await ctx.db.transact((tx) => {
      tx.clearRange(s.range().begin, s.range().end);
      tx.set(s.pack(['kept']), b('1'));
      tx.set(s.pack(['lost']), b('2'));
      tx.clearRange(s.pack(['lost']), s.pack(['lost\x00']));
    });
    expect((await dump(ctx.db, s)).map(([k]) => s.unpack(b(k))[0])).toEqual(['kept']);
  });

  it('atomic add on a missing key stores the delta as a little-endian int64', async () => {
    const s = ctx.space();
    await ctx.db.transact((tx) => tx.add(s.pack(['n']), 5));
    const v = await ctx.db.transact((tx) => tx.get(s.pack(['n'])));
    expect(v).toEqual(le64(5));
    expect(v!.length).toBe(8);
  });

  it('atomic add on a present key adds, with negative deltas and bigints', async () => {
    const s = ctx.space();
    const k = s.pack(['n']);
    await ctx.db.transact((tx) => tx.set(k, le64(100)));
    await ctx.db.transact((tx) => tx.add(k, 23));
    expect(readLe64(await ctx.db.transact((tx) => tx.get(k)))).toBe(123n);
    await ctx.db.transact((tx) => tx.add(k, -200));
    expect(readLe64(await ctx.db.transact((tx) => tx.get(k)))).toBe(-77n);
    await ctx.db.transact((tx) => tx.add(k, 2n ** 40n));
    expect(readLe64(await ctx.db.transact((tx) => tx.get(k)))).toBe(2n ** 40n - 77n);
    await ctx.db.transact((tx) => tx.add(s.pack(['neg']), -1n));
    expect(await ctx.db.transact((tx) => tx.get(s.pack(['neg'])))).toEqual(Buffer.alloc(8, 0xff));
  });

  it('atomic add wraps around at 64 bits like FoundationDB', async () => {
    const s = ctx.space();
    const k = s.pack(['n']);
    await ctx.db.transact((tx) => tx.add(k, 2n ** 63n - 1n));
    await ctx.db.transact((tx) => tx.add(k, 1));
    expect(readLe64(await ctx.db.transact((tx) => tx.get(k)))).toBe(-(2n ** 63n));
  });

  it('several adds in one transaction accumulate and are read back inside it', async () => {
    const s = ctx.space();
    const k = s.pack(['n']);
    await ctx.db.transact((tx) => tx.set(k, le64(10)));
    await ctx.db.transact(async (tx) => {
      tx.add(k, 1);
      tx.add(k, 2);
      expect(readLe64(await tx.get(k))).toBe(13n);
      tx.add(k, 3);
      expect(readLe64(await tx.get(k))).toBe(16n);
      tx.clear(k);
      tx.add(k, 4);
      expect(readLe64(await tx.get(k))).toBe(4n);
    });
    expect(readLe64(await ctx.db.transact((tx) => tx.get(k)))).toBe(4n);
  });

  it('values read are stable copies: later reads, mutation by the caller and the end of the transaction leave them intact', async () => {
    const s = ctx.space();
    await ctx.db.transact((tx) => {
      for (let i = 0; i < 50; i++) tx.set(s.pack([i]), b(`value-${i}`.padEnd(40, '.')));
    });
    const [first, range] = await ctx.db.transact(async (tx) => {
      const first = await tx.get(s.pack([0]));
      const range = await tx.getRange(s.range().begin, s.range().end, { limit: 10 });
      for (let i = 10; i < 50; i++) await tx.get(s.pack([i]));
      await tx.getRange(s.range().begin, s.range().end, { reverse: true });
      return [first!, range] as const;
    });
    for (let i = 0; i < 100; i++) await ctx.db.transact((tx) => tx.get(s.pack([i % 50])));
    expect(text(first)).toBe('value-0'.padEnd(40, '.'));
    expect(range.map((kv) => text(kv.value))).toEqual(Array.from({ length: 10 }, (_, i) => `value-${i}`.padEnd(40, '.')));
    expect(range.map((kv) => s.unpack(kv.key)[0])).toEqual(Array.from({ length: 10 }, (_, i) => i));
    first.fill(0x21);
    range[1]!.value.fill(0x21);
    range[2]!.key.fill(0x21);
    await ctx.db.transact(async (tx) => {
      expect(text(await tx.get(s.pack([0])))).toBe('value-0'.padEnd(40, '.'));
      expect(text(await tx.get(s.pack([1])))).toBe('value-1'.padEnd(40, '.'));
      expect(text(await tx.get(s.pack([2])))).toBe('value-2'.padEnd(40, '.'));
    });
  });

  it('ranges of thousands of keys read whole, by limit and in reverse', async () => {
    const s = ctx.space();
    const n = 3_000;
    for (let from = 0; from < n; from += 1_000) {
      await ctx.db.transact((tx) => {
        for (let i = from; i < from + 1_000; i++) tx.set(s.pack([i]), b(String(i)));
      });
    }
    await ctx.db.transact(async (tx) => {
      const { begin, end } = s.range();
      const all = await tx.getRange(begin, end);
      expect(all).toHaveLength(n);
      expect(all.every((kv, i) => text(kv.value) === String(i))).toBe(true);
      expect((await tx.getRange(begin, end, { reverse: true, limit: 3 })).map((kv) => text(kv.value))).toEqual(['2999', '2998', '2997']);
      expect((await tx.getRange(s.pack([1_500]), end, { limit: 2 })).map((kv) => text(kv.value))).toEqual(['1500', '1501']);
      expect((await tx.getRange(begin, s.pack([1_500]), { reverse: true, limit: 2 })).map((kv) => text(kv.value))).toEqual(['1499', '1498']);
    });
  });

  it('the last write to a key in a transaction wins', async () => {
    const s = ctx.space();
    const k = s.pack(['k']);
    await ctx.db.transact((tx) => {
      tx.set(k, b('1'));
      tx.set(k, b('2'));
      tx.clear(k);
      tx.set(k, b('3'));
    });
    expect(text(await ctx.db.transact((tx) => tx.get(k)))).toBe('3');
  });
});
