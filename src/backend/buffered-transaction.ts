/**
 * The {@link Transaction} of the memory and LMDB engines: argument checks and limits, the write
 * buffer (read-your-writes), read conflict tracking, watches, the versionstamp promise and the
 * open → committing → committed | aborted lifecycle. An engine supplies the snapshot at the read
 * version and the commit.
 * @internal
 */
import { LIMITS, type BackendStats, type Bytes, type KeyValue, type RangeOptions, type ReadOptions, type Transaction, type Watch } from './contract.js';
import { isDgenError } from '../errors.js';
import {
  AccessedUnreadableError,
  CommitFailedError,
  ClosedError,
  InvalidOperationError,
  TimedOutError,
  TransactionTooOldError,
  UsedAfterCommitError,
} from './errors.js';
import { applyAdd, checkKey, checkStampOffset, checkValue, copyBytes, keyAfter, keyBuffer, keyString, toDelta, type KeyString } from './bytes.js';
import { RangeSet } from './ranges.js';
import { WriteBuffer, type SnapshotReader } from './write-buffer.js';
import { WatchHandle } from './watches.js';
import type { TransactionAttempt } from './retry.js';

/** Reads at one version. @internal */
export interface Snapshot extends SnapshotReader {
  readonly version: bigint;
}

type State = 'open' | 'committing' | 'committed' | 'aborted';

const ignore = () => {};

/** @internal */
export abstract class BufferedTransaction implements Transaction, TransactionAttempt {
  readonly writes = new WriteBuffer();
  /** Keys read without `snapshot` (and read conflict keys). */
  readPoints: Set<KeyString> | undefined;
  /** Ranges read without `snapshot` (and read conflict ranges). */
  readRanges: RangeSet | undefined;
  /** Watches set by this transaction, armed by the engine after commit. */
  watches: WatchHandle[] | undefined;
  protected state: State = 'open';
  private snap: Snapshot | undefined;
  private readStartedAt = 0;
  private endReason: unknown;
  private stamp: Buffer | undefined;
  private stampWaiter: { promise: Promise<Buffer>; resolve(b: Buffer): void; reject(e: unknown): void } | undefined;

  constructor(protected readonly counters: BackendStats) {}

  get tx(): Transaction {
    return this;
  }

  /** Opens the engine's snapshot at a fresh read version. */
  protected abstract openSnapshot(): Snapshot;
  /** Frees what the snapshot holds (called once, when the transaction ends). */
  protected abstract releaseSnapshot(snapshot: Snapshot): void;
  /** Commits (engine-specific); must call {@link beginCommit} first and {@link finishCommit} on success. */
  abstract commit(): Promise<void>;
  /** Called once when the transaction ends, committed or not, after the snapshot is released. */
  protected ended(): void {}

  /** The snapshot, opened on first use; `transaction_too_old` past the MVCC window. */
  protected snapshot(): Snapshot {
    if (this.snap === undefined) {
      this.snap = this.openSnapshot();
      this.readStartedAt = Date.now();
    } else this.checkAge();
    return this.snap;
  }

  protected get hasSnapshot(): boolean {
    return this.snap !== undefined;
  }

  /** The read version, when the transaction has read. */
  protected get readVersion(): bigint | undefined {
    return this.snap?.version;
  }

  protected checkAge(): void {
    if (this.snap !== undefined && Date.now() - this.readStartedAt > LIMITS.mvccWindowMs) {
      throw new TransactionTooOldError();
    }
  }

  protected assertOpen(): void {
    if (this.state === 'open') return;
    const reason = this.endReason;
    if (reason instanceof TimedOutError || reason instanceof ClosedError) throw reason;
    throw new UsedAfterCommitError();
  }

  async getReadVersion(): Promise<bigint> {
    this.assertOpen();
    return this.snapshot().version;
  }

  async get(key: Bytes, options?: ReadOptions): Promise<Buffer | undefined> {
    this.assertOpen();
    const k = keyString(key);
    this.writes.assertReadable(k, k + '\x00');
    const known = this.writes.lookup(k);
    let value: Buffer | undefined;
    if (known !== undefined && known.delta === undefined) value = known.value;
    else {
      const base = this.snapshot().get(k);
      if (options?.snapshot !== true) (this.readPoints ??= new Set()).add(k);
      value = known === undefined ? base : applyAdd(base, known.delta!);
    }
    if (value === undefined) return undefined;
    this.counters.keysRead++;
    this.counters.bytesRead += k.length + value.length;
    return Buffer.from(value);
  }

  async getRange(begin: Bytes, end: Bytes, options?: RangeOptions): Promise<KeyValue[]> {
    this.assertOpen();
    const b = keyString(begin);
    const e = keyString(end);
    if (!(b < e)) return [];
    const limit = options?.limit ?? 0;
    const reverse = options?.reverse === true;
    const entries = this.writes.readRange(b, e, limit, reverse, this.snapshot());
    // What the read covered: up to its last entry when the limit stopped it, else all of [b, e).
    let [from, to] = [b, e];
    if (limit > 0 && entries.length >= limit) {
      const last = entries[entries.length - 1]!.key;
      if (reverse) from = last;
      else to = keyAfter(last);
    }
    this.writes.assertReadable(from, to);
    // Only what was read conflicts, as in FoundationDB.
    if (options?.snapshot !== true) (this.readRanges ??= new RangeSet()).add(from, to);
    const out: KeyValue[] = new Array(entries.length);
    let bytes = 0;
    for (let i = 0; i < entries.length; i++) {
      const { key, value } = entries[i]!;
      bytes += key.length + value.length;
      out[i] = { key: keyBuffer(key), value: Buffer.from(value) };
    }
    this.counters.keysRead += entries.length;
    this.counters.bytesRead += bytes;
    return out;
  }

  set(key: Bytes, value: Bytes): void {
    this.assertOpen();
    checkKey(key);
    checkValue(value);
    this.writes.set(keyString(key), copyBytes(value));
  }

  clear(key: Bytes): void {
    this.assertOpen();
    checkKey(key);
    this.writes.clear(keyString(key));
  }

  clearRange(begin: Bytes, end: Bytes): void {
    this.assertOpen();
    this.writes.clearRange(keyString(begin), keyString(end));
  }

  add(key: Bytes, delta: number | bigint): void {
    this.assertOpen();
    checkKey(key);
    this.writes.add(keyString(key), toDelta(delta));
  }

  setVersionstampedKey(key: Bytes, stampOffset: number, value: Bytes): void {
    this.assertOpen();
    checkKey(key);
    checkValue(value);
    checkStampOffset('key', key, stampOffset);
    this.writes.setVersionstampedKey(copyBytes(key), stampOffset, copyBytes(value), this.hasSnapshot ? this.snapshot().version : 0n);
  }

  setVersionstampedValue(key: Bytes, value: Bytes, stampOffset = 0): void {
    this.assertOpen();
    checkKey(key);
    checkValue(value);
    checkStampOffset('value', value, stampOffset);
    this.writes.setVersionstampedValue(keyString(key), copyBytes(value), stampOffset);
  }

  addReadConflictKey(key: Bytes): void {
    this.assertOpen();
    this.snapshot(); // conflicts are checked from the read version on, as if the key were read now
    (this.readPoints ??= new Set()).add(keyString(key));
  }

  addReadConflictRange(begin: Bytes, end: Bytes): void {
    this.assertOpen();
    this.snapshot();
    (this.readRanges ??= new RangeSet()).add(keyString(begin), keyString(end));
  }

  watch(key: Bytes): Watch {
    this.assertOpen();
    checkKey(key);
    const w = new WatchHandle(keyString(key));
    (this.watches ??= []).push(w);
    return w;
  }

  getVersionstamp(): Promise<Buffer> {
    if (this.state === 'committed') {
      return this.stamp !== undefined ? Promise.resolve(Buffer.from(this.stamp)) : Promise.reject(noStamp());
    }
    if (this.state === 'aborted') return Promise.reject(didNotCommit(this.endReason));
    if (this.stampWaiter === undefined) {
      let resolve!: (b: Buffer) => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<Buffer>((res, rej) => ((resolve = res), (reject = rej)));
      promise.catch(ignore); // an attempt that is retried must not leave an unhandled rejection
      this.stampWaiter = { promise, resolve, reject };
    }
    return this.stampWaiter.promise;
  }

  /** Did the transaction read anything that can conflict? */
  get hasReadConflicts(): boolean {
    return (this.readPoints !== undefined && this.readPoints.size > 0) || (this.readRanges !== undefined && this.readRanges.size > 0);
  }

  /** Is the commit in flight and not aborted (by a timeout or close)? */
  get committing(): boolean {
    return this.state === 'committing';
  }

  /** Moves open → committing; throws if the transaction already ended. */
  protected beginCommit(): void {
    this.assertOpen();
    // FoundationDB fails the commit of a transaction that read what its versionstamped writes fill
    if (this.writes.readUnreadable) throw new AccessedUnreadableError();
    this.state = 'committing';
  }

  /** Throws the reason the attempt was aborted while its commit was in flight (timeout, close). */
  protected assertCommitting(): void {
    if (this.state !== 'committing') throw this.endReason ?? new UsedAfterCommitError();
  }

  /** Marks the commit done with its versionstamp (undefined for a read-only transaction). */
  protected finishCommit(stamp: Buffer | undefined): void {
    if (this.state !== 'committing') return; // aborted meanwhile (timeout, close): stays aborted
    this.state = 'committed';
    this.stamp = stamp;
    if (this.stampWaiter !== undefined) {
      if (stamp !== undefined) this.stampWaiter.resolve(Buffer.from(stamp));
      else this.stampWaiter.reject(noStamp());
    }
    this.release();
  }

  abort(reason: unknown): void {
    if (this.state === 'committed' || this.state === 'aborted') return;
    this.state = 'aborted';
    this.endReason = reason;
    if (this.watches !== undefined) for (const w of this.watches) w.settle(false);
    this.stampWaiter?.reject(didNotCommit(reason));
    this.release();
  }

  private release(): void {
    const snap = this.snap;
    if (snap !== undefined) {
      this.snap = undefined;
      this.releaseSnapshot(snap);
    }
    this.ended();
  }

  /** The snapshot value of `key` if the transaction has read (for a watch's baseline). */
  protected snapshotValue(key: KeyString): { value: Buffer | undefined } | undefined {
    return this.snap === undefined ? undefined : { value: this.snap.get(key) };
  }
}

function noStamp(): InvalidOperationError {
  return new InvalidOperationError('getVersionstamp(): the transaction wrote nothing, so it has no commit version');
}

function didNotCommit(reason: unknown): unknown {
  return isDgenError(reason) ? reason : new CommitFailedError('The transaction did not commit, so it has no versionstamp', reason);
}
