/**
 * Engine behaviours the memory and LMDB engines share, run by memory.test.ts and lmdb.test.ts.
 * (The contract-wide suite for every engine is test/conformance/.)
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Backend, Transaction } from '../../src/backend/contract.js';
import { NotCommittedError } from '../../src/backend/errors.js';

export const b = (s: string) => Buffer.from(s, 'latin1');
const str = (v: Buffer | undefined) => v?.toString('latin1');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A pair of latches to interleave two transactions deterministically. */
function latch() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}

export function engineCases(name: string, open: () => Promise<Backend> | Backend, dispose?: (db: Backend) => Promise<void>) {
  describe(`${name} engine`, () => {
    let db: Backend;
    beforeEach(async () => {
      db = await open();
    });
    afterEach(async () => {
      if (!db.closed) await db.close();
      await dispose?.(db);
    });

    const put = (pairs: Record<string, string>) =>
      db.transact((tx) => {
        for (const [k, v] of Object.entries(pairs)) tx.set(b(k), b(v));
      });
    const read = (k: string) => db.transact((tx) => tx.get(b(k))).then(str);

    it('reads its own writes in get and getRange, honouring limit and reverse', async () => {
      await put({ a: '1', b: '2', c: '3', d: '4' });
      const seen = await db.transact(async (tx) => {
        tx.set(b('bb'), b('x'));
        tx.clear(b('c'));
        tx.add(b('n'), 2);
        const all = (await tx.getRange(b('a'), b('z'))).map((e) => str(e.key));
        const rev = (await tx.getRange(b('a'), b('z'), { reverse: true, limit: 3 })).map((e) => str(e.key));
        tx.clearRange(b('a'), b('b'));
        const afterClear = (await tx.getRange(b(''), b('\xff'), { limit: 2 })).map((e) => str(e.key));
        return { all, rev, afterClear, c: await tx.get(b('c')), bb: str(await tx.get(b('bb'))) };
      });
      expect(seen).toEqual({
        all: ['a', 'b', 'bb', 'd', 'n'],
        rev: ['n', 'd', 'bb'],
        afterClear: ['b', 'bb'],
        c: undefined,
        bb: 'x',
      });
      expect(await read('a')).toBeUndefined();
      expect(await read('c')).toBeUndefined();
    });

    it('reads a consistent snapshot while others commit', async () => {
      await put({ a: '1' });
      const first = latch();
      const second = latch();
      const reader = db.transact(
        async (tx) => {
          const before = str(await tx.get(b('a'), { snapshot: true }));
          first.open();
          await second.opened;
          const after = str(await tx.get(b('a'), { snapshot: true }));
          const range = (await tx.getRange(b('a'), b('z'), { snapshot: true })).map((e) => str(e.key));
          return { before, after, range };
        },
        { retryLimit: 0 },
      );
      await first.opened;
      await put({ a: '2', b: '3' });
      second.open();
      expect(await reader).toEqual({ before: '1', after: '1', range: ['a'] });
      expect(await read('a')).toBe('2');
    });

    it('fails a transaction whose read key was written after its read version, and retries it', async () => {
      await put({ x: '0' });
      let runs = 0;
      const go = latch();
      const done = db.transact(async (tx) => {
        runs++;
        const v = Number(str(await tx.get(b('x'))));
        if (runs === 1) await go.opened;
        tx.set(b('x'), b(String(v + 10)));
      });
      await sleep(5);
      await db.transact(async (tx) => tx.set(b('x'), b(String(Number(str(await tx.get(b('x')))) + 1))));
      go.open();
      await done;
      expect(runs).toBe(2);
      expect(await read('x')).toBe('11');
      expect(db.stats().conflicts).toBeGreaterThanOrEqual(1);
    });

    it('limited range reads conflict only on what they read; snapshot reads and blind writes never conflict', async () => {
      await put({ q1: 'a', q2: 'b', q3: 'c' });
      const attempt = async (body: (tx: Transaction) => Promise<void>, concurrent: Record<string, string>) => {
        let runs = 0;
        const go = latch();
        const t = db.transact(async (tx) => {
          runs++;
          await body(tx);
          if (runs === 1) await go.opened;
          tx.set(b('out'), b(String(runs)));
        });
        await sleep(2);
        await put(concurrent);
        go.open();
        await t;
        return runs;
      };
      // Read q1 only (limit 1); a write to q3 is outside what was read.
      expect(await attempt(async (tx) => void (await tx.getRange(b('q'), b('r'), { limit: 1 })), { q3: 'z' })).toBe(1);
      // A write inside the read part conflicts.
      expect(await attempt(async (tx) => void (await tx.getRange(b('q'), b('r'), { limit: 2 })), { q2: 'z' })).toBe(2);
      // Reverse limit 1 reads q3 .. end.
      expect(await attempt(async (tx) => void (await tx.getRange(b('q'), b('r'), { limit: 1, reverse: true })), { q1: 'y' })).toBe(1);
      expect(await attempt(async (tx) => void (await tx.getRange(b('q'), b('r'), { limit: 1, reverse: true })), { q4: 'y' })).toBe(2);
      // A key inserted into a fully read range conflicts (phantom).
      expect(await attempt(async (tx) => void (await tx.getRange(b('q'), b('r'))), { q25: 'new' })).toBe(2);
      expect(await attempt(async (tx) => void (await tx.get(b('q1'), { snapshot: true })), { q1: 's' })).toBe(1);
      expect(await attempt(async (tx) => tx.add(b('ctr'), 1), { ctr: '\x05\x00\x00\x00\x00\x00\x00\x00' })).toBe(1);
      expect(await attempt(async (tx) => tx.addReadConflictRange(b('m'), b('n')), { m5: 'x' })).toBe(2);
      expect(await attempt(async (tx) => tx.addReadConflictKey(b('k')), { k: 'x' })).toBe(2);
    });

    it('adds little-endian int64 atomically, negative deltas and bigint included', async () => {
      await Promise.all(Array.from({ length: 20 }, () => db.transact((tx) => tx.add(b('n'), 3))));
      await db.transact((tx) => tx.add(b('n'), -100n));
      const v = await db.transact((tx) => tx.get(b('n')));
      expect(v!.readBigInt64LE(0)).toBe(-40n);
      await db.transact((tx) => {
        tx.set(b('short'), Buffer.from([1]));
        tx.add(b('short'), 1);
      });
      expect([...(await db.transact((tx) => tx.get(b('short'))))!]).toEqual([2, 0, 0, 0, 0, 0, 0, 0]);
    });

    it('fills versionstamps in keys and values, increasing in commit order', async () => {
      const stamps: Buffer[] = [];
      for (let i = 0; i < 3; i++) {
        const p = await db.transact(async (tx) => {
          const before = await tx.get(b('last')); // read first: once written, it is unreadable until commit
          tx.setVersionstampedKey(Buffer.concat([b('q/'), Buffer.alloc(10), b('/x')]), 2, b(String(i)));
          tx.setVersionstampedValue(b('last'), Buffer.concat([b('v:'), Buffer.alloc(10)]), 2);
          expect(before === undefined || before.subarray(2).equals(stamps[i - 1]!)).toBe(true);
          return { stamp: tx.getVersionstamp() };
        });
        stamps.push(await p.stamp);
      }
      expect(stamps.every((s) => s.length === 10)).toBe(true);
      expect(Buffer.compare(stamps[0]!, stamps[1]!)).toBe(-1);
      expect(Buffer.compare(stamps[1]!, stamps[2]!)).toBe(-1);
      const queue = await db.transact((tx) => tx.getRange(b('q/'), b('q0')));
      expect(queue.map((e) => e.key.subarray(2, 12))).toEqual(stamps);
      expect(queue.map((e) => str(e.value))).toEqual(['0', '1', '2']);
      const last = await db.transact((tx) => tx.get(b('last')));
      expect(last!.subarray(2)).toEqual(stamps[2]);
    });

    it('rejects getVersionstamp of an attempt that did not commit', async () => {
      let first: Promise<Buffer> | undefined;
      let runs = 0;
      await db.transact(async (tx) => {
        tx.set(b('k'), b('v'));
        if (runs++ === 0) {
          first = tx.getVersionstamp();
          throw new NotCommittedError();
        }
      });
      await expect(first).rejects.toMatchObject({ code: 'not_committed' });
    });

    it('fires a watch after a later commit changes the key, and not for unchanged writes', async () => {
      await put({ w: '1' });
      const watch = await db.transact((tx) => tx.watch(b('w')));
      let fired = false;
      void watch.promise.then((v) => (fired = v));
      await put({ w: '1' });
      await sleep(60);
      expect(fired).toBe(false);
      await put({ w: '2' });
      expect(await watch.promise).toBe(true);
    });

    it('fires at once when the key changed between the read and the commit', async () => {
      await put({ w: '1' });
      const go = latch();
      const p = db.transact(async (tx) => {
        await tx.get(b('w'), { snapshot: true });
        await go.opened;
        return tx.watch(b('w'));
      });
      await sleep(2);
      await put({ w: '2' });
      go.open();
      expect(await (await p).promise).toBe(true);
    });

    it('settles watches false on cancel, on rollback and on close', async () => {
      const w1 = await db.transact((tx) => tx.watch(b('a')));
      w1.cancel();
      expect(await w1.promise).toBe(false);
      let rolledBack: Promise<boolean> | undefined;
      await expect(
        db.transact((tx) => {
          rolledBack = tx.watch(b('a')).promise;
          throw new Error('body failed');
        }),
      ).rejects.toThrow('body failed');
      expect(await rolledBack).toBe(false);
      const w3 = await db.transact((tx) => tx.watch(b('a')));
      await db.close();
      expect(await w3.promise).toBe(false);
      await expect(db.transact((tx) => tx.get(b('a')))).rejects.toMatchObject({ code: 'closed' });
    });

    it('enforces key, value and transaction size limits at the call', async () => {
      await expect(db.transact((tx) => tx.set(Buffer.alloc(10_001), b('v')))).rejects.toMatchObject({ code: 'key_too_large' });
      await expect(db.transact((tx) => tx.set(b('k'), Buffer.alloc(100_001)))).rejects.toMatchObject({ code: 'value_too_large' });
      await expect(
        db.transact((tx) => {
          for (let i = 0; i < 101; i++) tx.set(b(`k${i}`), Buffer.alloc(100_000));
        }),
      ).rejects.toMatchObject({ code: 'transaction_too_large' });
      await expect(db.transact((tx) => tx.setVersionstampedKey(b('short'), 0, b('v')))).rejects.toMatchObject({ code: 'invalid_operation' });
    });

    it('stores keys of every length up to 10,000 bytes in bytewise order', async () => {
      const keys = [
        Buffer.alloc(0),
        Buffer.from([0]),
        Buffer.alloc(1977, 0x61),
        Buffer.concat([Buffer.alloc(1977, 0x61), Buffer.from([0])]),
        Buffer.alloc(1978, 0x61),
        Buffer.concat([Buffer.alloc(3000, 0x61), Buffer.from([1])]),
        Buffer.concat([Buffer.alloc(3000, 0x61), Buffer.from([2])]),
        Buffer.alloc(10_000, 0x61),
        Buffer.concat([Buffer.alloc(1990, 0x61), Buffer.from([0x62])]),
        Buffer.from('b'),
        Buffer.alloc(10_000, 0xff),
      ];
      await db.transact((tx) => keys.forEach((k, i) => tx.set(k, Buffer.from([i]))));
      const sorted = [...keys].sort(Buffer.compare);
      const all = await db.transact((tx) => tx.getRange(Buffer.alloc(0), Buffer.alloc(10_000, 0xff).subarray(0, 9_999).fill(0xff)));
      expect(all.map((e) => e.key)).toEqual(sorted.filter((k) => Buffer.compare(k, Buffer.alloc(9_999, 0xff)) < 0));
      const rev = await db.transact((tx) => tx.getRange(keys[2]!, keys[7]!, { reverse: true }));
      const expected = sorted.filter((k) => Buffer.compare(k, keys[2]!) >= 0 && Buffer.compare(k, keys[7]!) < 0).reverse();
      expect(rev.map((e) => e.key)).toEqual(expected);
      for (const [i, k] of keys.entries()) expect((await db.transact((tx) => tx.get(k)))?.[0]).toBe(i);
      await db.transact((tx) => tx.clear(keys[5]!));
      expect(await db.transact((tx) => tx.get(keys[5]!))).toBeUndefined();
      expect((await db.transact((tx) => tx.get(keys[6]!)))?.[0]).toBe(6);
      await db.transact((tx) => tx.clearRange(keys[3]!, keys[8]!));
      const left = await db.transact((tx) => tx.getRange(Buffer.alloc(0), b('c')));
      expect(left.map((e) => e.key)).toEqual(sorted.filter((k) => Buffer.compare(k, keys[3]!) < 0 || (Buffer.compare(k, keys[8]!) >= 0 && Buffer.compare(k, b('c')) < 0)));
    });

    it('throws used_after_commit when a finished transaction is used', async () => {
      let kept: Transaction | undefined;
      await db.transact((tx) => {
        kept = tx;
        tx.set(b('k'), b('v'));
      });
      expect(() => kept!.set(b('k'), b('w'))).toThrow(expect.objectContaining({ code: 'used_after_commit' }));
      await expect(kept!.get(b('k'))).rejects.toMatchObject({ code: 'used_after_commit' });
    });

    it('times out a slow attempt without retrying it', async () => {
      let runs = 0;
      await expect(
        db.transact(
          async () => {
            runs++;
            await sleep(100);
          },
          { timeoutMs: 20 },
        ),
      ).rejects.toMatchObject({ code: 'timed_out' });
      expect(runs).toBe(1);
    });
  });
}
