import { describe, expect, it } from 'vitest';
import type { BackendStats, Transaction } from '../../src/backend/contract.js';
import { CommitFailedError, CommitUnknownResultError, NotCommittedError, TransactionTooOldError } from '../../src/backend/errors.js';
import { backoffMs, isRetryable, transactWithRetry, type TransactionAttempt } from '../../src/backend/retry.js';

function host(commitErrors: unknown[]) {
  const counters: BackendStats = { commits: 0, conflicts: 0, retries: 0, keysRead: 0, bytesRead: 0, keysWritten: 0, bytesWritten: 0 };
  const aborted: unknown[] = [];
  return {
    counters,
    aborted,
    random: () => 0.5,
    begin(): TransactionAttempt {
      return {
        tx: {} as Transaction,
        commit: async () => {
          const e = commitErrors.shift();
          if (e !== undefined) throw e;
          counters.commits++;
        },
        abort: (reason) => aborted.push(reason),
      };
    },
  };
}

describe('transactWithRetry', () => {
  it('retries conflicts, too-old and failed commits, counting them', async () => {
    const h = host([new NotCommittedError(), new TransactionTooOldError(), new CommitFailedError()]);
    let runs = 0;
    expect(await transactWithRetry(h, () => ++runs, { maxRetryDelayMs: 1 })).toBe(4);
    expect(h.counters).toMatchObject({ commits: 1, conflicts: 1, retries: 3 });
  });

  it('retries commit_unknown_result only for idempotent bodies', async () => {
    await expect(transactWithRetry(host([new CommitUnknownResultError()]), () => 1)).rejects.toMatchObject({ code: 'commit_unknown_result' });
    expect(await transactWithRetry(host([new CommitUnknownResultError()]), () => 1, { idempotent: true, maxRetryDelayMs: 1 })).toBe(1);
  });

  it('rethrows other errors at once and aborts the attempt', async () => {
    const h = host([]);
    const boom = new Error('boom');
    await expect(transactWithRetry(h, () => Promise.reject(boom))).rejects.toBe(boom);
    expect(h.aborted).toEqual([boom]);
    expect(h.counters.retries).toBe(0);
  });

  it('gives up after retryLimit retries with the last error', async () => {
    const h = host(Array.from({ length: 10 }, () => new NotCommittedError()));
    await expect(transactWithRetry(h, () => 1, { retryLimit: 3, maxRetryDelayMs: 1 })).rejects.toMatchObject({ code: 'not_committed' });
    expect(h.counters).toMatchObject({ conflicts: 4, retries: 3 });
  });

  it('times out an attempt (timed_out is not retried)', async () => {
    const h = host([]);
    let runs = 0;
    await expect(transactWithRetry(h, () => (runs++, new Promise(() => {})), { timeoutMs: 10 })).rejects.toMatchObject({ code: 'timed_out' });
    expect(runs).toBe(1);
    expect(h.aborted[0]).toMatchObject({ code: 'timed_out' });
  });

  it('settles a timeout at commit before reporting it: committed after all, not committed, or unknown', async () => {
    const slowCommit = (outcome: 'commits' | 'fails' | 'hangs'): TransactionAttempt => ({
      tx: {} as Transaction,
      commit: () =>
        outcome === 'hangs'
          ? new Promise(() => {})
          : new Promise((resolve, reject) => setTimeout(() => (outcome === 'commits' ? resolve() : reject(new Error('aborted'))), 30)),
      abort: () => {},
    });
    const counters = host([]).counters;
    const run = (outcome: 'commits' | 'fails' | 'hangs') => transactWithRetry({ counters, begin: () => slowCommit(outcome) }, () => 'result', { timeoutMs: 10 });
    expect(await run('commits')).toBe('result');
    await expect(run('fails')).rejects.toMatchObject({ code: 'timed_out' });
    await expect(run('hangs')).rejects.toMatchObject({ code: 'commit_unknown_result' });
  });

  it('backs off exponentially from 2 ms up to the cap, with jitter in [½, 1]', () => {
    expect(backoffMs(0, 1000, () => 0)).toBe(1);
    expect(backoffMs(0, 1000, () => 0.999999)).toBeCloseTo(2);
    expect(backoffMs(3, 1000, () => 0.999999)).toBeCloseTo(16);
    expect(backoffMs(40, 1000, () => 0.999999)).toBeCloseTo(1000);
    expect(isRetryable(new Error('x'), true)).toBe(false);
  });
});
