/**
 * One attempt of a FoundationDB transaction, seen through the storage contract: keys get the
 * engine's prefix on the way in and lose it on the way out, limits are checked before anything
 * reaches the client, errors of the binding become the contract's errors, and the attempt ends
 * (committed or failed) so that a stale handle cannot touch the retried transaction.
 * @internal
 */
import { LIMITS, type BackendStats, type Bytes, type KeyValue, type RangeOptions, type ReadOptions, type Transaction, type Watch } from './contract.js';
import { ClosedError, CommitFailedError, InvalidOperationError, KeyTooLargeError, UsedAfterCommitError } from './errors.js';
import { isDgenError } from '../errors.js';
import { checkStampOffset, checkValue, toDelta } from './bytes.js';
import type { FdbTransaction, FdbWatch } from './foundationdb-binding.js';
import type { AttemptSizes } from './foundationdb-errors.js';

/** What the adapter needs from its engine. @internal */
export interface EngineHooks {
  readonly prefix: Buffer;
  readonly counters: BackendStats;
  /** Maps an error of the binding onto the contract's errors; anything else is returned as is. */
  mapError(error: unknown, sizes?: AttemptSizes): unknown;
  trackWatch(watch: FdbWatch): void;
  untrackWatch(watch: FdbWatch): void;
}

type State = 'open' | 'committing' | 'committed' | 'failed';

const ignore = () => {};

function view(bytes: Bytes): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function offsetSuffix(offset: number): Buffer {
  const out = Buffer.allocUnsafe(4);
  out.writeUInt32LE(offset, 0); // API version >= 520: the stamp offset, 4 bytes little-endian, after the parameter
  return out;
}

/** @internal */
export class FdbTransactionAdapter implements Transaction, AttemptSizes {
  bytes = 0;
  conflictBytes = 0;
  largestKey = 0;
  largestValue = 0;
  private state: State = 'open';
  mutations = 0;
  private stamp: Buffer | undefined;
  private failure: unknown;
  private waiter: { promise: Promise<Buffer>; resolve(b: Buffer): void; reject(e: unknown): void } | undefined;

  constructor(
    private readonly host: EngineHooks,
    private readonly tn: FdbTransaction,
  ) {}

  private key(key: Bytes): Buffer {
    const full = Buffer.concat([this.host.prefix, view(key)]);
    if (full.length > LIMITS.keyBytes) {
      const size = this.host.prefix.length > 0 ? `${full.length} (${key.byteLength} + ${this.host.prefix.length}-byte prefix)` : full.length;
      throw Object.assign(new KeyTooLargeError(full.length, LIMITS.keyBytes), {
        message: `Key length ${size} exceeds FoundationDB's limit of ${LIMITS.keyBytes} bytes`,
      });
    }
    return full;
  }

  private strip(key: Buffer): Buffer {
    return key.subarray(this.host.prefix.length);
  }

  private assertOpen(): void {
    if (this.state === 'open') return;
    if (this.failure instanceof ClosedError) throw this.failure;
    throw new UsedAfterCommitError();
  }

  /** Counts one mutation of `keyBytes` + `valueBytes`, and its write conflict range (key, key + 0x00). */
  private wrote(keyBytes: number, valueBytes: number): void {
    this.mutations++;
    this.bytes += keyBytes + valueBytes;
    this.conflictBytes += 2 * keyBytes + 1;
    if (keyBytes > this.largestKey) this.largestKey = keyBytes;
    if (valueBytes > this.largestValue) this.largestValue = valueBytes;
  }

  private async read<T>(op: () => Promise<T>): Promise<T> {
    this.assertOpen();
    try {
      return await op();
    } catch (error) {
      if (this.failure instanceof ClosedError) throw this.failure;
      throw this.host.mapError(error, this);
    }
  }

  private reader(options: ReadOptions | undefined): FdbTransaction {
    return options?.snapshot === true ? this.tn.snapshot() : this.tn;
  }

  async getReadVersion(): Promise<bigint> {
    const version = await this.read(() => this.tn.getReadVersion());
    return version.readBigUInt64BE(0);
  }

  async get(key: Bytes, options?: ReadOptions): Promise<Buffer | undefined> {
    if (options?.snapshot !== true) this.conflictBytes += 2 * (this.host.prefix.length + key.byteLength) + 1;
    const value = await this.read(() => this.reader(options).get(this.key(key)));
    if (value === undefined || value === null) return undefined;
    this.host.counters.keysRead++;
    this.host.counters.bytesRead += key.byteLength + value.length;
    return value;
  }

  async getRange(begin: Bytes, end: Bytes, options?: RangeOptions): Promise<KeyValue[]> {
    this.assertOpen();
    if (Buffer.compare(view(begin), view(end)) >= 0) return [];
    if (options?.snapshot !== true) this.conflictBytes += 2 * this.host.prefix.length + begin.byteLength + end.byteLength;
    const rows = await this.read(() =>
      this.reader(options).getRangeAll(this.key(begin), this.key(end), { limit: options?.limit ?? 0, reverse: options?.reverse === true }),
    );
    let bytes = 0;
    const out = rows.map(([k, v]): KeyValue => {
      const key = this.strip(k);
      bytes += key.length + v.length;
      return { key, value: v };
    });
    this.host.counters.keysRead += out.length;
    this.host.counters.bytesRead += bytes;
    return out;
  }

  set(key: Bytes, value: Bytes): void {
    this.assertOpen();
    const k = this.key(key);
    checkValue(value, key);
    this.tn.set(k, view(value));
    this.wrote(k.length, value.byteLength);
  }

  clear(key: Bytes): void {
    this.assertOpen();
    const k = this.key(key);
    this.tn.clear(k);
    this.wrote(k.length, 0);
  }

  clearRange(begin: Bytes, end: Bytes): void {
    this.assertOpen();
    if (Buffer.compare(view(begin), view(end)) >= 0) return; // FoundationDB rejects an inverted range; the contract clears nothing
    const b = this.key(begin);
    const e = this.key(end);
    this.tn.clearRange(b, e);
    this.wrote(b.length + e.length, 0);
  }

  add(key: Bytes, delta: number | bigint): void {
    this.assertOpen();
    const k = this.key(key);
    const operand = Buffer.allocUnsafe(8);
    operand.writeBigUInt64LE(toDelta(delta), 0);
    this.tn.add(k, operand);
    this.wrote(k.length, 8);
  }

  setVersionstampedKey(key: Bytes, stampOffset: number, value: Bytes): void {
    this.assertOpen();
    const k = this.key(key);
    checkValue(value, key);
    checkStampOffset('key', key, stampOffset);
    this.tn.setVersionstampedKeyRaw(Buffer.concat([k, offsetSuffix(this.host.prefix.length + stampOffset)]), view(value));
    this.wrote(k.length, value.byteLength);
  }

  setVersionstampedValue(key: Bytes, value: Bytes, stampOffset = 0): void {
    this.assertOpen();
    const k = this.key(key);
    checkValue(value, key);
    checkStampOffset('value', value, stampOffset);
    this.tn.setVersionstampedValueRaw(k, Buffer.concat([view(value), offsetSuffix(stampOffset)]));
    this.wrote(k.length, value.byteLength);
  }

  addReadConflictKey(key: Bytes): void {
    this.assertOpen();
    const k = this.key(key);
    this.conflictBytes += 2 * k.length + 1;
    this.tn.addReadConflictKey(k);
  }

  addReadConflictRange(begin: Bytes, end: Bytes): void {
    this.assertOpen();
    if (Buffer.compare(view(begin), view(end)) >= 0) return;
    const b = this.key(begin);
    const e = this.key(end);
    this.conflictBytes += b.length + e.length;
    this.tn.addReadConflictRange(b, e);
  }

  watch(key: Bytes): Watch {
    this.assertOpen();
    const w = this.tn.watch(this.key(key));
    this.host.trackWatch(w);
    // The binding resolves false when the watching transaction is cancelled or conflicts; any other
    // error of the watch (e.g. the transaction timed out) also means it will never fire.
    const promise = w.promise.then(
      (fired) => fired === true,
      () => false,
    );
    void promise.then(() => this.host.untrackWatch(w));
    return { promise, cancel: () => w.cancel() };
  }

  getVersionstamp(): Promise<Buffer> {
    if (this.state === 'committed') return this.stamp !== undefined ? Promise.resolve(Buffer.from(this.stamp)) : Promise.reject(noStamp());
    if (this.state === 'failed') return Promise.reject(didNotCommit(this.failure));
    if (this.waiter === undefined) {
      let resolve!: (b: Buffer) => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<Buffer>((res, rej) => ((resolve = res), (reject = rej)));
      promise.catch(ignore); // a retried attempt must not leave an unhandled rejection
      this.waiter = { promise, resolve, reject };
    }
    return this.waiter.promise;
  }

  /**
   * Commits through the binding. FoundationDB hands out the versionstamp only to a request made
   * before the commit, so a transaction that wrote asks for it here.
   */
  async commit(): Promise<void> {
    this.assertOpen();
    this.state = 'committing';
    const stamp = this.mutations > 0 ? this.tn.getVersionstamp().promise : undefined;
    await this.tn.rawCommit();
    if (stamp !== undefined) {
      try {
        this.stamp = await stamp;
      } catch (error) {
        this.stamp = undefined;
        this.state = 'committed';
        this.waiter?.reject(this.host.mapError(error, this));
        this.count();
        return;
      }
    }
    this.state = 'committed';
    this.count();
    if (this.waiter !== undefined) {
      if (this.stamp !== undefined) this.waiter.resolve(Buffer.from(this.stamp));
      else this.waiter.reject(noStamp());
    }
  }

  /** Ends a failed attempt: later use throws, the versionstamp promise rejects. */
  fail(reason: unknown): void {
    if (this.state === 'committed' || this.state === 'failed') return;
    this.state = 'failed';
    this.failure = reason;
    this.waiter?.reject(didNotCommit(reason));
  }

  private count(): void {
    this.host.counters.keysWritten += this.mutations;
    this.host.counters.bytesWritten += this.bytes;
  }
}

function noStamp(): InvalidOperationError {
  return new InvalidOperationError('getVersionstamp(): the transaction wrote nothing, so it has no commit version');
}

function didNotCommit(reason: unknown): unknown {
  return isDgenError(reason) ? reason : new CommitFailedError('The transaction did not commit, so it has no versionstamp', reason);
}
