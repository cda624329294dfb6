/**
 * A simulated OS process: its own view of the shared memory engine, which can die at any point.
 * Every system of the simulation talks to the engine through a {@link ProcessBackend}; killing it
 * is a crash: from that instant no transaction of the process starts, reads, commits or learns its
 * result, watches stop, and `closed` turns true so the process's servers stop without releasing
 * their leases or locks (Server.stop skips the release on a closed backend). A commit already on
 * its way to the engine may still land, as a commit request sent just before a crash can.
 *
 * The wrapper also offers the crash points of the consumer loop: after any read of a transaction
 * (between read and commit), after the body and before the commit, and after the commit before
 * the runtime sees it (so before replies, cache updates and after-commit effects). A partition
 * holds the process's transactions (before they start and before they commit) for a while.
 */
import type { Backend, BackendStats, Bytes, KeyValue, RangeOptions, ReadOptions, Transaction, TransactOptions, Watch } from '../backend/contract.js';
import { DEFAULT_PREFIX } from '../store/keys.js';
import { DgenError } from '../errors.js';

/**
 * What a dead process gets from every storage call. A typed error that no code retries (not a
 * storage error), so admission control passes it through as it is, unwrapped.
 */
export class CrashError extends DgenError {
  constructor(readonly process: string) {
    super('sim_process_crashed', `process ${process} crashed`);
    this.name = 'CrashError';
  }
}

export type TxPoint = 'read' | 'beforeCommit' | 'afterCommit';

/** Decides crashes at the transaction points of a process; returns true to crash now. */
export interface TxChaos {
  at(point: TxPoint, tx: TxView): boolean;
}

/** What one attempt of a transaction touched, by kind of key: the step of the loop it belongs to. */
export class TxView implements Transaction {
  readonly touched = new Set<string>();
  /** Actor instance ids whose keys this attempt read or wrote. */
  readonly actors = new Set<string>();
  reads = 0;

  constructor(
    private readonly tx: Transaction,
    private readonly owner: ProcessBackend,
  ) {}

  /** The step of the consumer loop (or producer) this transaction is, from the keys it wrote. */
  get step(): string {
    const t = this.touched;
    if (t.size === 0) return 'read-only';
    if (t.has('v') && t.has('q')) return t.has('l+') ? 'batch-locking' : 'batch';
    if (t.has('v') && t.has('i') && !t.has('l-')) return 'inline';
    if (t.has('d') && t.has('l-')) return 'thunk-fail'; // gives up: dead letter and compensation (a new version)
    if (t.has('v') && t.has('l-')) return 'thunk-complete';
    if (t.has('l+')) return 'thunk-claim';
    if (t.has('q+')) return 'enqueue';
    if (t.has('w-')) return 'settle-idle';
    if (t.has('e')) return 'lease';
    return [...t].sort().join(',');
  }

  private live(): void {
    this.owner.assertAlive();
  }

  private async read<T>(p: Promise<T>): Promise<T> {
    const value = await p;
    await this.owner.recovered();
    this.live();
    this.reads++;
    this.owner.point('read', this);
    return value;
  }

  private note(key: Bytes, sign: '' | '+' | '-'): void {
    const kind = keyKind(key, this.actors);
    this.touched.add(kind === 'l' || kind === 'w' ? kind + sign : kind);
  }

  getReadVersion(): Promise<bigint> {
    this.live();
    return this.tx.getReadVersion();
  }
  get(key: Bytes, options?: ReadOptions): Promise<Buffer | undefined> {
    this.live();
    if (this.owner.trace !== undefined) keyKind(key, this.actors);
    return this.read(this.tx.get(key, options));
  }
  getRange(begin: Bytes, end: Bytes, options?: RangeOptions): Promise<KeyValue[]> {
    this.live();
    if (this.owner.trace !== undefined) keyKind(begin, this.actors);
    return this.read(this.tx.getRange(begin, end, options));
  }
  set(key: Bytes, value: Bytes): void {
    this.live();
    this.note(key, '+');
    this.tx.set(key, value);
  }
  clear(key: Bytes): void {
    this.live();
    this.note(key, '-');
    this.tx.clear(key);
  }
  clearRange(begin: Bytes, end: Bytes): void {
    this.live();
    this.note(begin, '-');
    this.tx.clearRange(begin, end);
  }
  add(key: Bytes, delta: number | bigint): void {
    this.live();
    this.note(key, '+');
    this.tx.add(key, delta);
  }
  setVersionstampedKey(key: Bytes, stampOffset: number, value: Bytes): void {
    this.live();
    this.touched.add('q+');
    this.tx.setVersionstampedKey(key, stampOffset, value);
  }
  setVersionstampedValue(key: Bytes, value: Bytes, stampOffset?: number): void {
    this.live();
    this.note(key, '+');
    this.tx.setVersionstampedValue(key, value, stampOffset);
  }
  addReadConflictKey(key: Bytes): void {
    this.live();
    this.tx.addReadConflictKey(key);
  }
  addReadConflictRange(begin: Bytes, end: Bytes): void {
    this.live();
    this.tx.addReadConflictRange(begin, end);
  }
  watch(key: Bytes): Watch {
    this.live();
    return this.tx.watch(key);
  }
  getVersionstamp(): Promise<Buffer> {
    return this.tx.getVersionstamp();
  }
}

export class ProcessBackend implements Backend {
  readonly kind: string;
  private dead = false;
  /** Transactions of this process wait until this (virtual) time: a network partition or a stall. */
  pausedUntil = 0;
  /** The store's recovery, shared by every process: until `until`, reads answer only once it ends (commits: see World.recoveryLoop). */
  outage: { until: number } | undefined;
  chaos: TxChaos | undefined;
  /** Writing commits this process learnt of, by step. */
  readonly commits: Record<string, number> = {};
  /** Called after each commit this process learns of (tracing). */
  trace: ((tx: TxView) => void) | undefined;

  constructor(
    private readonly engine: Backend,
    readonly name: string,
  ) {
    this.kind = engine.kind;
  }

  get closed(): boolean {
    return this.dead || this.engine.closed;
  }

  get alive(): boolean {
    return !this.dead;
  }

  /** The crash: everything after this instant fails with {@link CrashError}. */
  kill(): void {
    this.dead = true;
  }

  assertAlive(): void {
    if (this.dead) throw new CrashError(this.name);
  }

  /** A crash point: kills the process (and throws) when the chaos says so. */
  point(point: TxPoint, tx: TxView): void {
    if (this.dead || this.chaos?.at(point, tx) !== true) return;
    this.kill();
    throw new CrashError(this.name);
  }

  private async stall(): Promise<void> {
    while (Date.now() < this.pausedUntil) await new Promise((r) => setTimeout(r, this.pausedUntil - Date.now()));
    this.assertAlive();
  }

  /** Resolves once the store is out of its recovery (at once when it is not in one). */
  async recovered(): Promise<void> {
    while (this.outage !== undefined && Date.now() < this.outage.until) await new Promise((r) => setTimeout(r, this.outage!.until - Date.now()));
    this.assertAlive();
  }

  async transact<T>(fn: (tx: Transaction) => T | Promise<T>, options?: TransactOptions): Promise<T> {
    await this.stall();
    let last: TxView | undefined;
    let result: T;
    try {
      result = await this.engine.transact(async (tx) => {
        this.assertAlive();
        const view = (last = new TxView(tx, this));
        const value = await fn(view);
        await this.stall();
        this.point('beforeCommit', view);
        return value;
      }, options);
    } catch (e) {
      this.assertAlive(); // a dead process never learns how its transaction ended
      throw e;
    }
    this.assertAlive();
    if (last !== undefined && last.touched.size > 0) {
      const step = last.step;
      this.commits[step] = (this.commits[step] ?? 0) + 1;
      this.trace?.(last);
      this.point('afterCommit', last);
    }
    return result;
  }

  stats(): BackendStats {
    return this.engine.stats();
  }

  /** The process's view only: the shared engine stays open. */
  async close(): Promise<void> {
    this.dead = true;
  }
}

/**
 * The kind of a dgen key: the actor subspace letter (`v` version, `q` queue, `l` lock, `e` lease,
 * `d` dead letters, `r` replies, `h` history, `s` state, …) or the top-level one (`w` work index,
 * `n` notify, `x` instance index). Parses the tuple strings after the default prefix.
 */
export function keyKind(key: Bytes, ids?: Set<string>): string {
  const k = Buffer.from(key.buffer, key.byteOffset, key.length);
  let at = DEFAULT_PREFIX.length;
  const str = (): string | undefined => {
    if (k[at] !== 0x02) return undefined;
    const start = ++at;
    while (at < k.length && !(k[at] === 0x00 && k[at + 1] !== 0xff)) at += k[at] === 0x00 ? 2 : 1;
    const s = k.subarray(start, at).toString('latin1');
    at++;
    return s;
  };
  const top = str();
  if (top !== 'a') return top ?? '?';
  str(); // definition name
  const id = str();
  if (id !== undefined) ids?.add(id);
  return str() ?? '?';
}
