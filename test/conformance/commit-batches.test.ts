/**
 * Conformance: commit batches. Transactions that commit at the same moment are validated one by
 * one, as FoundationDB's proxies do within a batch: one that read a key written after its read
 * version fails alone with `not_committed`; every other one commits, with its own versionstamp,
 * and a conflict among them (one writes what another read) fails only the later reader. On LMDB
 * the transactions of one process that are ready together share one LMDB write transaction (one
 * fsync): `writeTransactions` counts them.
 */
import { expect, it } from 'vitest';
import type { Backend, Transaction } from '../../src/backend/contract.js';
import type { LmdbBackend } from '../../src/backend/lmdb.js';
import { b, deferred, describeEngines, expectCode, text } from './harness.js';

/** Runs `bodies` as raw attempts (no retry) that all read first, then commit together once `release` resolves. */
function together(db: Backend, bodies: Array<(tx: Transaction) => Promise<void>>) {
  const read = bodies.map(() => deferred());
  const release = deferred();
  const results = bodies.map((body, i): Promise<Buffer> =>
    db.transact(
      async (tx) => {
        await body(tx);
        read[i]!.resolve();
        await release.promise;
        return { stamp: tx.getVersionstamp() }; // wrapped: it resolves only after the commit
      },
      { retryLimit: 0 },
    ).then((r) => r.stamp),
  );
  for (const r of results) r.catch(() => {});
  return { allRead: Promise.all(read.map((d) => d.promise)), release: () => release.resolve(), results };
}

describeEngines('commit batches', (ctx) => {
  it('of 50 transactions committing together, the one whose read was overwritten fails alone; the others commit with distinct stamps', async () => {
    const s = ctx.space();
    const watched = s.pack(['watched']);
    await ctx.db.transact((tx) => tx.set(watched, b('before')));
    const n = 50;
    const batch = together(
      ctx.db,
      Array.from({ length: n }, (_, i) => async (tx: Transaction) => {
        if (i === 17) await tx.get(watched);
        else await tx.get(s.pack(['own', i]));
        tx.set(s.pack(['out', i]), b(String(i)));
      }),
    );
    await batch.allRead;
    await ctx.db.transact((tx) => tx.set(watched, b('after')));
    batch.release();
    const settled = await Promise.allSettled(batch.results);
    await expectCode(batch.results[17]!, 'not_committed');
    const stamps = settled.flatMap((r, i) => (i === 17 ? [] : [(r as PromiseFulfilledResult<Buffer>).value]));
    expect(stamps).toHaveLength(n - 1);
    const hex = stamps.map((stamp) => stamp.toString('hex'));
    expect(new Set(hex).size).toBe(n - 1);
    const out = await ctx.db.transact((tx) => tx.getRange(s.range(['out']).begin, s.range(['out']).end));
    expect(out.map((kv) => text(kv.value)).sort()).toEqual(Array.from({ length: n }, (_, i) => String(i)).filter((x) => x !== '17').sort());
  });

  it('within a batch, a transaction that read what another of the batch writes commits only if serialized before it; the writer commits', async () => {
    const s = ctx.space();
    const k = s.pack(['k']);
    await ctx.db.transact((tx) => tx.set(k, b('0')));
    const batch = together(ctx.db, [
      async (tx) => {
        tx.set(k, b('written')); // blind: the writer reads nothing
      },
      async (tx) => {
        await tx.get(k);
        tx.set(s.pack(['reader']), b('x'));
      },
    ]);
    await batch.allRead;
    batch.release();
    const [writer, reader] = await Promise.allSettled(batch.results);
    // Whichever order the engine validated them in, the outcome is serializable: the writer always
    // commits; the reader commits only if it was validated before the writer (it then read the old value legitimately).
    expect(writer!.status).toBe('fulfilled');
    const committedReader = reader!.status === 'fulfilled';
    if (!committedReader) await expectCode(batch.results[1]!, 'not_committed');
    expect(text(await ctx.db.transact((tx) => tx.get(k)))).toBe('written');
    expect(text(await ctx.db.transact((tx) => tx.get(s.pack(['reader']))))).toBe(committedReader ? 'x' : undefined);
    if (committedReader) {
      const [ws, rs] = [(writer as PromiseFulfilledResult<Buffer>).value, (reader as PromiseFulfilledResult<Buffer>).value];
      expect(Buffer.compare(rs, ws)).toBe(-1); // the reader was serialized before the writer
    }
  });
});

describeEngines(
  'commit batches share one LMDB write transaction',
  (ctx) => {
    it('100 transactions of one process ready together commit in far fewer LMDB write transactions, each with its own outcome', async () => {
      const db = ctx.db as LmdbBackend;
      const s = ctx.space();
      const n = 100;
      const batch = together(
        db,
        Array.from({ length: n }, (_, i) => async (tx: Transaction) => {
          await tx.get(s.pack(['in', i]));
          tx.set(s.pack(['out', i]), b(String(i)));
        }),
      );
      await batch.allRead;
      const before = db.writeTransactions;
      const commitsBefore = db.stats().commits;
      batch.release();
      await Promise.all(batch.results);
      expect(db.stats().commits - commitsBefore).toBe(n);
      const used = db.writeTransactions - before;
      expect(used).toBeGreaterThanOrEqual(1);
      expect(used).toBeLessThanOrEqual(n / 10);
    });
  },
  (e) => e.name === 'lmdb',
);
