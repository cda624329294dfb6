/**
 * The in-process engine: multi-version storage with FoundationDB's optimistic concurrency, the
 * reference engine of the conformance suite and the engine of fast tests.
 */
import type { Backend, BackendStats, Transaction, TransactOptions } from './contract.js';
import { ClosedError, CommitFailedError, CommitUnknownResultError, NotCommittedError } from './errors.js';
import { applyAdd, fillStamp, keyString, versionstamp, type KeyString } from './bytes.js';
import { BufferedTransaction, type Snapshot } from './buffered-transaction.js';
import { Faults, type FaultControl, type FaultPlan } from './faults.js';
import { seededRandom } from './random.js';
import { RecentWrites } from './recent-writes.js';
import { transactWithRetry } from './retry.js';
import { SortedKeys } from './sorted-keys.js';
import { WatchRegistry } from './watches.js';
import type { Mutation, StoredEntry } from './write-buffer.js';

export type { FaultControl, FaultKind, FaultPlan } from './faults.js';

/** Options of {@link memory}. */
export interface MemoryOptions {
  /**
   * Seed of the fault draws (and of the retry jitter), so a failing run replays. Default: a
   * random seed, readable as `backend.faults.seed`.
   */
  readonly seed?: number;
  /** Faults injected into commits that write, from the start (see {@link FaultPlan}). */
  readonly faults?: FaultPlan;
}

/** The memory engine: a {@link Backend} with a fault-injection handle. */
export interface MemoryBackend extends Backend {
  readonly kind: 'memory';
  /** Fault injection: `set(plan)`, `injectNext(kind)`, `clear()`, `injected` counters, `seed`. */
  readonly faults: FaultControl;
}

/**
 * Opens an in-process engine with FoundationDB semantics: strictly serializable optimistic
 * transactions (reads at a snapshot, conflicts checked at commit against later commits),
 * read-your-writes, atomic adds, versionstamps, watches and the same limits as every engine.
 * Data lives as long as the returned object. Faults injected through `options.faults` or
 * `backend.faults` hit only transactions that write (read-only commits never fail, as in
 * FoundationDB).
 *
 * @example
 * ```ts
 * const db = memory({ seed: 7, faults: { conflict: 0.1, unknownResult: 0.01 } });
 * await db.transact(async (tx) => {
 *   const n = (await tx.get(key))?.readInt32LE(0) ?? 0;
 *   tx.set(key, int32(n + 1));
 * });
 * db.faults.injectNext('unknownResult'); // the next writing commit applies, then reports commit_unknown_result
 * console.log(db.faults.injected, db.stats());
 * ```
 */
export function memory(options: MemoryOptions = {}): MemoryBackend {
  return new MemoryEngine(options);
}

/** One version of one key, newest first. */
interface Version {
  readonly v: number;
  value: Buffer | undefined;
  prev: Version | undefined;
}

/** A writing commit still needed for conflict checks and version trimming. */
interface CommitRecord {
  readonly version: number;
  readonly keys: KeyString[];
}

/** Writing commits between collections of old versions. */
const GC_EVERY = 256;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

class MemoryEngine implements MemoryBackend {
  readonly kind = 'memory' as const;
  readonly faults: Faults;
  private readonly jitter: () => number;
  private readonly counters: BackendStats = { commits: 0, conflicts: 0, retries: 0, keysRead: 0, bytesRead: 0, keysWritten: 0, bytesWritten: 0 };
  private isClosed = false;
  /** The latest commit version. */
  version = 0;
  /** Keys whose latest value is set (cleared keys leave it at once, whatever older readers see). */
  private readonly keys = new SortedKeys();
  private readonly data = new Map<KeyString, Version>();
  /**
   * Keys cleared by commits newer than the oldest open snapshot, in commit order: with `keys`, the
   * keys a range read at an older version may find, so a range read never walks over the
   * tombstones of keys cleared before its read version.
   */
  private tombstones: { readonly key: KeyString; readonly v: number }[] = [];
  /** Writing commits newer than the oldest open snapshot, ascending. */
  private readonly history: CommitRecord[] = [];
  /**
   * The keys of {@link history} in key order, each with the newest version that wrote it: a range
   * read is checked against the writes in its range only, not against every key written since its
   * read version (with 256 transactions in flight, that was a third of a burst's CPU).
   */
  private readonly recent = new RecentWrites();
  /** Open snapshots by read version. */
  private readonly readers = new Map<number, number>();
  private sinceGc = 0;
  readonly watches = new WatchRegistry();
  readonly active = new Set<MemoryTransaction>();
  private readonly host = {
    counters: this.counters,
    begin: () => {
      if (this.isClosed) throw new ClosedError('memory backend');
      const tx = new MemoryTransaction(this, this.counters);
      this.active.add(tx);
      return tx;
    },
    random: () => this.jitter(),
  };

  constructor(options: MemoryOptions) {
    this.faults = new Faults(options.seed, options.faults);
    const jitter = seededRandom((this.faults.seed ^ 0x9e3779b9) >>> 0);
    this.jitter = () => jitter.next();
  }

  get closed(): boolean {
    return this.isClosed;
  }

  transact<T>(fn: (tx: Transaction) => T | Promise<T>, options?: TransactOptions): Promise<T> {
    if (this.isClosed) return Promise.reject(new ClosedError('memory backend'));
    return transactWithRetry(this.host, fn, options);
  }

  stats(): BackendStats {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    const closed = new ClosedError('memory backend');
    for (const tx of [...this.active]) tx.abort(closed);
    this.watches.closeAll();
  }

  // Reads at a version.

  valueAt(key: KeyString, rv: number): Buffer | undefined {
    let e = this.data.get(key);
    while (e !== undefined && e.v > rv) e = e.prev;
    return e?.value;
  }

  latest(key: KeyString): Buffer | undefined {
    return this.data.get(key)?.value;
  }

  *rangeAt(begin: KeyString, end: KeyString, reverse: boolean, rv: number): Generator<StoredEntry, void, undefined> {
    for (const key of this.keysAt(begin, end, reverse, rv)) {
      const value = this.valueAt(key, rv);
      if (value !== undefined) yield { key, value };
    }
  }

  /** The keys of [begin, end) that may have a value at `rv`: set now, or cleared after `rv`. */
  private *keysAt(begin: KeyString, end: KeyString, reverse: boolean, rv: number): Generator<KeyString, void, undefined> {
    const cleared = new Set<KeyString>();
    const t = this.tombstones;
    for (let i = t.length - 1; i >= 0 && t[i]!.v > rv; i--) {
      const key = t[i]!.key;
      if (key >= begin && key < end) cleared.add(key);
    }
    if (cleared.size === 0) {
      yield* this.keys.range(begin, end, reverse);
      return;
    }
    const extra = [...cleared].sort();
    if (reverse) extra.reverse();
    let x = 0;
    for (const key of this.keys.range(begin, end, reverse)) {
      while (x < extra.length && (reverse ? extra[x]! > key : extra[x]! < key)) yield extra[x++]!;
      if (extra[x] === key) x++; // cleared after rv, then set again: once
      yield key;
    }
    while (x < extra.length) yield extra[x++]!;
  }

  openReader(): number {
    const rv = this.version;
    this.retainReader(rv);
    return rv;
  }

  /** Keeps the commits after `rv` for conflict checks (and its versions readable) until {@link closeReader}. */
  retainReader(rv: number): void {
    this.readers.set(rv, (this.readers.get(rv) ?? 0) + 1);
  }

  closeReader(rv: number): void {
    const n = this.readers.get(rv)! - 1;
    if (n === 0) this.readers.delete(rv);
    else this.readers.set(rv, n);
  }

  // Commit.

  /** Did a commit after `rv` write a key `tx` read? */
  conflicts(tx: MemoryTransaction, rv: number): boolean {
    if (this.version === rv) return false;
    if (tx.readPoints !== undefined) {
      for (const key of tx.readPoints) {
        const head = this.data.get(key);
        if (head !== undefined && head.v > rv) return true;
      }
    }
    const ranges = tx.readRanges;
    if (ranges !== undefined) for (const [begin, end] of ranges) if (this.recent.writtenInRangeAfter(begin, end, rv)) return true;
    return false;
  }

  /** Applies `mutations` as a new commit version; returns the version and the keys changed. */
  apply(mutations: readonly Mutation[]): { version: number; stamp: Buffer; touched: KeyString[] } {
    const version = ++this.version;
    const stamp = versionstamp(version);
    const touched: KeyString[] = [];
    for (const m of mutations) {
      switch (m.type) {
        case 'set':
          this.put(m.key, m.value, version, touched);
          break;
        case 'clear':
          this.put(m.key, undefined, version, touched);
          break;
        case 'clearRange':
          for (const key of [...this.keys.range(m.begin, m.end)]) this.put(key, undefined, version, touched);
          break;
        case 'add':
          this.put(m.key, applyAdd(this.latest(m.key), m.delta), version, touched);
          break;
        case 'setVersionstampedKey':
          this.put(keyString(fillStamp(m.key, m.offset, stamp)), m.value, version, touched);
          break;
        case 'setVersionstampedValue':
          this.put(m.key, fillStamp(m.value, m.offset, stamp), version, touched);
          break;
      }
    }
    this.history.push({ version, keys: touched });
    for (const key of touched) this.recent.record(key, version);
    if (this.watches.size > 0) for (const key of touched) this.watches.check(key, this.latest(key));
    if (++this.sinceGc >= GC_EVERY) this.collect();
    return { version, stamp, touched };
  }

  private put(key: KeyString, value: Buffer | undefined, version: number, touched: KeyString[]): void {
    const head = this.data.get(key);
    const wasSet = head?.value !== undefined;
    if (head !== undefined && head.v === version) head.value = value;
    else {
      if (!wasSet && value === undefined) return; // nothing to clear
      this.data.set(key, { v: version, value, prev: head });
      touched.push(key);
    }
    if (wasSet && value === undefined) {
      this.keys.delete(key);
      this.tombstones.push({ key, v: version });
    } else if (!wasSet && value !== undefined) this.keys.insert(key);
  }

  /** Drops versions no open snapshot can read, and commits no open transaction must check. */
  private collect(): void {
    this.sinceGc = 0;
    let horizon = this.version;
    for (const rv of this.readers.keys()) if (rv < horizon) horizon = rv;
    let n = 0;
    while (n < this.history.length && this.history[n]!.version <= horizon) {
      const { keys, version } = this.history[n]!;
      for (const key of keys) {
        this.trim(key, horizon);
        this.recent.forget(key, version);
      }
      n++;
    }
    if (n > 0) this.history.splice(0, n);
    // Every snapshot reads at the horizon or later: older clears concern none of them.
    let t = 0;
    while (t < this.tombstones.length && this.tombstones[t]!.v <= horizon) t++;
    if (t > 0) this.tombstones = this.tombstones.slice(t);
  }

  private trim(key: KeyString, horizon: number): void {
    const head = this.data.get(key);
    let e = head;
    while (e !== undefined && e.v > horizon) e = e.prev;
    if (e === undefined) return;
    e.prev = undefined;
    if (e === head && e.value === undefined) this.data.delete(key);
  }
}

class MemorySnapshot implements Snapshot {
  readonly version: bigint;
  constructor(
    private readonly engine: MemoryEngine,
    readonly rv: number,
  ) {
    this.version = BigInt(rv);
  }

  get(key: KeyString): Buffer | undefined {
    return this.engine.valueAt(key, this.rv);
  }

  range(begin: KeyString, end: KeyString, reverse: boolean): Iterator<StoredEntry> {
    return this.engine.rangeAt(begin, end, reverse, this.rv);
  }
}

class MemoryTransaction extends BufferedTransaction {
  constructor(
    private readonly engine: MemoryEngine,
    counters: BackendStats,
  ) {
    super(counters);
  }

  protected openSnapshot(): Snapshot {
    return new MemorySnapshot(this.engine, this.engine.openReader());
  }

  protected releaseSnapshot(snapshot: Snapshot): void {
    this.engine.closeReader((snapshot as MemorySnapshot).rv);
  }

  protected override ended(): void {
    this.engine.active.delete(this);
  }

  async commit(): Promise<void> {
    this.beginCommit();
    const engine = this.engine;
    const writes = this.writes;
    if (writes.empty) {
      // Read-only: serializable at its read version, nothing to check (as in FoundationDB).
      const baselines = this.baselines();
      this.finishCommit(undefined);
      this.counters.commits++;
      this.arm(baselines);
      return;
    }
    // Taken now: a stalled commit outlives its attempt's snapshot.
    const rv = this.hasSnapshot ? Number(this.readVersion) : undefined;
    const faults = engine.faults;
    let fault: string | undefined;
    if (faults.enabled) {
      const delay = faults.delayMs();
      if (delay > 0) {
        await sleep(delay);
        this.assertCommitting();
      }
      fault = faults.draw();
      if (fault === 'conflict') throw new NotCommittedError('Transaction not committed due to conflict with another transaction (injected fault)');
      if (fault === 'failBeforeCommit') throw new CommitFailedError('Transaction failed before commit (injected fault)');
      if (fault === 'unknownResultNotApplied') throw new CommitUnknownResultError('Transaction may or may not have committed (injected fault: it did not)');
      if (fault === 'stall') await this.stall(faults.stallMs(), rv);
    }
    if (rv !== undefined) {
      try {
        if (fault !== 'stall') this.checkAge();
        if (this.hasReadConflicts && engine.conflicts(this, rv)) throw new NotCommittedError();
      } finally {
        if (fault === 'stall') engine.closeReader(rv);
      }
    }
    const baselines = this.baselines();
    const { stamp } = engine.apply(writes.mutations);
    this.counters.keysWritten += writes.mutations.length;
    this.counters.bytesWritten += writes.bytes;
    if (fault === 'unknownResult') throw new CommitUnknownResultError('Transaction may or may not have committed (injected fault: it did)');
    this.finishCommit(stamp);
    this.counters.commits++;
    this.arm(baselines);
  }

  /**
   * A commit already sent and held in flight: it applies when the stall ends unless it conflicts,
   * even if its client timed out meanwhile (an abort no longer stops it, as on FoundationDB).
   */
  private async stall(ms: number, rv: number | undefined): Promise<void> {
    // The attempt's snapshot is released when its client gives up; the commits after its read
    // version must still be kept, or the check when it lands would miss range conflicts.
    if (rv !== undefined) this.engine.retainReader(rv);
    await sleep(ms);
    if (this.engine.closed) {
      if (rv !== undefined) this.engine.closeReader(rv);
      throw new ClosedError();
    }
  }

  /** Each watch's baseline: the value this transaction saw, or (if it wrote the key or never read) the committed one. */
  private baselines(): (Buffer | undefined | null)[] | undefined {
    const watches = this.watches;
    if (watches === undefined) return undefined;
    return watches.map((w) => {
      if (w.settled || this.writes.touches(w.key)) return null;
      const seen = this.snapshotValue(w.key);
      return seen === undefined ? null : seen.value;
    });
  }

  private arm(baselines: (Buffer | undefined | null)[] | undefined): void {
    const watches = this.watches;
    if (watches === undefined || baselines === undefined) return;
    const engine = this.engine;
    for (let i = 0; i < watches.length; i++) {
      const current = engine.latest(watches[i]!.key);
      const base = baselines[i];
      engine.watches.arm(watches[i]!, base === null ? current : base, current);
    }
  }
}
