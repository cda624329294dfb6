/**
 * The embedded durable engine on LMDB (through the `lmdb` package): FoundationDB's optimistic
 * transactions, serializable across every thread and OS process that opens the same path.
 */
import { mkdirSync, statSync } from 'node:fs';
import { open, type Database, type RootDatabase, type Transaction as LmdbReadTxn } from 'lmdb';
import { LIMITS, type Backend, type BackendStats, type Transaction, type TransactOptions } from './contract.js';
import {
  ClosedError,
  CommitUnknownResultError,
  NotCommittedError,
  OpenFailedError,
  TransactionTooOldError,
} from './errors.js';
import { applyAdd, fillStamp, keyString, versionstamp, type KeyString } from './bytes.js';
import { BufferedTransaction, type Snapshot } from './buffered-transaction.js';
import { CommitLogMirror } from './lmdb-commit-log.js';
import { encodeWriteSet, readVersionBytes, versionBytes, writeSetTime } from './lmdb-layout.js';
import { UserKeys } from './lmdb-keys.js';
import { transactWithRetry } from './retry.js';
import { WatchRegistry } from './watches.js';
import { CommitNotifier } from './lmdb-notify.js';
import type { StoredEntry } from './write-buffer.js';

/** Options of {@link lmdb}. */
export interface LmdbOptions {
  /** Directory of the database (created if missing). Every process opening it shares the data. */
  readonly path: string;
  /**
   * Skip the fsync of each commit. Commits then survive a crash of the process but not of the
   * machine (power loss, kernel panic), and are several times faster. Default false: a commit
   * resolves only once it is on disk.
   */
  readonly noSync?: boolean;
  /**
   * Wake watches on commits of other processes through a notify file in the database directory
   * (default true): a process rewrites it after its commits and processes with pending watches
   * listen to it with `fs.watch`, so a watch fires soon after a commit in another process and an
   * idle process does no work. False: polling only.
   */
  readonly notify?: boolean;
  /**
   * How often (ms) to look for commits of other processes while watches are pending, in case a
   * notification is missed: default 1,000 with `notify`, 10 without (or when the notify file
   * cannot be watched). 0 turns polling off (notifications only).
   */
  readonly watchPollMs?: number;
}

/** The LMDB engine. */
export interface LmdbBackend extends Backend {
  readonly kind: 'lmdb';
  /** The directory of the database. */
  readonly path: string;
  /**
   * LMDB write transactions this process has run to commit its transactions, each one fsync
   * (unless `noSync`): the commits of this process that are ready while LMDB's write lock is
   * held by another process or commit share one, each keeping its own validation, versionstamp
   * and outcome. Compare with `stats().commits` to see how many shared one.
   *
   * @example
   * ```ts
   * const before = db.writeTransactions;
   * await Promise.all(keys.map((k) => db.transact((tx) => tx.set(k, value))));
   * console.log(db.writeTransactions - before); // far fewer than keys.length
   * ```
   */
  readonly writeTransactions: number;
}

/**
 * Opens (creating if needed) an LMDB database in the directory `options.path`.
 *
 * Transactions read from an LMDB snapshot at their read version (the database's commit counter)
 * and buffer their writes. A commit runs inside one LMDB write transaction, which holds LMDB's
 * cross-process write lock: it checks the commit log for writes after the read version that
 * intersect what the transaction read (→ `not_committed`), then applies the writes, bumps the
 * counter and logs its own write set. Each process mirrors the log in memory, indexed by key
 * (`lmdb-commit-log.ts`), so the check costs O(keys read), not O(commits since the read version).
 * Concurrent commits of one process share one LMDB write transaction and one fsync. Log entries
 * older than the 5 s MVCC window are pruned; a transaction that needs a pruned entry fails with
 * `transaction_too_old`. Other processes learn of commits through the file `notify` in the
 * directory (`lmdb-notify.ts`), polling only as a fallback.
 *
 * Keys of up to 10,000 bytes work although LMDB's own limit is 1,978: keys of 1,977 bytes or more
 * share one LMDB entry per 1,977-byte prefix (see `lmdb-layout.ts`), keeping bytewise order.
 *
 * @example
 * ```ts
 * const db = lmdb({ path: './.dgen' });            // durable: each commit is fsynced
 * const fast = lmdb({ path: './.cache', noSync: true });
 * const quiet = lmdb({ path: './.dgen', watchPollMs: 0 }); // wake-ups by notification only
 * const n = await db.transact(async (tx) => {
 *   tx.add(counterKey, 1);
 *   return tx.get(otherKey);
 * });
 * await db.close();
 * ```
 */
export function lmdb(options: LmdbOptions): LmdbBackend {
  return new LmdbEngine(options);
}

const VERSION_KEY = Buffer.from('version');
const PRUNED_KEY = Buffer.from('pruned');
/** Local writing commits between two prunings of the commit log. */
const PRUNE_EVERY = 64;
/** Log entries are kept this long past the MVCC window, for clock skew between processes. */
const PRUNE_MARGIN_MS = 1_000;
/** At most this many log entries removed per pruning, to bound one commit's work. */
const PRUNE_MAX = 4_096;
/** Fallback polling while notifications work, and polling when they do not (ms). */
const SLOW_POLL_MS = 1_000;
const FAST_POLL_MS = 10;
/** Listening stops this long after the last watch settled (a watch is often re-armed at once). */
const LINGER_MS = 1_000;
/** The longest interval a timer takes: the keep-alive timer when polling is off. */
const NEVER_MS = 2 ** 31 - 1;

type Outcome =
  | { readonly kind: 'aborted' | 'conflict' | 'too_old' }
  | { readonly kind: 'applied'; readonly version: number; readonly stamp: Buffer; readonly touched: ReadonlySet<KeyString>; readonly ranges: readonly [KeyString, KeyString][]; readonly baselines: (Buffer | undefined)[] };

const ABORTED = { kind: 'aborted' } as const;
const CONFLICT = { kind: 'conflict' } as const;
const TOO_OLD = { kind: 'too_old' } as const;

class LmdbEngine implements LmdbBackend {
  readonly kind = 'lmdb' as const;
  readonly path: string;
  private readonly root: RootDatabase;
  readonly data: Database<Buffer, Buffer>;
  readonly keys: UserKeys;
  private readonly meta: Database<Buffer, Buffer>;
  private readonly log: Database<Buffer, Buffer>;
  private readonly counters: BackendStats = { commits: 0, conflicts: 0, retries: 0, keysRead: 0, bytesRead: 0, keysWritten: 0, bytesWritten: 0 };
  private isClosed = false;
  readonly active = new Set<LmdbTransaction>();
  readonly watches = new WatchRegistry(() => this.lingerThenStop());
  /** The polling interval asked for in the options, if any. */
  private readonly pollMs: number | undefined;
  private readonly noSync: boolean;
  private readonly notifier: CommitNotifier | undefined;
  private poller: NodeJS.Timeout | undefined;
  private pollerMs = 0;
  private linger: NodeJS.Timeout | undefined;
  private seenVersion = -1;
  private sincePrune = 0;
  private readonly mirror = new CommitLogMirror();
  private writeTxns = 0;
  /** Set while lmdb-js runs the callbacks of one write transaction (synchronously, one after another). */
  private inWriteTxn = false;
  private readonly host = {
    counters: this.counters,
    begin: () => {
      if (this.isClosed) throw new ClosedError('lmdb backend');
      const tx = new LmdbTransaction(this, this.counters);
      this.active.add(tx);
      return tx;
    },
  };

  constructor(options: LmdbOptions) {
    const path = options?.path;
    if (typeof path !== 'string' || path === '') throw new OpenFailedError('lmdb({ path }) needs the path of a directory');
    this.path = path;
    this.pollMs = options.watchPollMs;
    if (this.pollMs !== undefined && !(Number.isFinite(this.pollMs) && this.pollMs >= 0)) {
      throw new OpenFailedError(`lmdb({ watchPollMs }) must be a number of milliseconds ≥ 0 (0: no polling), got ${String(this.pollMs)}`);
    }
    this.noSync = options.noSync === true;
    let isFile = false;
    try {
      isFile = !statSync(path).isDirectory();
    } catch {
      // missing: created below
    }
    if (isFile) throw new OpenFailedError(`lmdb: ${path} is a file; pass the path of a directory (created if missing)`);
    try {
      mkdirSync(path, { recursive: true });
      this.root = open({
        path,
        noSubdir: false,
        maxDbs: 4,
        maxReaders: 1024,
        noSync: options.noSync === true,
        // Commit and fsync before the commit resolves; other processes never see unsynced data.
        overlappingSync: false,
      });
      const binary = { keyEncoding: 'binary', encoding: 'binary' } as const;
      this.data = this.root.openDB('data', binary);
      this.meta = this.root.openDB('meta', binary);
      this.log = this.root.openDB('log', binary);
      this.keys = new UserKeys(this.data);
      this.notifier = options.notify === false ? undefined : CommitNotifier.in(path, () => this.poll());
    } catch (error) {
      throw new OpenFailedError(`lmdb: cannot open a database in ${path}: ${(error as Error).message}`, error);
    }
  }

  get closed(): boolean {
    return this.isClosed;
  }

  transact<T>(fn: (tx: Transaction) => T | Promise<T>, options?: TransactOptions): Promise<T> {
    if (this.isClosed) return Promise.reject(new ClosedError('lmdb backend'));
    return transactWithRetry(this.host, fn, options);
  }

  stats(): BackendStats {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    this.stopPolling();
    this.notifier?.close();
    const closed = new ClosedError('lmdb backend');
    for (const tx of [...this.active]) if (!tx.applied) tx.abort(closed);
    this.watches.closeAll();
    await this.root.close();
  }

  // Snapshots.

  openSnapshot(): LmdbSnapshot {
    if (this.isClosed) throw new ClosedError('lmdb backend');
    this.root.resetReadTxn(); // a fresh snapshot: strictly after every commit that finished before
    const txn = this.data.useReadTransaction();
    const version = readVersionBytes(this.meta.get(VERSION_KEY, { transaction: txn }));
    return new LmdbSnapshot(this, txn, version);
  }

  read(key: KeyString, txn?: LmdbReadTxn): Buffer | undefined {
    return this.keys.read(key, txn);
  }

  // Commit.

  /**
   * Commits `tx` in an LMDB write transaction. Concurrent commits of this process share one
   * asynchronous LMDB transaction (and one fsync); without fsync, a commit with no other
   * transaction open runs synchronously, which cuts its latency from ~300 µs to ~40 µs.
   */
  commit(tx: LmdbTransaction, checkFrom: number | undefined, baselineKeys: readonly KeyString[]): Promise<Outcome> {
    const apply = () => this.validateAndApply(tx, checkFrom, baselineKeys);
    if (this.noSync && this.active.size === 1) {
      try {
        return Promise.resolve(this.data.transactionSync(apply));
      } catch (error) {
        this.mirror.reset();
        return Promise.reject(error);
      }
    }
    return this.data.transaction(apply).catch((error: unknown) => {
      this.mirror.reset(); // it may hold a commit of this write transaction, which failed
      throw error;
    });
  }

  get writeTransactions(): number {
    return this.writeTxns;
  }

  /** Counts the LMDB write transaction this callback runs in, once (see `writeTransactions`). */
  private noteWriteTxn(): void {
    if (this.inWriteTxn) return;
    this.inWriteTxn = true;
    this.writeTxns++;
    // lmdb-js runs the callbacks of one write transaction in one synchronous loop: a microtask runs after the last.
    queueMicrotask(() => (this.inWriteTxn = false));
  }

  private validateAndApply(tx: LmdbTransaction, checkFrom: number | undefined, baselineKeys: readonly KeyString[]): Outcome {
    this.noteWriteTxn();
    if (!tx.committing) return ABORTED;
    const current = readVersionBytes(this.meta.get(VERSION_KEY));
    // Only a commit with reads to check needs the mirror: a blind one (an enqueue) leaves it behind, to catch up when one does.
    if (checkFrom !== undefined && current > checkFrom) {
      const pruned = readVersionBytes(this.meta.get(PRUNED_KEY));
      this.mirror.sync(current, pruned, (from) => this.logEntries(from, current));
      if (checkFrom < pruned) return TOO_OLD;
      if (this.mirror.conflicts(checkFrom, tx.readPoints, tx.readRanges)) return CONFLICT;
    }
    tx.applied = true;
    const version = current + 1;
    const stamp = versionstamp(version);
    const touched = new Set<KeyString>();
    const ranges: [KeyString, KeyString][] = [];
    for (const m of tx.writes.mutations) {
      switch (m.type) {
        case 'set':
          this.keys.put(m.key, m.value);
          touched.add(m.key);
          break;
        case 'clear':
          this.keys.remove(m.key);
          touched.add(m.key);
          break;
        case 'clearRange':
          this.keys.removeRange(m.begin, m.end);
          ranges.push([m.begin, m.end]);
          break;
        case 'add':
          this.keys.put(m.key, applyAdd(this.read(m.key), m.delta));
          touched.add(m.key);
          break;
        case 'setVersionstampedKey': {
          const key = keyString(fillStamp(m.key, m.offset, stamp));
          this.keys.put(key, m.value);
          touched.add(key);
          break;
        }
        case 'setVersionstampedValue':
          this.keys.put(m.key, fillStamp(m.value, m.offset, stamp));
          touched.add(m.key);
          break;
      }
    }
    this.meta.putSync(VERSION_KEY, versionBytes(version));
    const points = [...touched];
    this.log.putSync(versionBytes(version), encodeWriteSet({ time: Date.now(), points, ranges }));
    this.mirror.addIfCurrent({ version, points, ranges });
    if (++this.sincePrune >= PRUNE_EVERY) this.prune();
    const baselines = baselineKeys.map((k) => this.read(k));
    return { kind: 'applied', version, stamp, touched, ranges, baselines };
  }

  /** The encoded log entries of versions `from` through `to` (inside the write transaction). */
  private *logEntries(from: number, to: number): Generator<{ version: number; bytes: Buffer }> {
    for (const { key, value } of this.log.getRange({ start: versionBytes(from), end: versionBytes(to + 1) })) {
      yield { version: readVersionBytes(key), bytes: value };
    }
  }

  /** Drops log entries older than the MVCC window (inside the write transaction). */
  private prune(): void {
    this.sincePrune = 0;
    const cutoff = Date.now() - LIMITS.mvccWindowMs - PRUNE_MARGIN_MS;
    const old: Buffer[] = [];
    for (const { key, value } of this.log.getRange({ limit: PRUNE_MAX })) {
      if (writeSetTime(value) >= cutoff) break;
      old.push(key);
    }
    if (old.length === 0) return;
    for (const key of old) this.log.removeSync(key);
    this.meta.putSync(PRUNED_KEY, old[old.length - 1]!);
    this.mirror.forgetThrough(readVersionBytes(old[old.length - 1]));
  }

  // Watches.

  /** The committed value of `key` now (a fresh snapshot). */
  readLatest(key: KeyString): Buffer | undefined {
    this.root.resetReadTxn();
    return this.read(key);
  }

  /** After a local commit of `version`: tells other processes, fires watches on keys it wrote. */
  afterCommit(version: number, touched: ReadonlySet<KeyString>, ranges: readonly [KeyString, KeyString][]): void {
    this.notifier?.ping();
    // Nothing committed elsewhere since the last look: the next poll need not read the watched keys.
    if (version === this.seenVersion + 1) this.seenVersion = version;
    if (this.watches.size === 0) return;
    for (const key of [...this.watches.keys()]) {
      if (touched.has(key) || ranges.some(([b, e]) => key >= b && key < e)) this.watches.check(key, this.readLatest(key));
    }
  }

  /**
   * While watches are armed: listens to the notify file and polls the commit counter as a
   * fallback, so commits of other processes fire them. The timer keeps the process alive while a
   * watch is pending, as an open socket to FoundationDB would: a program that only observes state
   * does not exit under its observer.
   */
  startPolling(): void {
    if (this.isClosed) return;
    if (this.linger !== undefined) clearTimeout(this.linger);
    this.linger = undefined;
    this.notifier?.listen();
    const ms = this.pollMs ?? (this.notifier?.listening === true ? SLOW_POLL_MS : FAST_POLL_MS);
    if (this.poller !== undefined && this.pollerMs === ms) {
      this.poller.ref();
      return;
    }
    if (this.poller !== undefined) clearInterval(this.poller);
    this.pollerMs = ms;
    this.poller = setInterval(() => this.poll(), ms > 0 ? ms : NEVER_MS);
  }

  private stopPolling(): void {
    if (this.poller !== undefined) clearInterval(this.poller);
    this.poller = undefined;
    if (this.linger !== undefined) clearTimeout(this.linger);
    this.linger = undefined;
    this.notifier?.unlisten();
  }

  /**
   * The last watch settled: stop listening unless another one is armed soon. Meanwhile the timer
   * no longer keeps the process alive.
   */
  private lingerThenStop(): void {
    if (this.linger !== undefined || this.poller === undefined) return;
    this.poller.unref();
    this.linger = setTimeout(() => {
      this.linger = undefined;
      if (this.watches.size === 0) this.stopPolling();
    }, LINGER_MS);
    this.linger.unref();
  }

  private poll(): void {
    if (this.watches.size === 0 || this.isClosed) return;
    // The notify file stopped working: poll at the fast rate from now on.
    if (this.notifier !== undefined && !this.notifier.listening && this.pollMs === undefined && this.pollerMs !== FAST_POLL_MS) this.startPolling();
    this.root.resetReadTxn();
    const version = readVersionBytes(this.meta.get(VERSION_KEY));
    if (version === this.seenVersion) return;
    this.seenVersion = version;
    for (const key of [...this.watches.keys()]) this.watches.check(key, this.read(key));
  }
}

class LmdbSnapshot implements Snapshot {
  readonly version: bigint;
  constructor(
    private readonly engine: LmdbEngine,
    readonly txn: LmdbReadTxn,
    readonly rv: number,
  ) {
    this.version = BigInt(rv);
  }

  get(key: KeyString): Buffer | undefined {
    return this.engine.read(key, this.txn);
  }

  range(begin: KeyString, end: KeyString, reverse: boolean): Iterator<StoredEntry> {
    return this.engine.keys.range(begin, end, reverse, this.txn);
  }
}

class LmdbTransaction extends BufferedTransaction {
  /** Set inside the LMDB write transaction once validation passed and writes began. */
  applied = false;

  constructor(
    private readonly engine: LmdbEngine,
    counters: BackendStats,
  ) {
    super(counters);
  }

  protected openSnapshot(): Snapshot {
    return this.engine.openSnapshot();
  }

  protected releaseSnapshot(snapshot: Snapshot): void {
    (snapshot as LmdbSnapshot).txn.done();
  }

  protected override ended(): void {
    this.engine.active.delete(this);
  }

  async commit(): Promise<void> {
    this.beginCommit();
    const engine = this.engine;
    const writes = this.writes;
    const watches = this.watches;
    // Baselines from the snapshot (keys read, not written); null: take the value after commit.
    const snapshotBaselines = watches?.map((w) => {
      if (w.settled || writes.touches(w.key)) return null;
      const seen = this.snapshotValue(w.key);
      return seen === undefined ? null : seen.value;
    });
    if (writes.empty) {
      this.finishCommit(undefined);
      this.counters.commits++;
      this.arm(snapshotBaselines, undefined);
      return;
    }
    const rv = this.readVersion;
    if (rv !== undefined) this.checkAge();
    const checkFrom = rv !== undefined && this.hasReadConflicts ? Number(rv) : undefined;
    const afterKeys = watches === undefined ? [] : watches.filter((_, i) => snapshotBaselines![i] === null).map((w) => w.key);
    let outcome: Outcome;
    try {
      outcome = await engine.commit(this, checkFrom, afterKeys);
    } catch (error) {
      throw new CommitUnknownResultError(`LMDB failed while committing: ${(error as Error)?.message ?? String(error)}`);
    }
    switch (outcome.kind) {
      case 'aborted':
        this.assertCommitting();
        throw new CommitUnknownResultError('LMDB commit skipped');
      case 'conflict':
        throw new NotCommittedError();
      case 'too_old':
        throw new TransactionTooOldError();
    }
    this.counters.keysWritten += writes.mutations.length;
    this.counters.bytesWritten += writes.bytes;
    this.counters.commits++;
    this.finishCommit(outcome.stamp);
    engine.afterCommit(outcome.version, outcome.touched, outcome.ranges);
    this.arm(snapshotBaselines, outcome.baselines);
  }

  /** Arms this transaction's watches once it committed. */
  private arm(snapshotBaselines: (Buffer | undefined | null)[] | undefined, afterCommit: (Buffer | undefined)[] | undefined): void {
    const watches = this.watches;
    if (watches === undefined || snapshotBaselines === undefined) return;
    const engine = this.engine;
    let j = 0;
    for (let i = 0; i < watches.length; i++) {
      const w = watches[i]!;
      const snap = snapshotBaselines[i];
      const current = engine.readLatest(w.key);
      const baseline = snap !== null ? snap : afterCommit !== undefined ? afterCommit[j++] : current;
      engine.watches.arm(w, baseline, current);
    }
    if (engine.watches.size > 0) engine.startPolling();
  }
}
