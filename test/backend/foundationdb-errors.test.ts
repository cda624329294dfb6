/**
 * On a real FoundationDB server, through the production loader: every FoundationDB error the
 * engine maps comes out as its typed class (a conflict is retried, a too-large transaction is
 * `TransactionTooLargeError`, …), never as an error of the loading code. Skipped, with what to
 * install, where no server can be had.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tuple from 'fdb-tuple';
import type { Backend } from '../../src/backend/contract.js';
import { foundationdb } from '../../src/backend/foundationdb.js';
import { requireBinding } from '../../src/backend/foundationdb-binding.js';
import { AccessedUnreadableError, NotCommittedError, StorageError, TimedOutError, TransactionTooLargeError, ValueTooLargeError } from '../../src/backend/errors.js';
import { Subspace } from '../../src/backend/subspace.js';
import { b, interleave, rejection, sleep } from '../conformance/harness.js';
import { noRealClusterReason, realClusterFile } from '../support/real-fdb.js';

const clusterFile = realClusterFile();
let spaces = 0;
const space = () => new Subspace(tuple.pack(['fdb-errors', process.pid, Date.now(), ++spaces]));

/** Fails the case unless `e` is an instance of `type` (and so never a TypeError of the loader). */
function expectTyped(e: unknown, type: abstract new (...args: never[]) => StorageError, code: string): void {
  expect(e, String(e)).toBeInstanceOf(type);
  expect((e as StorageError).code).toBe(code);
}

const suite = clusterFile === undefined ? describe.skip : describe; // the reason is given below

suite('foundationdb (real server): errors come out typed', () => {
  let db: Backend;
  beforeAll(async () => {
    db = await foundationdb({ clusterFile: clusterFile!, prefix: ['dgen-fdb-errors'] });
  });
  afterAll(async () => {
    await db?.close();
  });

  it('the production loader yields the binding with its error predicates', () => {
    const binding = requireBinding();
    expect(typeof binding.native.errorPredicate).toBe('function');
    expect(binding.native.errorPredicate(50000, 1020)).toBe(true); // not_committed is retryable
    expect(typeof binding.fdb.FDBError).toBe('function');
  });

  it('a conflict is retried and counted', async () => {
    const s = space();
    const before = db.stats().conflicts;
    const { attempts, result } = await interleave(
      db,
      async (tx, pause) => {
        const v = await tx.get(s.pack(['k']));
        await pause();
        tx.set(s.pack(['k']), b(`${v?.toString() ?? ''}a`));
      },
      (tx) => tx.set(s.pack(['k']), b('b')),
    );
    await result;
    expect(attempts).toBe(2);
    expect(db.stats().conflicts).toBe(before + 1);
    expect((await db.transact((tx) => tx.get(s.pack(['k']))))?.toString()).toBe('ba');
  });

  it('a conflict without retries left: NotCommittedError', async () => {
    const s = space();
    const { result } = await interleave(
      db,
      async (tx, pause) => {
        await tx.get(s.pack(['k']));
        await pause();
        tx.set(s.pack(['k']), b('a'));
      },
      (tx) => tx.set(s.pack(['k']), b('b')),
      { retryLimit: 0 },
    );
    expectTyped(await rejection(result), NotCommittedError, 'not_committed');
  });

  it("over 10 MB of writes: the server's transaction_too_large as TransactionTooLargeError", async () => {
    const s = space();
    const e = await rejection(
      db.transact((tx) => {
        for (let i = 0; i < 110; i++) tx.set(s.pack([i]), Buffer.alloc(99_000, 1));
      }),
    );
    expectTyped(e, TransactionTooLargeError, 'transaction_too_large');
    // FoundationDB's own accounting: mutations plus conflict ranges, never a figure under the limit alone
    expect(e.message).toContain("FoundationDB's limit of 10,000,000 bytes");
    expect(e.message).toMatch(/110 mutations, 10,89\d,\d{3} bytes/);
    expect(e.message).toContain('conflict ranges');
  });

  it('a value over 100,000 bytes: ValueTooLargeError naming the key', async () => {
    const s = space();
    const e = await rejection(db.transact((tx) => tx.set(s.pack(['big']), Buffer.alloc(100_001))));
    expectTyped(e, ValueTooLargeError, 'value_too_large');
    expect(e.message).toContain('big');
    expect(e.message).toContain('100001');
  });

  it('a transaction past its timeout: TimedOutError', async () => {
    const s = space();
    const e = await rejection(
      db.transact(
        async (tx) => {
          await sleep(300);
          return tx.get(s.pack(['k']));
        },
        { timeoutMs: 50 },
      ),
    );
    expectTyped(e, TimedOutError, 'timed_out');
  });

  it('a read of what a versionstamped write fills: AccessedUnreadableError', async () => {
    const s = space();
    const e = await rejection(
      db.transact(async (tx) => {
        tx.setVersionstampedValue(s.pack(['v']), Buffer.alloc(10));
        return tx.get(s.pack(['v']));
      }),
    );
    expectTyped(e, AccessedUnreadableError, 'accessed_unreadable');
  });
});

if (clusterFile === undefined) {
  describe('foundationdb (real server): errors come out typed', () => {
    it.skip(`skipped: ${noRealClusterReason()}`, () => {});
  });
}
