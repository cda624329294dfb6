/**
 * FoundationDB's errors and the storage contract's: the codes the engine maps, the two errors of
 * its own (`foundationdb_unavailable`, `foundationdb_error`), and the mapping both ways.
 * @internal
 */
import { isDgenError } from '../errors.js';
import { LIMITS } from './contract.js';
import {
  AccessedUnreadableError,
  CommitFailedError,
  CommitUnknownResultError,
  KeyTooLargeError,
  NotCommittedError,
  StorageError,
  TimedOutError,
  TransactionTooLargeError,
  TransactionTooOldError,
  UsedAfterCommitError,
  ValueTooLargeError,
} from './errors.js';

/** FoundationDB's `fdb_error_predicate` tests (`FDBErrorPredicate`). @internal */
export const ErrorPredicate = Object.freeze({ Retryable: 50000, MaybeCommitted: 50001, RetryableNotCommitted: 50002 });

/** FoundationDB error codes the engine knows by name. @internal */
export const FdbCode = Object.freeze({
  transactionTooOld: 1007,
  notCommitted: 1020,
  commitUnknownResult: 1021,
  transactionCancelled: 1025,
  timedOut: 1031,
  accessedUnreadable: 1036,
  operationCancelled: 1101,
  usedDuringCommit: 2017,
  transactionTooLarge: 2101,
  keyTooLarge: 2102,
  valueTooLarge: 2103,
});

/** How to install the FoundationDB client library, for error messages. @internal */
export const INSTALL_CLIENT =
  'Install the FoundationDB client package for your OS, which provides libfdb_c ' +
  '(foundationdb-clients .deb or .rpm on Linux, FoundationDB-<version>.pkg on macOS, from the FoundationDB releases page)';

/**
 * The `foundationdb` package, or the FoundationDB client library (libfdb_c) its native module
 * links against, is not installed. The message says what to install (see docs/foundationdb.md).
 */
export class FoundationDBUnavailableError extends StorageError {
  constructor(detail: string, help: string, cause?: unknown) {
    super('foundationdb_unavailable', `FoundationDB is not available: ${detail}. ${help}. See "Running on FoundationDB" (docs/foundationdb.md).`, { cause });
  }
}

/** A FoundationDB error with no counterpart in the storage contract; `fdbCode` is FoundationDB's code. */
export class FoundationDBError extends StorageError {
  readonly fdbCode: number;
  constructor(fdbCode: number, message: string, options: { retryable: boolean; cause: unknown }) {
    super('foundationdb_error', `FoundationDB error ${fdbCode}: ${message}`, options);
    this.fdbCode = fdbCode;
  }
}

/** What the engine knows of the attempt that failed, for the messages of size errors. @internal */
export interface AttemptSizes {
  /** Keys and values of the attempt's mutations. */
  readonly bytes: number;
  /** Mutations of the attempt. */
  readonly mutations: number;
  /** Keys of its write conflict ranges (one per mutation) and read conflict ranges (each non-snapshot read), as FoundationDB counts them. */
  readonly conflictBytes: number;
  readonly largestKey: number;
  readonly largestValue: number;
}

/**
 * The FoundationDB code behind `error`: its own code for an error of the binding (`FDBError`),
 * the code of its cause for an error this engine mapped, and the matching code for a retryable
 * storage error thrown by a transaction body. Undefined for anything else. @internal
 */
export function fdbCodeOf(error: unknown, FDBError: abstract new (...args: never[]) => Error): number | undefined {
  if (error instanceof FDBError) return (error as Error & { code: number }).code;
  if (!isDgenError(error)) return undefined;
  if (error.cause instanceof FDBError) return (error.cause as Error & { code: number }).code;
  switch (error.code) {
    case 'not_committed':
    case 'commit_failed':
      return FdbCode.notCommitted;
    case 'transaction_too_old':
      return FdbCode.transactionTooOld;
    case 'commit_unknown_result':
      return FdbCode.commitUnknownResult;
    default:
      return undefined;
  }
}

const n = (x: number) => x.toLocaleString('en-US');

/** FoundationDB's own accounting of a transaction over its size limit (2101). */
function tooLargeMessage(sizes: AttemptSizes | undefined): string {
  const limit = `FoundationDB's limit of ${n(LIMITS.transactionBytes)} bytes a transaction (transaction_too_large, 2101)`;
  if (sizes === undefined) return `Transaction over ${limit}`;
  const total = sizes.bytes + sizes.conflictBytes;
  return (
    `Transaction over ${limit}: FoundationDB counts the keys and values of every mutation ` +
    `(${n(sizes.mutations)} mutations, ${n(sizes.bytes)} bytes) plus the keys of its conflict ranges ` +
    `(a write conflict range per mutation and a read conflict range per non-snapshot read, about ${n(sizes.conflictBytes)} bytes), ` +
    `about ${n(total)} bytes in all, with per-mutation overhead on top. Split the work into smaller transactions`
  );
}

/** The storage error for FoundationDB error `code` (`cause` is the binding's error). @internal */
export function mapFdbError(
  code: number,
  cause: unknown,
  predicates: { retryable: boolean; maybeCommitted: boolean },
  sizes?: AttemptSizes,
): StorageError {
  const text = cause instanceof Error ? cause.message : String(cause);
  const withCause = <E extends StorageError>(e: E): E => {
    Object.defineProperty(e, 'cause', { value: cause, configurable: true, writable: true });
    return e;
  };
  switch (code) {
    case FdbCode.notCommitted:
      return withCause(new NotCommittedError());
    case FdbCode.commitUnknownResult:
      return withCause(new CommitUnknownResultError());
    case FdbCode.transactionTooOld:
      return withCause(new TransactionTooOldError());
    case FdbCode.timedOut:
      return withCause(new TimedOutError('Operation aborted because the transaction timed out (TransactOptions.timeoutMs, FoundationDB option `timeout`)'));
    case FdbCode.usedDuringCommit:
      return withCause(new UsedAfterCommitError());
    case FdbCode.transactionTooLarge:
      return withCause(new TransactionTooLargeError(sizes?.bytes ?? LIMITS.transactionBytes + 1, LIMITS.transactionBytes, tooLargeMessage(sizes)));
    case FdbCode.keyTooLarge:
      return withCause(new KeyTooLargeError(sizes?.largestKey ?? LIMITS.keyBytes + 1, LIMITS.keyBytes));
    case FdbCode.valueTooLarge:
      return withCause(new ValueTooLargeError(sizes?.largestValue ?? LIMITS.valueBytes + 1, LIMITS.valueBytes));
    case FdbCode.accessedUnreadable:
      return withCause(new AccessedUnreadableError());
  }
  if (predicates.maybeCommitted) return withCause(new CommitUnknownResultError(`Transaction may or may not have committed (FoundationDB error ${code}: ${text})`));
  if (predicates.retryable) return new CommitFailedError(`Transaction failed with the retryable FoundationDB error ${code}: ${text}`, cause);
  return new FoundationDBError(code, text, { retryable: false, cause });
}
