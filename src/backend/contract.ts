/**
 * The storage contract: an ordered byte-key store with interactive optimistic transactions,
 * shaped like FoundationDB so that the FoundationDB engine is a thin adapter. The runtime talks to
 * engines only through these types.
 *
 * Semantics every engine guarantees (pinned by test/conformance):
 * - Strict serializability: a transaction whose non-snapshot reads (or added read conflict ranges)
 *   were written by a commit after its read version fails with `not_committed`.
 * - Reads see the transaction's own writes (read-your-writes). What its versionstamped writes may
 *   fill is unreadable until commit: reading it fails with `accessed_unreadable`, as in FoundationDB;
 *   a later `set` or `add` of that key leaves it unreadable, a `clear`/`clearRange` makes it readable.
 * - Atomic `add` and blind writes add no read conflict; write-only transactions never conflict.
 * - Versionstamps are 10 bytes (8-byte big-endian commit version + 2-byte batch order), strictly
 *   increasing in commit order; the 2 bytes after them in a tuple-encoded key are the user version.
 * - Limits: key ≤ 10,000 bytes, value ≤ 100,000 bytes, writes ≤ 10,000,000 bytes a transaction,
 *   5 s transaction timeout and MVCC window.
 */

/** Keys and values are byte strings; engines return Buffers (a Uint8Array subclass). */
export type Bytes = Uint8Array;

/** One entry of a range read. */
export interface KeyValue {
  readonly key: Buffer;
  readonly value: Buffer;
}

/** Options of a single-key read. */
export interface ReadOptions {
  /** Snapshot reads add no read conflict: a later change of the key does not abort this transaction. */
  readonly snapshot?: boolean;
}

/** Options of a range read. Begin is inclusive, end exclusive. */
export interface RangeOptions extends ReadOptions {
  /** At most this many entries (0 or absent: no limit). */
  readonly limit?: number;
  /** Return entries from the end of the range backwards. */
  readonly reverse?: boolean;
}

/**
 * A watch on one key, set inside a transaction. `promise` resolves `true` after a commit later
 * than the watching transaction changes the key's value, and `false` when the watch is cancelled,
 * the transaction that set it does not commit, or the backend closes.
 */
export interface Watch {
  readonly promise: Promise<boolean>;
  cancel(): void;
}

/** A transaction of the storage contract. Bodies passed to {@link Backend.transact} may run several times. */
export interface Transaction {
  /** The version this transaction reads at (FoundationDB read version or its equivalent). */
  getReadVersion(): Promise<bigint>;
  get(key: Bytes, options?: ReadOptions): Promise<Buffer | undefined>;
  getRange(begin: Bytes, end: Bytes, options?: RangeOptions): Promise<KeyValue[]>;
  set(key: Bytes, value: Bytes): void;
  clear(key: Bytes): void;
  /** Clears every key in [begin, end). */
  clearRange(begin: Bytes, end: Bytes): void;
  /** Atomic little-endian int64 addition, as FoundationDB's ADD mutation; a missing key counts as 0. */
  add(key: Bytes, delta: number | bigint): void;
  /**
   * Writes `value` under `key`, whose 10 bytes at `stampOffset` are replaced by this commit's
   * versionstamp. Use `fdb-tuple`'s `packUnboundVersionstamp` to build such keys.
   */
  setVersionstampedKey(key: Bytes, stampOffset: number, value: Bytes): void;
  /** Writes `value` with its 10 bytes at `stampOffset` (default 0) replaced by this commit's versionstamp. */
  setVersionstampedValue(key: Bytes, value: Bytes, stampOffset?: number): void;
  addReadConflictKey(key: Bytes): void;
  addReadConflictRange(begin: Bytes, end: Bytes): void;
  /** See {@link Watch}. */
  watch(key: Bytes): Watch;
  /** The 10-byte versionstamp of this transaction's commit; resolves after commit, rejects if it did not commit. */
  getVersionstamp(): Promise<Buffer>;
}

/** Options of {@link Backend.transact}. */
export interface TransactOptions {
  /** Retries after a retryable error before giving up (default 100). */
  readonly retryLimit?: number;
  /** Milliseconds one attempt may take before `timed_out` (default 5,000 like FoundationDB). */
  readonly timeoutMs?: number;
  /**
   * The body is safe to commit twice, so `commit_unknown_result` is retried too. Leave false for
   * bodies with blind writes such as enqueueing a message; the caller then sees the error.
   */
  readonly idempotent?: boolean;
  /** Upper bound of the exponential backoff between retries (default 1,000 ms). */
  readonly maxRetryDelayMs?: number;
}

/** Counters an engine keeps since it was opened, to see write amplification. */
export interface BackendStats {
  /** Transactions that committed. */
  commits: number;
  /** Attempts that failed with a conflict. */
  conflicts: number;
  /** Attempts retried by `transact`. */
  retries: number;
  keysRead: number;
  bytesRead: number;
  keysWritten: number;
  bytesWritten: number;
}

/** An opened storage engine. */
export interface Backend {
  /** `memory`, `lmdb` or `foundationdb`. */
  readonly kind: string;
  /**
   * Runs `fn` in a transaction and commits it, retrying on conflict and retryable errors with
   * exponential backoff, and rethrowing anything else. `fn` may therefore run more than once.
   */
  transact<T>(fn: (tx: Transaction) => T | Promise<T>, options?: TransactOptions): Promise<T>;
  /** A copy of the counters. */
  stats(): BackendStats;
  /** Stops the engine; pending watches resolve `false`; later calls throw `closed`. */
  close(): Promise<void>;
  readonly closed: boolean;
}

/** Limits enforced identically by every engine (FoundationDB's). */
export const LIMITS = Object.freeze({
  keyBytes: 10_000,
  valueBytes: 100_000,
  transactionBytes: 10_000_000,
  timeoutMs: 5_000,
  mvccWindowMs: 5_000,
});
