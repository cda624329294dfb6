/**
 * Conformance: versionstamps. 10 bytes (8-byte big-endian commit version + 2-byte batch order),
 * strictly increasing in commit order; a tuple-encoded stamp carries 2 more bytes of user version.
 */
import { expect, it } from 'vitest';
import type { Backend, Transaction } from '../../src/backend/contract.js';
import type { Subspace } from '../../src/backend/subspace.js';
import { b, describeEngines, expectCode, interleave, rejection, sleep, text } from './harness.js';

/** The 12 bytes (stamp + user version) of a tuple-encoded versionstamp in `key`. */
function stampOf(s: Subspace, key: Uint8Array): Buffer {
  const item = s.unpack(key).find((x) => typeof x === 'object' && x !== null && 'type' in x && x.type === 'versionstamp');
  if (item === undefined) throw new Error('no versionstamp in key');
  return (item as { value: Buffer }).value;
}

const commitVersion = (stamp: Buffer): bigint => stamp.readBigUInt64BE(0);

/** Enqueues one versionstamped key under `s` with `value`; returns the commit's stamp and what the transaction saw. */
async function enqueue(db: Backend, s: Subspace, value: string) {
  return db.transact(async (tx) => {
    const readVersion = await tx.getReadVersion();
    const last = await tx.getRange(s.range().begin, s.range().end, { reverse: true, limit: 1, snapshot: true });
    const { key, stampOffset } = s.packVersionstamped([], 0);
    tx.setVersionstampedKey(key, stampOffset, b(value));
    return { readVersion, lastSeen: last[0] === undefined ? undefined : stampOf(s, last[0].key).subarray(0, 10), stamp: tx.getVersionstamp() };
  }).then(async (r) => ({ ...r, stamp: await r.stamp }));
}

describeEngines('versionstamps', (ctx) => {
  it('setVersionstampedKey writes the commit’s 10-byte stamp, the one getVersionstamp returns', async () => {
    const s = ctx.space();
    const { key, stampOffset } = s.packVersionstamped(['q'], 7, ['tail']);
    // returned inside an object: a body returning the promise itself would wait for its own commit
    const { stamp: pending } = await ctx.db.transact((tx) => {
      tx.setVersionstampedKey(key, stampOffset, b('message'));
      return { stamp: tx.getVersionstamp() };
    });
    const stamp = await pending;
    expect(stamp).toHaveLength(10);
    const rows = await ctx.db.transact((tx) => tx.getRange(s.range().begin, s.range().end));
    expect(rows).toHaveLength(1);
    const [q, vs, tail] = s.unpack(rows[0]!.key);
    expect(q).toBe('q');
    expect(tail).toBe('tail');
    const full = (vs as { value: Buffer }).value;
    expect(Buffer.compare(full.subarray(0, 10), stamp)).toBe(0);
    expect(full.readUInt16BE(10)).toBe(7);
    expect(text(rows[0]!.value)).toBe('message');
  });

  it('versionstamped keys and values are invisible to other transactions until their commit', async () => {
    const s = ctx.space();
    const seen: number[] = [];
    const { result } = await interleave(
      ctx.db,
      async (tx, pause) => {
        const { key, stampOffset } = s.packVersionstamped(['q'], 0);
        tx.setVersionstampedKey(key, stampOffset, b('v'));
        tx.setVersionstampedValue(s.pack(['value']), Buffer.alloc(10));
        await pause();
      },
      async (tx) => {
        seen.push((await tx.getRange(s.range().begin, s.range().end)).length);
      },
    );
    await result;
    expect(seen).toEqual([0]);
    expect(await ctx.db.transact((tx) => tx.getRange(s.range().begin, s.range().end))).toHaveLength(2);
  });

  it('reading what its own versionstamped writes may fill fails with accessed_unreadable, and so does the commit (as FoundationDB)', async () => {
    const s = ctx.space();
    await ctx.db.transact((tx) => tx.set(s.pack(['a']), b('a')));
    const stamped = (tx: Transaction) => {
      const { key, stampOffset } = s.packVersionstamped(['q'], 0);
      tx.setVersionstampedKey(key, stampOffset, b('v'));
      tx.setVersionstampedValue(s.pack(['value']), Buffer.alloc(10));
      return key;
    };
    const unreadable: Array<(tx: Transaction, key: Buffer) => Promise<unknown>> = [
      (tx, key) => tx.get(key),
      (tx) => tx.getRange(s.range().begin, s.range().end),
      (tx) => tx.getRange(s.range().begin, s.range().end, { snapshot: true }),
      (tx) => tx.get(s.pack(['value'])),
      // a plain set or add over a versionstamped value leaves it unreadable (FoundationDB 7.3)
      (tx) => (tx.set(s.pack(['value']), b('plain')), tx.get(s.pack(['value']))),
      (tx) => (tx.add(s.pack(['value']), 1), tx.get(s.pack(['value']))),
    ];
    for (const read of unreadable) {
      let caught: unknown;
      await expectCode(
        ctx.db.transact(async (tx) => {
          const key = stamped(tx);
          caught = await rejection(read(tx, key));
        }),
        'accessed_unreadable', // the body caught the read's error; the commit still fails
      );
      expect((caught as { code?: string }).code).toBe('accessed_unreadable');
    }
    await ctx.db.transact(async (tx) => {
      stamped(tx);
      // Reads that stop before the unreadable part, and other keys, still work.
      expect((await tx.getRange(s.range().begin, s.range().end, { limit: 1 })).map((kv) => text(kv.value))).toEqual(['a']);
      expect(text((await tx.get(s.pack(['a'])))!)).toBe('a');
      // A clear makes a versionstamped value readable again: then known to be absent, and a later set is read back.
      tx.clear(s.pack(['value']));
      expect(await tx.get(s.pack(['value']))).toBeUndefined();
      tx.set(s.pack(['value']), b('plain'));
      expect(text((await tx.get(s.pack(['value'])))!)).toBe('plain');
      // So does a clearRange over it.
      tx.setVersionstampedValue(s.pack(['value2']), Buffer.alloc(10));
      tx.clearRange(s.pack(['value2']), s.pack(['value3']));
      expect(await tx.get(s.pack(['value2']))).toBeUndefined();
    });
    expect(await ctx.db.transact((tx) => tx.getRange(s.range(['q']).begin, s.range(['q']).end))).toHaveLength(1);
  });

  it('several versionstamped keys in one transaction share the stamp and are ordered by user version', async () => {
    const s = ctx.space();
    await ctx.db.transact((tx) => {
      for (const user of [2, 0, 3, 1]) {
        const { key, stampOffset } = s.packVersionstamped(['q'], user);
        tx.setVersionstampedKey(key, stampOffset, b(`m${user}`));
      }
    });
    const rows = await ctx.db.transact((tx) => tx.getRange(s.range().begin, s.range().end));
    expect(rows.map((r) => text(r.value))).toEqual(['m0', 'm1', 'm2', 'm3']);
    const stamps = rows.map((r) => stampOf(s, r.key));
    expect(new Set(stamps.map((x) => x.subarray(0, 10).toString('hex'))).size).toBe(1);
    expect(stamps.map((x) => x.readUInt16BE(10))).toEqual([0, 1, 2, 3]);
  });

  it('setVersionstampedValue fills the stamp at offset 0 by default, or at the given offset', async () => {
    const s = ctx.space();
    const placeholder = Buffer.alloc(10, 0xff);
    const { stamp } = await ctx.db.transact((tx) => {
      tx.setVersionstampedValue(s.pack(['at0']), Buffer.concat([placeholder, b('-suffix')]));
      tx.setVersionstampedValue(s.pack(['at4']), Buffer.concat([b('pre-'), placeholder, b('-post')]), 4);
      return { stamp: tx.getVersionstamp() };
    });
    const vs = await stamp;
    const [at0, at4] = await ctx.db.transact(async (tx) => [await tx.get(s.pack(['at0'])), await tx.get(s.pack(['at4']))]);
    expect(at0).toEqual(Buffer.concat([vs, b('-suffix')]));
    expect(at4).toEqual(Buffer.concat([b('pre-'), vs, b('-post')]));
  });

  it('getVersionstamp resolves only after the commit, and the stamp is above the read version', async () => {
    const s = ctx.space();
    let early = false;
    let readVersion = 0n;
    const p = await ctx.db.transact(async (tx) => {
      readVersion = await tx.getReadVersion();
      tx.set(s.pack(['k']), b('v'));
      const stamp = tx.getVersionstamp();
      stamp.then(() => (early = true), () => {});
      await sleep(20);
      expect(early).toBe(false);
      return { stamp };
    });
    const stamp = await p.stamp;
    expect(stamp).toHaveLength(10);
    expect(commitVersion(stamp)).toBeGreaterThan(readVersion);
    const after = await ctx.db.transact((tx) => tx.getReadVersion());
    expect(after).toBeGreaterThanOrEqual(commitVersion(stamp));
  });

  it('getVersionstamp rejects when the transaction does not commit (body throws, or the attempt conflicts)', async () => {
    const s = ctx.space();
    let stamp: Promise<Buffer> | undefined;
    const thrown = new Error('rolled back');
    await expect(
      ctx.db.transact((tx) => {
        tx.set(s.pack(['k']), b('v'));
        stamp = tx.getVersionstamp();
        stamp.catch(() => {});
        throw thrown;
      }),
    ).rejects.toBe(thrown);
    await rejection(stamp!);

    const stamps: Promise<Buffer>[] = [];
    let attempts = 0;
    await ctx.db.transact(async (tx) => {
      attempts++;
      await tx.get(s.pack(['r']));
      const p = tx.getVersionstamp();
      p.catch(() => {});
      stamps.push(p);
      if (attempts === 1) await ctx.db.transact((o) => o.set(s.pack(['r']), b('conflict')));
      tx.set(s.pack(['w']), b('x'));
    });
    expect(attempts).toBe(2);
    await rejection(stamps[0]!);
    expect(await stamps[1]!).toHaveLength(10);
  });

  it('stamps of sequential transactions strictly increase', async () => {
    const s = ctx.space();
    const stamps: Buffer[] = [];
    for (let i = 0; i < 20; i++) stamps.push((await enqueue(ctx.db, s, String(i))).stamp);
    for (let i = 1; i < stamps.length; i++) expect(Buffer.compare(stamps[i - 1]!, stamps[i]!)).toBe(-1);
    const rows = await ctx.db.transact((tx) => tx.getRange(s.range().begin, s.range().end));
    expect(rows.map((r) => text(r.value))).toEqual(stamps.map((_, i) => String(i)));
  });

  it('versionstamp order equals commit order under 1,000 concurrent transactions', async () => {
    const s = ctx.space();
    const n = 1_000;
    const results = await Promise.all(Array.from({ length: n }, (_, i) => enqueue(ctx.db, s, String(i))));
    const hex = results.map((r) => r.stamp.toString('hex'));
    expect(new Set(hex).size).toBe(n);
    // the keys, in key order, are the stamps in increasing order, each under its own transaction's value
    const rows = await ctx.db.transact((tx) => tx.getRange(s.range().begin, s.range().end));
    expect(rows).toHaveLength(n);
    const byStamp = [...results.keys()].sort((x, y) => Buffer.compare(results[x]!.stamp, results[y]!.stamp));
    expect(rows.map((r) => text(r.value))).toEqual(byStamp.map(String));
    expect(rows.map((r) => stampOf(s, r.key).subarray(0, 10).toString('hex'))).toEqual(byStamp.map((i) => hex[i]));
    // each transaction saw exactly the commits up to its read version, all before its own stamp
    const sorted = byStamp.map((i) => results[i]!);
    for (const r of results) {
      if (r.lastSeen !== undefined) expect(Buffer.compare(r.lastSeen, r.stamp)).toBe(-1);
      let visible: Buffer | undefined;
      for (const o of sorted) if (commitVersion(o.stamp) <= r.readVersion) visible = o.stamp;
      expect(r.lastSeen?.toString('hex')).toBe(visible?.toString('hex'));
      expect(commitVersion(r.stamp)).toBeGreaterThan(r.readVersion);
    }
  });

  it('a transaction that starts after another committed gets a greater stamp (real-time order)', async () => {
    const s = ctx.space();
    const runs: { start: number; end: number; stamp: Buffer }[] = [];
    await Promise.all(
      Array.from({ length: 16 }, async (_, w) => {
        for (let i = 0; i < 25; i++) {
          const start = performance.now();
          const { stamp } = await enqueue(ctx.db, s, `${w}.${i}`);
          runs.push({ start, end: performance.now(), stamp });
        }
      }),
    );
    const byEnd = [...runs].sort((x, y) => x.end - y.end);
    const byStart = [...runs].sort((x, y) => x.start - y.start);
    let j = 0;
    let maxBefore: Buffer | undefined;
    let pairs = 0;
    for (const r of byStart) {
      while (j < byEnd.length && byEnd[j]!.end < r.start) {
        const e = byEnd[j++]!.stamp;
        if (maxBefore === undefined || Buffer.compare(e, maxBefore) > 0) maxBefore = e;
      }
      if (maxBefore !== undefined) {
        pairs++;
        expect(Buffer.compare(maxBefore, r.stamp)).toBe(-1);
      }
    }
    expect(pairs).toBeGreaterThan(300);
  });
});
