/**
 * The `transact` retry loop shared by the engines: run the body, commit, and on a retryable
 * error back off (exponential, jittered) and run it again; each attempt has a timeout.
 * @internal
 */
import type { BackendStats, Transaction, TransactOptions } from './contract.js';
import { isDgenError } from '../errors.js';
import { CommitUnknownResultError, TimedOutError } from './errors.js';

/** One attempt of a transaction, as an engine hands it to {@link transactWithRetry}. @internal */
export interface TransactionAttempt {
  readonly tx: Transaction;
  /** Commits the attempt's writes; rejects with a storage error when it did not (or may not have). */
  commit(): Promise<void>;
  /** Ends the attempt without committing; a no-op once it committed. Later use throws. */
  abort(reason: unknown): void;
}

/** What an engine gives the retry loop. @internal */
export interface RetryHost {
  /** Mutable counters; the loop updates `conflicts` and `retries`. */
  readonly counters: BackendStats;
  /** Starts an attempt; throws `closed` when the engine is closed. */
  begin(): TransactionAttempt;
  /** A uniform number in [0, 1) for the backoff jitter (seeded engines pass theirs). */
  random?(): number;
}

/** @internal */
export const RETRY_DEFAULTS = Object.freeze({
  retryLimit: 100,
  timeoutMs: 5_000,
  maxRetryDelayMs: 1_000,
  firstRetryDelayMs: 2,
});

/** Codes `transact` retries; `commit_unknown_result` only for idempotent bodies. @internal */
export function isRetryable(error: unknown, idempotent: boolean): boolean {
  if (!isDgenError(error)) return false;
  switch (error.code) {
    case 'not_committed':
    case 'transaction_too_old':
    case 'commit_failed':
      return true;
    case 'commit_unknown_result':
      return idempotent;
    default:
      return false;
  }
}

/** Delay before retry number `attempt` (0-based): 2 ms doubling to the cap, jittered to [½, 1]×. @internal */
export function backoffMs(attempt: number, maxDelayMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxDelayMs, RETRY_DEFAULTS.firstRetryDelayMs * 2 ** Math.min(attempt, 30));
  return ceiling * (0.5 + random() / 2);
}

/** Least time a commit that began before its attempt's timeout gets to settle. */
const COMMIT_GRACE_MS = 1_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const ignore = () => {};

/**
 * Runs `fn` once in `attempt` and commits, failing with `timed_out` after `timeoutMs`. A timeout is
 * settled before it is reported: the attempt is aborted, then its commit, if one began, is awaited
 * for up to another `timeoutMs` (at least COMMIT_GRACE_MS), so a caller never hears `timed_out` for an attempt that committed.
 * An attempt that committed returns its result; one whose outcome is still open after the grace
 * fails with `commit_unknown_result`, which the caller resolves (e.g. through its enqueue marker).
 */
function runAttempt<T>(attempt: TransactionAttempt, fn: (tx: Transaction) => T | Promise<T>, timeoutMs: number): Promise<T> {
  let committing = false;
  const run = (async () => {
    const result = await fn(attempt.tx);
    committing = true;
    await attempt.commit();
    return result;
  })();
  if (!(timeoutMs > 0 && Number.isFinite(timeoutMs))) return run;
  run.catch(ignore); // the body may fail after the timeout has already decided
  return new Promise<T>((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      const error = new TimedOutError(`Transaction attempt exceeded its timeout of ${timeoutMs} ms (TransactOptions.timeoutMs)`);
      attempt.abort(error);
      // Still in the body: the aborted attempt can no longer commit.
      if (!committing) reject(error);
      else settleAfterTimeout(run, error, Math.max(timeoutMs, COMMIT_GRACE_MS)).then(resolve, reject);
    }, timeoutMs);
    run.then(
      (value) => {
        clearTimeout(timer);
        if (!timedOut) resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        if (!timedOut) reject(error);
      },
    );
  });
}

/** The outcome of an attempt aborted by its timeout: its result if it committed after all, else why not. */
function settleAfterTimeout<T>(run: Promise<T>, timedOut: TimedOutError, graceMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const grace = setTimeout(() => reject(new CommitUnknownResultError(`${timedOut.message}, and its commit had not settled ${graceMs} ms later`)), graceMs);
    run.then(
      (value) => {
        clearTimeout(grace);
        resolve(value);
      },
      (error) => {
        clearTimeout(grace);
        reject(isDgenError(error, 'commit_unknown_result') ? error : timedOut);
      },
    );
  });
}

/**
 * The body of every engine's `transact`: runs `fn` in a fresh attempt and commits it, retrying
 * `not_committed`, `transaction_too_old`, `commit_failed` (and `commit_unknown_result` when
 * `options.idempotent`) up to `options.retryLimit` times, rethrowing anything else.
 * @internal
 */
export async function transactWithRetry<T>(
  host: RetryHost,
  fn: (tx: Transaction) => T | Promise<T>,
  options: TransactOptions = {},
): Promise<T> {
  const retryLimit = options.retryLimit ?? RETRY_DEFAULTS.retryLimit;
  const timeoutMs = options.timeoutMs ?? RETRY_DEFAULTS.timeoutMs;
  const maxDelay = options.maxRetryDelayMs ?? RETRY_DEFAULTS.maxRetryDelayMs;
  const idempotent = options.idempotent ?? false;
  const counters = host.counters;
  for (let attempt = 0; ; attempt++) {
    const current = host.begin();
    try {
      return await runAttempt(current, fn, timeoutMs);
    } catch (error) {
      current.abort(error);
      if (isDgenError(error, 'not_committed')) counters.conflicts++;
      if (attempt >= retryLimit || !isRetryable(error, idempotent)) throw error;
      counters.retries++;
    }
    await sleep(backoffMs(attempt, maxDelay, host.random));
  }
}
