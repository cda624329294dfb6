/**
 * Riding through a store recovery. A FoundationDB cluster that loses a process recovers in
 * seconds, and meanwhile transactions time out (5 s an attempt) or fail with retryable errors.
 * The runtime retries such a transaction, with backoff, as long as the system is open (its
 * internal loops) or until the operation's deadline (user operations, then `store_unavailable`).
 * Only failures after which nothing can have committed are retried here; `commit_unknown_result`
 * goes back to the caller, which settles it (enqueue markers, version keys), unless the body is
 * idempotent.
 * @internal
 */
import { StoreUnavailableError, isDgenError } from '../errors.js';
import { CommitUnknownResultError } from '../backend/errors.js';

/** Default of `createSystem({ storeDeadlineMs })`: well above a cluster recovery (~5 s). */
export const DEFAULT_STORE_DEADLINE_MS = 60_000;

/** First pause between two tries of a transaction that failed transiently; doubles up to the cap. */
const FIRST_PAUSE_MS = 50;
const MAX_PAUSE_MS = 1_000;

/**
 * Did the transaction fail in a way that retrying can fix and that leaves nothing committed?
 * `timed_out` counts: every engine reports a timeout at commit as `commit_unknown_result` unless
 * it knows the commit did not land.
 */
export function isTransient(error: unknown, idempotent: boolean): boolean {
  if (!isDgenError(error)) return false;
  if (error.code === 'commit_unknown_result') return idempotent;
  return NOTHING_COMMITTED.has(error.code) || (error.code === 'foundationdb_error' && error.retryable);
}

/** Failures after which the transaction certainly did not commit, and a new try may succeed. */
const NOTHING_COMMITTED = new Set(['timed_out', 'not_committed', 'transaction_too_old', 'commit_failed']);

/** Pause before try number `n` (1-based) of a transient failure: 50 ms doubling to 1 s, jittered to [½, 1]×. */
export function pauseMs(n: number): number {
  return Math.min(MAX_PAUSE_MS, FIRST_PAUSE_MS * 2 ** Math.min(n - 1, 10)) * (0.5 + Math.random() / 2);
}

/** An enqueue whose commit may or may not have landed: `commit_unknown_result`, or an engine failure outside the contract. */
export function isAmbiguous(e: unknown): boolean {
  return e instanceof CommitUnknownResultError || isDgenError(e, 'engine_failed');
}

/** The error the sender of message `id` gets: a `store_unavailable` names the message. */
export function aboutMessage(e: unknown, id: string): unknown {
  return e instanceof StoreUnavailableError ? new StoreUnavailableError(e.what, e.waitedMs, e.stored, e.cause, id) : e;
}
