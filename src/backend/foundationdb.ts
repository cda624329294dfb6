/**
 * The FoundationDB engine: the storage contract over the `foundationdb` package
 * (node-foundationdb), a thin adapter. Every key lives under one prefix, added and stripped here,
 * so the runtime's keys are the same on every engine and several applications can share a cluster.
 *
 * The binding is an optional dependency, loaded on first use; without it (or without the
 * FoundationDB client library) {@link foundationdb} rejects with `foundationdb_unavailable`.
 */
import * as tuple from 'fdb-tuple';
import { LIMITS, type Backend, type BackendStats, type Bytes, type Transaction, type TransactOptions } from './contract.js';
import { ClosedError, CommitUnknownResultError, InvalidOperationError, StorageError } from './errors.js';
import type { TupleItem } from './subspace.js';
import { loadBinding, type FdbDatabase, type FdbTransaction, type FdbWatch, type FoundationDBBinding } from './foundationdb-binding.js';
import { ErrorPredicate, FdbCode, fdbCodeOf, mapFdbError, type AttemptSizes } from './foundationdb-errors.js';
import { FdbTransactionAdapter, type EngineHooks } from './foundationdb-transaction.js';

export { FoundationDBError, FoundationDBUnavailableError } from './foundationdb-errors.js';
export type { FoundationDBBinding } from './foundationdb-binding.js';

/** Options of {@link foundationdb}. */
export interface FoundationDBOptions {
  /**
   * Path of the cluster file. Default: FoundationDB's own choice (`FDB_CLUSTER_FILE`, then
   * `fdb.cluster` in the working directory, then the platform's default path such as
   * `/etc/foundationdb/fdb.cluster`).
   */
  readonly clusterFile?: string;
  /**
   * The prefix of every key this engine writes: bytes, or a tuple that is packed with the tuple
   * layer. Default: none — dgen's keys already live under `createSystem`'s prefix, the tuple
   * `('dgen')`. Give each application its own prefix (here or in `createSystem`) to share a cluster.
   */
  readonly prefix?: Bytes | readonly TupleItem[];
  /** FoundationDB API version, 520 to 720 (default 710: FoundationDB 7.1 and later clients). */
  readonly apiVersion?: number;
  /**
   * A binding to use instead of importing the `foundationdb` package (tests inject a simulated
   * native client this way).
   * @internal
   */
  readonly binding?: FoundationDBBinding | (() => Promise<FoundationDBBinding>);
}

/** The API version used when none is given. */
export const DEFAULT_API_VERSION = 710;

const MIN_API_VERSION = 520; // 4-byte versionstamp offsets
const MAX_API_VERSION = 720; // the newest the binding supports

/**
 * Opens the FoundationDB engine. The `foundationdb` package and the FoundationDB client library
 * must be installed (see docs/foundationdb.md); otherwise this rejects with
 * `FoundationDBUnavailableError` (code `foundationdb_unavailable`), whose message says what to
 * install. Nothing is contacted until the first transaction.
 *
 * `transact` runs the body in node-foundationdb's transaction and retries it through
 * FoundationDB's `onError` (backoff, `retry_limit`, `max_retry_delay`). `timeoutMs` becomes the
 * transaction's `timeout` option, which in FoundationDB covers the whole call, retries included.
 *
 * @example
 * ```ts
 * import { createSystem, foundationdb } from 'dgen';
 * const system = await createSystem({
 *   backend: foundationdb({ clusterFile: '/etc/foundationdb/fdb.cluster', prefix: ['my-app'] }),
 * });
 * ```
 */
export async function foundationdb(options: FoundationDBOptions = {}): Promise<Backend> {
  const apiVersion = options.apiVersion ?? DEFAULT_API_VERSION;
  if (!Number.isInteger(apiVersion) || apiVersion < MIN_API_VERSION || apiVersion > MAX_API_VERSION) {
    throw new InvalidOperationError(`foundationdb(): apiVersion must be an integer from ${MIN_API_VERSION} to ${MAX_API_VERSION}, got ${apiVersion}`);
  }
  const prefix = toPrefix(options.prefix);
  const given = options.binding;
  const binding = given === undefined ? await loadBinding() : typeof given === 'function' ? await given() : given;
  try {
    binding.fdb.setAPIVersion(apiVersion); // a no-op when this process already chose the same version
  } catch (e) {
    throw new InvalidOperationError(
      `foundationdb(): cannot use API version ${apiVersion}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)} ` +
        '(a process has one FoundationDB API version; pass the same apiVersion everywhere)',
    );
  }
  const db = binding.fdb.open(options.clusterFile);
  return new FoundationDBBackend(binding, db, prefix);
}

function toPrefix(prefix: FoundationDBOptions['prefix']): Buffer {
  if (prefix === undefined) return Buffer.alloc(0);
  const bytes = Array.isArray(prefix) ? tuple.pack(prefix as TupleItem[]) : Buffer.from(prefix as Bytes);
  if (bytes.length > 0 && bytes[0] === 0xff) {
    throw new InvalidOperationError('foundationdb(): the prefix must not start with byte 0xff, which is FoundationDB\'s system keyspace');
  }
  if (bytes.length >= LIMITS.keyBytes) throw new InvalidOperationError(`foundationdb(): a prefix of ${bytes.length} bytes leaves no room for keys`);
  return bytes;
}

const DEFAULTS = Object.freeze({ retryLimit: 100, timeoutMs: LIMITS.timeoutMs, maxRetryDelayMs: 1_000 });

class FoundationDBBackend implements Backend, EngineHooks {
  readonly kind = 'foundationdb';
  readonly counters: BackendStats = { commits: 0, conflicts: 0, retries: 0, keysRead: 0, bytesRead: 0, keysWritten: 0, bytesWritten: 0 };
  private readonly watches = new Set<FdbWatch>();
  /** Transactions in flight, cancelled by close(). */
  private readonly active = new Map<FdbTransaction, FdbTransactionAdapter>();
  private isClosed = false;

  constructor(
    private readonly binding: FoundationDBBinding,
    private readonly db: FdbDatabase,
    readonly prefix: Buffer,
  ) {}

  get closed(): boolean {
    return this.isClosed;
  }

  stats(): BackendStats {
    return { ...this.counters };
  }

  async transact<T>(fn: (tx: Transaction) => T | Promise<T>, options: TransactOptions = {}): Promise<T> {
    if (this.isClosed) throw new ClosedError();
    const idempotent = options.idempotent ?? false;
    const timeout = options.timeoutMs ?? DEFAULTS.timeoutMs;
    const tn = this.db.rawCreateTransaction({
      timeout: Number.isFinite(timeout) && timeout > 0 ? Math.ceil(timeout) : 0,
      retry_limit: Math.max(0, Math.floor(options.retryLimit ?? DEFAULTS.retryLimit)),
      max_retry_delay: Math.max(0, Math.ceil(options.maxRetryDelayMs ?? DEFAULTS.maxRetryDelayMs)),
    });
    try {
      return await this.run(tn, fn, idempotent);
    } finally {
      this.active.delete(tn);
    }
  }

  private async run<T>(tn: FdbTransaction, fn: (tx: Transaction) => T | Promise<T>, idempotent: boolean): Promise<T> {
    for (;;) {
      if (this.isClosed) throw new ClosedError();
      const attempt = new FdbTransactionAdapter(this, tn);
      this.active.set(tn, attempt);
      let committing = false;
      try {
        const result = await fn(attempt);
        committing = true;
        await attempt.commit();
        this.counters.commits++;
        return result;
      } catch (error) {
        if (this.isClosed) {
          attempt.fail(new ClosedError());
          throw new ClosedError();
        }
        const code = fdbCodeOf(error, this.binding.fdb.FDBError);
        const mapped = committing && code === FdbCode.timedOut ? timedOutAtCommit(error) : this.mapError(error, attempt);
        attempt.fail(mapped);
        if (code === undefined) {
          tn.rawCancel();
          throw error; // not a storage failure: the body's own error, untouched
        }
        if (code === FdbCode.notCommitted && isCode(mapped, 'not_committed')) this.counters.conflicts++;
        if (!idempotent && this.is(ErrorPredicate.MaybeCommitted, code)) {
          tn.rawCancel();
          throw mapped;
        }
        try {
          await tn.rawOnError(code); // FoundationDB backs off and resets, or rethrows: not retryable, or out of retries
        } catch (final) {
          const finalCode = fdbCodeOf(final, this.binding.fdb.FDBError);
          throw finalCode === undefined || finalCode === code ? mapped : this.mapError(final, attempt);
        }
        this.counters.retries++;
      }
    }
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const [tn, attempt] of [...this.active]) {
      attempt.fail(new ClosedError());
      tn.rawCancel();
    }
    this.active.clear();
    for (const w of [...this.watches]) w.cancel();
    this.watches.clear();
    this.db.close();
  }

  // EngineHooks, for the transaction adapter.

  /** FoundationDB's `fdb_error_predicate`. */
  is(predicate: number, code: number): boolean {
    return this.binding.native.errorPredicate(predicate, code);
  }

  /** Maps an error of the binding onto the storage contract's errors; anything else is returned as is. */
  mapError(error: unknown, sizes?: AttemptSizes): unknown {
    if (error instanceof StorageError) return error;
    const code = fdbCodeOf(error, this.binding.fdb.FDBError);
    if (code === undefined) return error;
    return mapFdbError(
      code,
      error,
      { retryable: this.is(ErrorPredicate.Retryable, code), maybeCommitted: this.is(ErrorPredicate.MaybeCommitted, code) },
      sizes,
    );
  }

  trackWatch(w: FdbWatch): void {
    this.watches.add(w);
  }

  untrackWatch(w: FdbWatch): void {
    this.watches.delete(w);
  }
}

/**
 * A timeout that fired while the commit was in flight: FoundationDB may still apply that commit
 * (cancelling a transaction does not recall a commit already sent), so the outcome is unknown.
 */
function timedOutAtCommit(cause: unknown): CommitUnknownResultError {
  const e = new CommitUnknownResultError('Transaction may or may not have committed: its timeout (TransactOptions.timeoutMs, FoundationDB option `timeout`) fired while its commit was in flight');
  Object.defineProperty(e, 'cause', { value: cause, configurable: true, writable: true });
  return e;
}

function isCode(error: unknown, code: string): boolean {
  return error instanceof StorageError && error.code === code;
}
