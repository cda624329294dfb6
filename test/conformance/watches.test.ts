/**
 * Conformance: watches. A watch resolves `true` after a commit later than the watching transaction
 * changes the key's value (FoundationDB's rule: a write of the same value is no change), and
 * `false` when cancelled, when its transaction does not commit, or when the backend closes.
 */
import { expect, it } from 'vitest';
import type { Backend, Watch } from '../../src/backend/contract.js';
import { b, describeEngines, le64, sleep } from './harness.js';

/** 'fired', 'false' or 'pending' after waiting up to `ms`. */
async function outcome(w: Watch, ms: number): Promise<'fired' | 'false' | 'pending'> {
  type Outcome = 'fired' | 'false' | 'pending';
  return Promise.race([w.promise.then((v): Outcome => (v ? 'fired' : 'false')), sleep(ms).then((): Outcome => 'pending')]);
}

/** Sets a watch on `key` in a transaction of its own (after a snapshot read, so it never retries). */
async function watch(db: Backend, key: Uint8Array): Promise<Watch> {
  return db.transact(async (tx) => {
    await tx.get(key, { snapshot: true });
    return { w: tx.watch(key) };
  }).then((r) => r.w);
}

describeEngines('watches', (ctx) => {
  /** How long a watch may take to fire after a commit in this engine. */
  const settle = () => ctx.engine.watchDelayMs ?? 100;
  const fireWithin = () => settle() + 2_000;

  it('fires after a later commit changes the key', async () => {
    const s = ctx.space();
    const k = s.pack(['k']);
    await ctx.db.transact((tx) => tx.set(k, b('1')));
    const w = await watch(ctx.db, k);
    expect(await outcome(w, settle())).toBe('pending');
    await ctx.db.transact((tx) => tx.set(k, b('2')));
    expect(await outcome(w, fireWithin())).toBe('fired');
  });

  it('fires when a missing key is created, when a key is cleared, and on an atomic add', async () => {
    const s = ctx.space();
    const k = s.pack(['k']);
    const created = await watch(ctx.db, k);
    await ctx.db.transact((tx) => tx.set(k, b('x')));
    expect(await outcome(created, fireWithin())).toBe('fired');
    const cleared = await watch(ctx.db, k);
    await ctx.db.transact((tx) => tx.clearRange(s.range().begin, s.range().end));
    expect(await outcome(cleared, fireWithin())).toBe('fired');
    const added = await watch(ctx.db, k);
    await ctx.db.transact((tx) => tx.add(k, 1));
    expect(await outcome(added, fireWithin())).toBe('fired');
  });

  it('does not fire for a write that leaves the value unchanged, nor for writes to other keys', async () => {
    const s = ctx.space();
    const k = s.pack(['k']);
    await ctx.db.transact((tx) => tx.set(k, b('same')));
    const w = await watch(ctx.db, k);
    await ctx.db.transact((tx) => tx.set(k, b('same')));
    await ctx.db.transact((tx) => {
      tx.set(s.pack(['other']), b('x'));
      tx.set(Buffer.concat([k, Buffer.from([0])]), b('next key'));
      tx.clear(s.pack(['missing']));
    });
    expect(await outcome(w, settle())).toBe('pending');
    const missing = await watch(ctx.db, s.pack(['missing']));
    await ctx.db.transact((tx) => tx.clear(s.pack(['missing'])));
    expect(await outcome(missing, settle())).toBe('pending');
    await ctx.db.transact((tx) => tx.set(k, b('changed')));
    expect(await outcome(w, fireWithin())).toBe('fired');
    missing.cancel();
  });

  it('fires for a change committed between the watching transaction’s read and its commit', async () => {
    const s = ctx.space();
    const k = s.pack(['k']);
    await ctx.db.transact((tx) => tx.set(k, b('seen')));
    const { w } = await ctx.db.transact(async (tx) => {
      await tx.get(k, { snapshot: true });
      const w = tx.watch(k);
      await ctx.db.transact((o) => o.set(k, b('changed meanwhile')));
      return { w };
    });
    expect(await outcome(w, fireWithin())).toBe('fired');
  });

  it('never fires for rolled-back writes', async () => {
    const s = ctx.space();
    const k = s.pack(['k']);
    await ctx.db.transact((tx) => tx.set(k, b('1')));
    const w = await watch(ctx.db, k);
    await expect(
      ctx.db.transact((tx) => {
        tx.set(k, b('rolled back'));
        tx.clear(k);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await outcome(w, settle())).toBe('pending');
    w.cancel();
    expect(await w.promise).toBe(false);
  });

  it('its own transaction’s write does not fire it; a later one does', async () => {
    const s = ctx.space();
    const k = s.pack(['k']);
    const { w } = await ctx.db.transact((tx) => {
      tx.set(k, b('mine'));
      return { w: tx.watch(k) };
    });
    expect(await outcome(w, settle())).toBe('pending');
    await ctx.db.transact((tx) => tx.set(k, b('theirs')));
    expect(await outcome(w, fireWithin())).toBe('fired');
  });

  it('a watch on a long key ignores its neighbours sharing a 4,000-byte prefix', async () => {
    const s = ctx.space();
    const long = (x: string) => Buffer.concat([s.pack([]), Buffer.alloc(4_000, 0x61), b(x)]);
    await ctx.db.transact((tx) => tx.set(long('1'), b('v')));
    const w = await watch(ctx.db, long('1'));
    await ctx.db.transact((tx) => {
      tx.set(long('0'), b('x'));
      tx.set(long('2'), b('x'));
      tx.set(long('1\x00'), b('x'));
    });
    expect(await outcome(w, settle())).toBe('pending');
    await ctx.db.transact((tx) => tx.set(long('1'), b('changed')));
    expect(await outcome(w, fireWithin())).toBe('fired');
  });

  it('several watches on one key all fire', async () => {
    const s = ctx.space();
    const k = s.pack(['k']);
    const ws = await Promise.all([watch(ctx.db, k), watch(ctx.db, k), watch(ctx.db, k)]);
    await ctx.db.transact((tx) => tx.set(k, le64(1)));
    expect(await Promise.all(ws.map((w) => outcome(w, fireWithin())))).toEqual(['fired', 'fired', 'fired']);
  });

  it('cancel() resolves the watch with false', async () => {
    const s = ctx.space();
    const w = await watch(ctx.db, s.pack(['k']));
    w.cancel();
    expect(await outcome(w, fireWithin())).toBe('false');
    await ctx.db.transact((tx) => tx.set(s.pack(['k']), b('after cancel')));
    expect(await w.promise).toBe(false);
  });

  it('a watch whose transaction does not commit resolves false', async () => {
    const s = ctx.space();
    let w: Watch | undefined;
    await expect(
      ctx.db.transact((tx) => {
        w = tx.watch(s.pack(['k']));
        throw new Error('no commit');
      }),
    ).rejects.toThrow('no commit');
    expect(await outcome(w!, fireWithin())).toBe('false');

    const watches: Watch[] = [];
    let attempts = 0;
    await ctx.db.transact(async (tx) => {
      attempts++;
      await tx.get(s.pack(['r']));
      watches.push(tx.watch(s.pack(['k'])));
      if (attempts === 1) await ctx.db.transact((o) => o.set(s.pack(['r']), b('conflict')));
      tx.set(s.pack(['w']), b('x'));
    });
    expect(attempts).toBe(2);
    expect(await outcome(watches[0]!, fireWithin())).toBe('false');
    expect(await outcome(watches[1]!, settle())).toBe('pending');
    watches[1]!.cancel();
  });

  it('close() resolves pending watches with false', async () => {
    const db = await ctx.open();
    const s = ctx.space();
    const ws = [await watch(db, s.pack(['a'])), await watch(db, s.pack(['b']))];
    await db.close();
    expect(await Promise.all(ws.map((w) => outcome(w, fireWithin())))).toEqual(['false', 'false']);
  });
});
