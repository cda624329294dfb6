/**
 * The simulated native transaction: the object node-foundationdb's `Transaction` class wraps
 * (`NativeTransaction` in its lib/native.ts), with the C client's behaviour the JS layer relies
 * on — futures as promises or callbacks, writes that fail later through a deferred error,
 * `onError` with backoff and `retry_limit`, the `timeout` option measured from creation and kept
 * across `onError` (API 610+), `used_during_commit`, versionstamps requested before commit,
 * watches that resolve `false` on cancellation or conflict. Reads and writes go to one attempt of
 * the simulated store, held open until commit.
 *
 * Test-only. It is a simulation of the native client over dgen's memory engine, not FoundationDB:
 * it checks how dgen drives the binding, not how a cluster behaves.
 */
import type { Backend, Transaction, Watch } from '../../src/backend/contract.js';
import type { SimulatedCluster } from './cluster.js';
import { Code, NativeFailure, Predicate, codeOfStoreError, errorPredicate } from './fdb-errors.js';

/** What the simulated native module gives its transactions. */
export interface NativeHost {
  /** An instance of the binding's FDBError class (as the C++ `create_error`). */
  error(code: number): Error;
  readonly apiVersion: number;
  random(): number;
}

/** Options a database hands to each of its transactions (`transaction_*` database options). */
export interface TransactionDefaults {
  timeoutMs: number;
  retryLimit: number;
  maxRetryDelayMs: number;
}

/** What a transaction needs from its database. */
export interface DatabaseHost {
  readonly cluster: SimulatedCluster;
  readonly defaults: TransactionDefaults;
  /** Registers a watch, or returns the error code when the database may not have another. */
  addWatch(watch: SimulatedWatch): number | undefined;
  removeWatch(watch: SimulatedWatch): void;
}

export type NativeValue = string | Uint8Array | ArrayBuffer;
type Callback<T> = (err: Error | null, value?: T) => void;

/** A limit of the simulation (not of FoundationDB): the harness does not model this call. */
export class NotSimulatedError extends Error {
  constructor(what: string) {
    super(`The simulated FoundationDB native client does not model ${what}`);
  }
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/** Bytes of a native parameter, copied (the caller may reuse its buffer). */
export function bytes(value: NativeValue): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (value instanceof ArrayBuffer) return Buffer.from(new Uint8Array(value));
  if (value instanceof Uint8Array) return Buffer.from(value);
  throw new TypeError('Invalid param - must be string, buffer or arraybuffer');
}

/** Delivers a future as the native module does: to the callback when given, else as a promise. */
function future<T>(promise: Promise<T>, cb: Callback<T> | undefined): Promise<T> | undefined {
  if (cb === undefined) return promise;
  promise.then(
    (value) => cb(null, value),
    (error: Error) => cb(error),
  );
  return undefined;
}

/** One attempt of the simulated store, kept open (its body waiting) until commit or abort. */
class Attempt {
  readonly ready = deferred<Transaction>();
  readonly outcome: Promise<void>;
  /** Settled with what commit reported (resolve: committed). */
  readonly reported = deferred<void>();
  /** Rejects with the abort reason. */
  readonly abortSignal = deferred<never>();
  abortedWith: number | undefined;
  released = false;
  private readonly gate = deferred<void>();

  constructor(store: Promise<Backend>) {
    let runs = 0;
    this.outcome = store.then((backend) =>
      backend.transact(
        async (tx) => {
          // The store runs this body once; a second run would mean it retried on its own.
          if (++runs > 1) throw new NativeFailure(Code.internalError);
          this.ready.resolve(tx);
          await this.gate.promise;
        },
        { retryLimit: 0, timeoutMs: 0, idempotent: false },
      ),
    );
    this.outcome.catch((e: unknown) => this.ready.reject(e));
  }

  release(): void {
    this.released = true;
    this.gate.resolve();
  }

  abort(code: number): void {
    if (this.released || this.abortedWith !== undefined) return;
    this.abortedWith = code;
    const failure = new NativeFailure(code);
    this.gate.reject(failure);
    this.abortSignal.reject(failure);
    this.reported.reject(failure);
  }
}

/** The simulated `Watch` object: `promise` and `cancel()`, as the native module's. */
export class SimulatedWatch {
  readonly promise: Promise<boolean>;
  private resolve!: (fired: boolean) => void;
  private reject!: (error: Error) => void;
  private store: Watch | undefined;
  private settled = false;

  constructor(
    private readonly host: NativeHost,
    private readonly db: DatabaseHost,
    private readonly ignoreStandardErrors: boolean,
  ) {
    this.promise = new Promise<boolean>((res, rej) => ((this.resolve = res), (this.reject = rej)));
  }

  /** @internal */
  attach(watch: Watch): void {
    if (this.settled) {
      watch.cancel();
      return;
    }
    this.store = watch;
    // The store settles false when the watch is cancelled, its transaction does not commit, or the
    // store closes; the client reports those as operation_cancelled, transaction_cancelled or not_committed.
    void watch.promise.then((fired) => (fired ? this.settle(true) : this.fail(Code.operationCancelled)));
  }

  cancel(): void {
    if (this.settled) return;
    if (this.store !== undefined) this.store.cancel();
    else this.fail(Code.operationCancelled);
  }

  /** @internal */
  fail(code: number): void {
    if (this.settled) return;
    if (this.ignoreStandardErrors && (code === Code.operationCancelled || code === Code.transactionCancelled || code === Code.notCommitted)) {
      this.settle(false);
      return;
    }
    this.settled = true;
    this.db.removeWatch(this);
    this.reject(this.host.error(code));
  }

  private settle(fired: boolean): void {
    if (this.settled) return;
    this.settled = true;
    this.db.removeWatch(this);
    this.resolve(fired);
  }
}

type State = 'open' | 'committing' | 'committed' | 'failed';

const MUTATION_ADD = 2;
const MUTATION_SET_VERSIONSTAMPED_KEY = 14;
const MUTATION_SET_VERSIONSTAMPED_VALUE = 15;
const OPTION_TIMEOUT = 500;
const OPTION_RETRY_LIMIT = 501;
const OPTION_MAX_RETRY_DELAY = 502;
const INITIAL_BACKOFF_MS = 10; // CLIENT_KNOBS->DEFAULT_BACKOFF

/** The simulated `NativeTransaction`. */
export class SimulatedTransaction {
  private attempt: Attempt | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private state: State = 'open';
  private failedWith: number | undefined;
  private deferredError: number | undefined;
  private cancelled = false;
  private timedOut = false;
  private options: TransactionDefaults;
  private createdAt = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private retries = 0;
  private backoffMs = INITIAL_BACKOFF_MS;
  private committedVersion = -1n;
  /** Fails the commit in flight when the timeout fires (set while committing). */
  private onCommitTimeout: (() => void) | undefined;
  private approximateSize = 0;
  /** The read version once a read returned (`getCachedReadVersion`). */
  private cachedReadVersion: bigint | undefined;
  /** Key ranges made unreadable by versionstamped mutations of this attempt. */
  private unreadable: [Buffer, Buffer][] = [];
  /** A read of this attempt failed with accessed_unreadable: its commit fails the same way. */
  private readUnreadable = false;

  constructor(
    private readonly host: NativeHost,
    private readonly db: DatabaseHost,
  ) {
    this.options = { ...db.defaults };
    this.armTimer();
  }

  // ---- lifecycle

  setOption(code: number, param: string | number | Buffer | null): void {
    const n = typeof param === 'number' ? param : 0;
    if (code === OPTION_TIMEOUT) {
      this.options.timeoutMs = n;
      this.armTimer();
    } else if (code === OPTION_RETRY_LIMIT) this.options.retryLimit = n;
    else if (code === OPTION_MAX_RETRY_DELAY) this.options.maxRetryDelayMs = n;
    // Other options change nothing the simulation models.
  }

  commit(cb?: Callback<void>): Promise<void> | undefined {
    return future(this.doCommit(), cb);
  }

  reset(): void {
    this.endAttempt(Code.transactionCancelled);
    this.cancelled = false;
    this.timedOut = false;
    this.options = { ...this.db.defaults };
    this.retries = 0;
    this.backoffMs = INITIAL_BACKOFF_MS;
    this.createdAt = Date.now();
    this.armTimer();
  }

  cancel(): void {
    this.cancelled = true;
    this.clearTimer();
    this.attempt?.abort(Code.transactionCancelled);
  }

  onError(code: number, cb?: Callback<void>): Promise<void> | undefined {
    return future(this.doOnError(code), cb);
  }

  getApproximateSize(): Promise<number> {
    return Promise.resolve(this.approximateSize);
  }

  // ---- reads

  get(key: NativeValue, isSnapshot: boolean, cb?: Callback<Buffer | undefined>): Promise<Buffer | undefined> | undefined {
    const k = bytes(key);
    return future(
      this.read(async (tx) => {
        this.checkReadable(k, Buffer.concat([k, ZERO]));
        return tx.get(k, { snapshot: isSnapshot });
      }, true),
      cb,
    );
  }

  getKey(_key: NativeValue, _orEqual: boolean, _offset: number, _isSnapshot: boolean, cb?: Callback<Buffer>): Promise<Buffer> | undefined {
    return future(Promise.reject(new NotSimulatedError('getKey (key selectors)')), cb);
  }

  getRange(
    start: NativeValue,
    beginOrEqual: boolean,
    beginOffset: number,
    end: NativeValue,
    endOrEqual: boolean,
    endOffset: number,
    limit: number,
    targetBytes: number,
    mode: number,
    iteration: number,
    isSnapshot: boolean,
    reverse: boolean,
    cb?: Callback<{ results: [Buffer, Buffer][]; more: boolean }>,
  ): Promise<{ results: [Buffer, Buffer][]; more: boolean }> | undefined {
    const begin = selectorKey(bytes(start), beginOrEqual, beginOffset);
    const stop = selectorKey(bytes(end), endOrEqual, endOffset);
    return future(
      this.read(async (tx) => {
        if (Buffer.compare(begin, stop) > 0) throw new NativeFailure(Code.invertedRange);
        // Rows come in batches bounded by bytes, as the client's streaming modes do, so the JS
        // layer's continuation loop (`more`, the next selector, the remaining limit) is exercised.
        const budget = batchBytes(mode, iteration, targetBytes);
        const fetch = limit > 0 ? Math.min(limit, 1_000) : 1_000;
        const rows = await tx.getRange(begin, stop, { limit: fetch, reverse, snapshot: isSnapshot });
        const results: [Buffer, Buffer][] = [];
        let size = 0;
        for (const row of rows) {
          results.push([row.key, row.value]);
          size += row.key.length + row.value.length;
          if (mode !== 0 && size >= budget) break; // mode Exact (0) returns all `limit` rows
        }
        const more = results.length < rows.length || (rows.length === fetch && (limit === 0 || fetch < limit));
        // The client walks the range in order and fails on reaching an unreadable part.
        const last = results.at(-1)?.[0];
        const reachedLimit = limit > 0 && results.length >= limit;
        if ((!more && !reachedLimit) || last === undefined) this.checkReadable(begin, stop);
        else if (reverse) this.checkReadable(last, stop);
        else this.checkReadable(begin, Buffer.concat([last, ZERO]));
        return { results, more };
      }, true),
      cb,
    );
  }

  getReadVersion(cb?: Callback<Buffer>): Promise<Buffer> | undefined {
    return future(
      this.read(async (tx) => {
        const out = Buffer.alloc(8);
        out.writeBigUInt64BE(await tx.getReadVersion());
        return out;
      }, true),
      cb,
    );
  }

  setReadVersion(_version: Buffer): void {
    throw new NotSimulatedError('setReadVersion');
  }

  getCommittedVersion(): Buffer {
    const out = Buffer.alloc(8);
    out.writeBigInt64BE(this.committedVersion);
    return out;
  }

  getVersionstamp(cb?: Callback<Buffer>): Promise<Buffer> | undefined {
    const blocked = this.blockedCode();
    if (blocked !== undefined) return future(Promise.reject(this.host.error(blocked)), cb);
    const attempt = this.currentAttempt();
    const stamp = attempt.reported.promise.then(async () => {
      const tx = await attempt.ready.promise;
      try {
        return await tx.getVersionstamp();
      } catch (e) {
        throw isReadOnly(e) ? new NativeFailure(Code.noCommitVersion) : e;
      }
    });
    return future(this.fdb(stamp), cb);
  }

  getEstimatedRangeSizeBytes(): Promise<number> {
    return Promise.reject(new NotSimulatedError('getEstimatedRangeSizeBytes'));
  }

  getRangeSplitPoints(): Promise<Buffer[]> {
    return Promise.reject(new NotSimulatedError('getRangeSplitPoints'));
  }

  getAddressesForKey(): Promise<string[]> {
    return Promise.reject(new NotSimulatedError('getAddressesForKey'));
  }

  watch(key: NativeValue, ignoreStandardErrors: boolean): SimulatedWatch {
    const w = new SimulatedWatch(this.host, this.db, ignoreStandardErrors);
    const blocked = this.blockedCode();
    if (blocked !== undefined) {
      w.fail(blocked);
      return w;
    }
    const refused = this.db.addWatch(w);
    if (refused !== undefined) {
      w.fail(refused);
      return w;
    }
    const k = bytes(key);
    this.read((tx) => w.attach(tx.watch(k))).catch((e: Error & { code?: number }) => w.fail(typeof e.code === 'number' ? e.code : Code.internalError));
    return w;
  }

  // ---- writes: like the C client, a failing write surfaces later, at the next read or at commit

  set(key: NativeValue, value: NativeValue): void {
    const k = bytes(key);
    const v = bytes(value);
    this.write(k.length + v.length, (tx) => tx.set(k, v));
  }

  clear(key: NativeValue): void {
    const k = bytes(key);
    this.makeReadable(k, Buffer.concat([k, ZERO]));
    this.write(k.length, (tx) => tx.clear(k));
  }

  clearRange(start: NativeValue, end: NativeValue): void {
    const b = bytes(start);
    const e = bytes(end);
    if (Buffer.compare(b, e) > 0) {
      this.deferredError ??= Code.invertedRange;
      return;
    }
    this.makeReadable(b, e);
    this.write(b.length + e.length, (tx) => tx.clearRange(b, e));
  }

  atomicOp(opType: number, key: NativeValue, operand: NativeValue): void {
    const k = bytes(key);
    const param = bytes(operand);
    switch (opType) {
      case MUTATION_ADD:
        if (param.length !== 8) throw new NotSimulatedError(`ADD with a ${param.length}-byte operand (only 8 bytes)`);
        this.write(k.length + 8, (tx) => tx.add(k, param.readBigInt64LE(0)));
        return;
      case MUTATION_SET_VERSIONSTAMPED_KEY: {
        const { data, offset } = this.splitStampOffset(k, true);
        this.markUnreadable(stampRange(data, offset, this.cachedReadVersion ?? 0n));
        this.write(data.length + param.length, (tx) => tx.setVersionstampedKey(data, offset, param));
        return;
      }
      case MUTATION_SET_VERSIONSTAMPED_VALUE: {
        const { data, offset } = this.splitStampOffset(param, false);
        this.markUnreadable([k, Buffer.concat([k, ZERO])]);
        this.write(k.length + data.length, (tx) => tx.setVersionstampedValue(k, data, offset));
        return;
      }
      default:
        throw new NotSimulatedError(`atomic mutation type ${opType}`);
    }
  }

  addReadConflictRange(start: NativeValue, end: NativeValue): void {
    const b = bytes(start);
    const e = bytes(end);
    if (Buffer.compare(b, e) > 0) throw this.host.error(Code.invertedRange);
    this.write(0, (tx) => tx.addReadConflictRange(b, e));
  }

  addWriteConflictRange(_start: NativeValue, _end: NativeValue): void {
    throw new NotSimulatedError('addWriteConflictRange');
  }

  // ---- internals

  /** The code every operation fails with now, if any. */
  private blockedCode(): number | undefined {
    if (this.cancelled) return Code.transactionCancelled;
    if (this.timedOut) return Code.timedOut;
    if (this.state === 'failed') return this.failedWith;
    if (this.state !== 'open') return Code.usedDuringCommit;
    return undefined;
  }

  private currentAttempt(): Attempt {
    return (this.attempt ??= new Attempt(this.db.cluster.backend()));
  }

  /** Runs `op` on the attempt after every earlier operation, failing as the client would. */
  private read<T>(op: (tx: Transaction) => T | Promise<T>, isRead = false): Promise<T> {
    const blocked = this.blockedCode();
    if (blocked !== undefined) return Promise.reject(this.host.error(blocked));
    const attempt = this.currentAttempt();
    const run = this.chain.then(async () => {
      const tx = await attempt.ready.promise;
      if (attempt.abortedWith !== undefined) throw new NativeFailure(attempt.abortedWith);
      if (this.deferredError !== undefined) throw new NativeFailure(this.deferredError);
      const result = await op(tx);
      if (isRead && this.cachedReadVersion === undefined && attempt === this.attempt) this.cachedReadVersion = await tx.getReadVersion();
      return result;
    });
    this.chain = run.then(
      () => {},
      () => {},
    );
    return this.fdb(Promise.race([run, attempt.abortSignal.promise]));
  }

  private write(size: number, op: (tx: Transaction) => void): void {
    if (this.state === 'committing' || this.state === 'committed') {
      this.deferredError ??= Code.usedDuringCommit;
      return;
    }
    this.approximateSize += size;
    this.read(op).catch((e: Error & { code?: number }) => {
      this.deferredError ??= typeof e.code === 'number' ? e.code : Code.internalError;
    });
  }

  /** Turns a failure of the simulation into the binding's FDBError (harness limits pass through). */
  private fdb<T>(p: Promise<T>): Promise<T> {
    return p.catch((e: unknown) => {
      if (e instanceof NotSimulatedError || (e instanceof Error && typeof (e as { code?: unknown }).code === 'number')) throw e;
      throw this.host.error(codeOfStoreError(e));
    });
  }

  private splitStampOffset(param: Buffer, isKey: boolean): { data: Buffer; offset: number } {
    if (this.host.apiVersion >= 520) return { data: param.subarray(0, param.length - 4), offset: param.readUInt32LE(param.length - 4) };
    if (isKey) return { data: param.subarray(0, param.length - 2), offset: param.readUInt16LE(param.length - 2) };
    return { data: param, offset: 0 };
  }

  private async doCommit(): Promise<void> {
    const blocked = this.blockedCode();
    if (blocked !== undefined) throw this.host.error(blocked);
    this.state = 'committing';
    const attempt = this.attempt;
    if (attempt === undefined) {
      this.state = 'committed'; // nothing read or written: a no-op commit
      this.clearTimer();
      return;
    }
    await this.chain;
    const fail = (code: number): Error => {
      this.state = 'failed';
      this.failedWith = code;
      attempt.abort(code);
      attempt.reported.reject(new NativeFailure(code));
      return this.host.error(code);
    };
    if (attempt.abortedWith !== undefined) throw fail(attempt.abortedWith);
    if (this.deferredError !== undefined) throw fail(this.deferredError);
    if (this.readUnreadable) throw fail(Code.accessedUnreadable);
    const fault = this.db.cluster.takeFault();
    if (fault !== undefined && fault.applied !== true) throw fail(fault.code);
    attempt.release();
    try {
      // As the C client: the timeout fails the commit's future with timed_out, while the commit
      // already sent goes on and may still land.
      await new Promise<void>((resolve, reject) => {
        this.onCommitTimeout = () => reject(new NativeFailure(Code.timedOut));
        attempt.outcome.then(() => resolve(), reject);
      });
    } catch (e) {
      throw fail(e instanceof NativeFailure ? e.fdbCode : codeOfStoreError(e));
    } finally {
      this.onCommitTimeout = undefined;
    }
    this.db.cluster.commits++;
    if (fault !== undefined) throw fail(fault.code); // applied, then reported as failed
    this.state = 'committed';
    this.clearTimer();
    attempt.reported.resolve();
    try {
      const tx = await attempt.ready.promise;
      this.committedVersion = (await tx.getVersionstamp()).readBigInt64BE(0);
    } catch {
      this.committedVersion = -1n; // read-only
    }
  }

  private async doOnError(code: number): Promise<void> {
    if (this.cancelled) throw this.host.error(Code.transactionCancelled);
    if (this.timedOut) throw this.host.error(Code.timedOut);
    if (!errorPredicate(Predicate.Retryable, code)) throw this.host.error(code);
    if (this.options.retryLimit >= 0 && this.retries >= this.options.retryLimit) throw this.host.error(code);
    this.retries++;
    const delay = Math.min(this.backoffMs, this.options.maxRetryDelayMs) * this.host.random();
    this.backoffMs = Math.min(this.backoffMs * 2, Math.max(this.options.maxRetryDelayMs, 0));
    await new Promise((resolve) => setTimeout(resolve, delay));
    if (this.timedOut) throw this.host.error(Code.timedOut);
    // Reset for the next attempt; options, the retry count and the timeout clock are kept (API 610+).
    this.endAttempt(Code.transactionCancelled);
  }

  /** Drops the current attempt (its watches and versionstamp fail) and starts over. */
  private endAttempt(code: number): void {
    this.attempt?.abort(code);
    this.attempt = undefined;
    this.chain = Promise.resolve();
    this.state = 'open';
    this.failedWith = undefined;
    this.deferredError = undefined;
    this.committedVersion = -1n;
    this.approximateSize = 0;
    this.cachedReadVersion = undefined;
    this.unreadable = [];
    this.readUnreadable = false;
  }

  private markUnreadable(range: [Buffer, Buffer]): void {
    this.unreadable.push(range);
  }

  /**
   * A later clear of a versionstamped value's key makes it readable again; a `set` or `add` does
   * not (FoundationDB 7.3 still fails the read with accessed_unreadable).
   */
  private makeReadable(begin: Buffer, end: Buffer): void {
    if (this.unreadable.length === 0) return;
    this.unreadable = this.unreadable.filter(
      ([b, e]) => !(e.equals(Buffer.concat([b, ZERO])) && Buffer.compare(b, begin) >= 0 && Buffer.compare(b, end) < 0),
    );
  }

  /** Fails with accessed_unreadable when [begin, end) meets a range a versionstamped mutation may write. */
  private checkReadable(begin: Buffer, end: Buffer): void {
    for (const [b, e] of this.unreadable) {
      if (Buffer.compare(b, end) < 0 && Buffer.compare(begin, e) < 0) {
        this.readUnreadable = true; // as on FoundationDB 7.3, the commit then fails too
        throw new NativeFailure(Code.accessedUnreadable);
      }
    }
  }

  private armTimer(): void {
    this.clearTimer();
    const timeout = this.options.timeoutMs;
    if (!(timeout > 0)) return;
    const left = Math.max(0, this.createdAt + timeout - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.state === 'committed') return;
      this.timedOut = true;
      this.attempt?.abort(Code.timedOut);
      this.onCommitTimeout?.();
    }, left);
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

const ZERO = Buffer.from([0]);

/**
 * The keys a SET_VERSIONSTAMPED_KEY may write, as the client's `getVersionstampKeyRange`: the key
 * with the stamp at (read version, 0) up to the key with the stamp all 0xff, inclusive.
 */
function stampRange(key: Buffer, offset: number, minVersion: bigint): [Buffer, Buffer] {
  const begin = Buffer.from(key);
  begin.writeBigUInt64BE(minVersion, offset);
  begin.writeUInt16BE(0, offset + 8);
  const end = Buffer.concat([key, ZERO]);
  end.fill(0xff, offset, offset + 10);
  return [begin, end];
}

/** The key a selector with offset 1 stands for (the forms node-foundationdb's range reads use). */
function selectorKey(key: Buffer, orEqual: boolean, offset: number): Buffer {
  if (offset !== 1) throw new NotSimulatedError(`key selectors with offset ${offset} (only firstGreaterOrEqual / firstGreaterThan)`);
  return orEqual ? Buffer.concat([key, Buffer.from([0])]) : key;
}

/** Bytes per batch of a range read, after the client's streaming modes. */
function batchBytes(mode: number, iteration: number, targetBytes: number): number {
  if (targetBytes > 0) return targetBytes;
  switch (mode) {
    case -2: // WantAll
      return 80_000;
    case -1: // Iterator: grows with each batch
      return Math.min(80_000, 4_096 * 2 ** Math.max(0, iteration - 1));
    case 1: // Small
      return 256;
    case 2: // Medium
      return 1_000;
    case 3: // Large
      return 4_096;
    default: // Serial and others
      return 80_000;
  }
}

function isReadOnly(e: unknown): boolean {
  return (e as { code?: unknown } | null)?.code === 'invalid_operation';
}
