/**
 * Conformance: the limits every engine enforces alike (FoundationDB's), and the error codes of a
 * transaction used wrongly, timed out, or run on a closed backend.
 */
import { expect, it } from 'vitest';
import type { Transaction } from '../../src/backend/contract.js';
import { LIMITS } from '../../src/backend/contract.js';
import { StorageError } from '../../src/backend/errors.js';
import { attempt, b, deferred, describeEngines, dump, expectCode, rejection, sleep } from './harness.js';

describeEngines('limits and errors', (ctx) => {
  /** A key of exactly `size` bytes under the case's subspace. */
  const keyOf = (prefix: Buffer, size: number) => Buffer.concat([prefix, Buffer.alloc(size - prefix.length, 0x61)]);

  it('a key of 10,000 bytes is accepted, 10,001 fails with key_too_large and nothing commits', async () => {
    const s = ctx.space();
    const p = s.pack([]);
    await ctx.db.transact((tx) => tx.set(keyOf(p, LIMITS.keyBytes), b('ok')));
    let attempts = 0;
    const e = await rejection(
      ctx.db.transact((tx) => {
        attempts++;
        tx.set(s.pack(['sibling']), b('x'));
        tx.set(keyOf(p, LIMITS.keyBytes + 1), b('too long'));
      }),
    );
    expect(e).toBeInstanceOf(StorageError);
    expect(e.code).toBe('key_too_large');
    expect(e.retryable).toBe(false);
    expect(attempts).toBe(1);
    const rows = await dump(ctx.db, s);
    expect(rows).toHaveLength(1);
    expect(rows[0]![1]).toBe('ok');
  });

  it('a value of 100,000 bytes is accepted, 100,001 fails with value_too_large and nothing commits', async () => {
    const s = ctx.space();
    await ctx.db.transact((tx) => tx.set(s.pack(['max']), Buffer.alloc(LIMITS.valueBytes, 1)));
    expect((await ctx.db.transact((tx) => tx.get(s.pack(['max']))))!.length).toBe(LIMITS.valueBytes);
    const e = await rejection(
      ctx.db.transact((tx) => {
        tx.set(s.pack(['sibling']), b('x'));
        tx.set(s.pack(['over']), Buffer.alloc(LIMITS.valueBytes + 1, 1));
      }),
    );
    expect(e.code).toBe('value_too_large');
    expect(e.retryable).toBe(false);
    expect(await dump(ctx.db, s)).toHaveLength(1);
  });

  it('versionstamped writes obey the same key and value limits', async () => {
    const s = ctx.space();
    await expectCode(
      ctx.db.transact((tx) => {
        const { key, stampOffset } = s.packVersionstamped([Buffer.alloc(LIMITS.keyBytes, 0x61)], 0);
        tx.setVersionstampedKey(key, stampOffset, b('v'));
      }),
      'key_too_large',
    );
    await expectCode(
      ctx.db.transact((tx) => tx.setVersionstampedValue(s.pack(['v']), Buffer.alloc(LIMITS.valueBytes + 1))),
      'value_too_large',
    );
    expect(await dump(ctx.db, s)).toEqual([]);
  });

  it('writes over 10,000,000 bytes in one transaction fail with transaction_too_large; 9.5 MB commits', async () => {
    const s = ctx.space();
    const value = Buffer.alloc(LIMITS.valueBytes, 7);
    await ctx.db.transact((tx) => {
      for (let i = 0; i < 95; i++) tx.set(s.pack(['ok', i]), value);
    });
    expect(await dump(ctx.db, s)).toHaveLength(95);
    let attempts = 0;
    const e = await rejection(
      ctx.db.transact((tx) => {
        attempts++;
        for (let i = 0; i < 101; i++) tx.set(s.pack(['big', i]), value);
      }),
    );
    expect(e.code).toBe('transaction_too_large');
    expect(e.retryable).toBe(false);
    expect(attempts).toBe(1);
    expect(await dump(ctx.db, s)).toHaveLength(95);
  });

  it('a transaction used after its commit fails with used_after_commit', async () => {
    const s = ctx.space();
    let saved: Transaction | undefined;
    await ctx.db.transact((tx) => {
      saved = tx;
      tx.set(s.pack(['k']), b('v'));
    });
    const tx = saved!;
    await expectCode(attempt(() => tx.get(s.pack(['k']))), 'used_after_commit');
    await expectCode(attempt(() => tx.getRange(s.range().begin, s.range().end)), 'used_after_commit');
    await expectCode(attempt(() => tx.set(s.pack(['late']), b('v'))), 'used_after_commit');
    await expectCode(attempt(() => tx.clear(s.pack(['k']))), 'used_after_commit');
    await expectCode(attempt(() => tx.add(s.pack(['n']), 1)), 'used_after_commit');
    expect(await dump(ctx.db, s)).toHaveLength(1);
  });

  it('the transaction of an attempt that did not commit fails with used_after_commit afterwards', async () => {
    const s = ctx.space();
    let saved: Transaction | undefined;
    await expect(
      ctx.db.transact((tx) => {
        saved = tx;
        throw new Error('no commit');
      }),
    ).rejects.toThrow('no commit');
    await expectCode(attempt(() => saved!.get(s.pack(['k']))), 'used_after_commit');
    await expectCode(attempt(() => saved!.set(s.pack(['k']), b('v'))), 'used_after_commit');
    expect(await dump(ctx.db, s)).toEqual([]);
  });

  it('an attempt runs at most timeoutMs, then fails with timed_out, is not retried and commits nothing', async () => {
    const s = ctx.space();
    let attempts = 0;
    const started = performance.now();
    const e = await rejection(
      ctx.db.transact(
        async (tx) => {
          attempts++;
          tx.set(s.pack(['k']), b('v'));
          await sleep(250);
          await tx.get(s.pack(['k']));
          tx.set(s.pack(['k2']), b('v'));
        },
        { timeoutMs: 50 },
      ),
    );
    expect(e.code).toBe('timed_out');
    expect(e.retryable).toBe(false);
    expect(attempts).toBe(1);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(await dump(ctx.db, s)).toEqual([]);
  });

  it('a transaction well inside timeoutMs is unaffected', async () => {
    const s = ctx.space();
    await ctx.db.transact(async (tx) => {
      await sleep(30);
      tx.set(s.pack(['k']), b('v'));
    }, { timeoutMs: 1_000 });
    expect(await dump(ctx.db, s)).toHaveLength(1);
  });

  it('close() during an open transaction fails it with closed and commits nothing', async () => {
    const db = await ctx.open();
    const s = ctx.space();
    const started = deferred();
    const pending = db.transact(async (tx) => {
      await tx.get(s.pack(['k']));
      tx.set(s.pack(['k']), b('v'));
      started.resolve();
      await sleep(50);
      await tx.get(s.pack(['other']));
    });
    pending.catch(() => {});
    await started.promise;
    await db.close();
    await expectCode(pending, 'closed');
  });

  it('close() makes the backend closed: later transactions fail with closed', async () => {
    const db = await ctx.open();
    const s = ctx.space();
    await db.transact((tx) => tx.set(s.pack(['k']), b('v')));
    expect(db.closed).toBe(false);
    await db.close();
    expect(db.closed).toBe(true);
    const e = await rejection(db.transact((tx) => tx.get(s.pack(['k']))));
    expect(e.code).toBe('closed');
    expect(e.retryable).toBe(false);
    await db.close(); // closing twice is harmless
    expect(db.closed).toBe(true);
  });
});
