import { DgenError } from '../errors.js';

/**
 * Errors of the storage contract. Each engine maps its native failures onto these classes so the
 * runtime handles FoundationDB, LMDB and memory alike. Codes follow FoundationDB's error names.
 */
export class StorageError extends DgenError {}

/** A key or range this transaction read was changed by a commit after its read version. Retried by `transact`. */
export class NotCommittedError extends StorageError {
  constructor(message = 'Transaction not committed due to conflict with another transaction') {
    super('not_committed', message, { retryable: true });
  }
}

/**
 * The commit may or may not have happened (FoundationDB `commit_unknown_result`). `transact`
 * retries it only for bodies declared idempotent; otherwise the caller decides, usually through
 * an idempotency key.
 */
export class CommitUnknownResultError extends StorageError {
  constructor(message = 'Transaction may or may not have committed') {
    super('commit_unknown_result', message, { retryable: true });
  }
}

/** The read version is older than the engine's MVCC window (5 s). Retried by `transact`. */
export class TransactionTooOldError extends StorageError {
  constructor(message = 'Transaction is too old to perform reads or be committed (older than 5 s)') {
    super('transaction_too_old', message, { retryable: true });
  }
}

/** The transaction ran longer than its timeout (5 s by default, like FoundationDB). Not retried. */
export class TimedOutError extends StorageError {
  constructor(message = 'Operation aborted because the transaction timed out') {
    super('timed_out', message);
  }
}

/** A key longer than 10,000 bytes. */
export class KeyTooLargeError extends StorageError {
  constructor(size: number, limit: number) {
    super('key_too_large', `Key length ${size} exceeds the limit of ${limit} bytes`);
  }
}

/** A value longer than 100,000 bytes. */
export class ValueTooLargeError extends StorageError {
  constructor(size: number, limit: number, message = `Value length ${size} exceeds the limit of ${limit} bytes`) {
    super('value_too_large', message);
  }
}

/** The transaction's writes exceed 10,000,000 bytes. */
export class TransactionTooLargeError extends StorageError {
  constructor(size: number, limit: number, message = `Transaction writes ${size} bytes, over the limit of ${limit} bytes`) {
    super('transaction_too_large', message);
  }
}

/** A transaction was used after it committed or was cancelled. */
export class UsedAfterCommitError extends StorageError {
  constructor(message = 'Operation issued on a transaction that has already committed or been cancelled') {
    super('used_after_commit', message);
  }
}

/** The backend was closed. */
export class ClosedError extends StorageError {
  constructor(what = 'backend') {
    super('closed', `The ${what} is closed`);
  }
}

/** A transaction failed before it could commit (injected fault, lost connection, I/O error). Retried. */
export class CommitFailedError extends StorageError {
  constructor(message = 'Transaction failed before commit', cause?: unknown) {
    super('commit_failed', message, { retryable: true, cause });
  }
}

/**
 * A call the contract does not allow: a versionstamp offset outside the key or value, a
 * non-integer atomic `add` delta, `getVersionstamp()` of a transaction that wrote nothing.
 * A programming error, never retried.
 */
export class InvalidOperationError extends StorageError {
  constructor(message: string) {
    super('invalid_operation', message);
  }
}

/** An engine could not be opened (e.g. its path is an existing file, or is not writable). */
export class OpenFailedError extends StorageError {
  constructor(message: string, cause?: unknown) {
    super('open_failed', message, { cause });
  }
}

/**
 * A read touched what this transaction's own versionstamped writes may produce: those keys and
 * values exist only once committed. FoundationDB's `accessed_unreadable` (1036); every engine
 * answers it alike. Not retried.
 */
export class AccessedUnreadableError extends StorageError {
  constructor(message = 'Read or wrote an unreadable key: this transaction wrote a versionstamped key or value there, readable only once committed') {
    super('accessed_unreadable', message);
  }
}

/**
 * An engine failed with an error outside the storage contract (a native error such as LMDB's
 * `MDB_READERS_FULL`): wrapped so every failure is a typed DgenError. The original is its `cause`.
 */
export class EngineFailedError extends StorageError {
  constructor(cause: unknown) {
    super('engine_failed', `The storage engine failed unexpectedly: ${cause instanceof Error ? cause.message : String(cause)}. This is a bug or an environment problem (disk, file limits); the cause is attached.`, { cause });
  }
}
