/**
 * Admission control over the storage contract: a system runs at most `maxTransactions`
 * transactions at once on its engine and queues the rest, fairly across verbs and actors
 * (see fair-queue.ts), so that each admitted transaction finishes well inside its 5 s timeout
 * however many operations are issued at once. A user operation (dispatch, call, query) that cannot
 * start before its deadline fails with `overloaded`, which guarantees nothing was stored; internal
 * loops (consumers, watches, reply listeners) wait as long as it takes.
 *
 * It is engine-agnostic: a {@link Backend} wrapping a Backend, used by the whole runtime, so
 * memory, LMDB and FoundationDB are protected alike (LMDB's reader table, FoundationDB's
 * per-client limits, the event loop of a process under a burst).
 * @internal
 */
import type { Backend, BackendStats, Transaction, TransactOptions } from '../backend/contract.js';
import { ClosedError, EngineFailedError } from '../backend/errors.js';
import { OverloadedError, StoreUnavailableError, isDgenError } from '../errors.js';
import { isTransient, pauseMs } from './recovery.js';
import { FairQueue } from './fair-queue.js';
import { CongestionWindow } from './congestion.js';
import { LIMITS } from '../backend/contract.js';
import { checkOptions, positiveInteger, positiveMs, type OptionCheck } from './options.js';

/**
 * Options of admission control, `createSystem({ admission })` (docs/load.md).
 *
 * @example
 * ```ts
 * const system = await createSystem({ admission: { maxTransactions: 32, queueTimeoutMs: 5_000 } });
 * await ref.dispatch.add(1).catch((e) => { if (isDgenError(e, 'overloaded')) retryLater(); }); // nothing was stored
 * ```
 */
export interface AdmissionOptions {
  /**
   * Most transactions this system runs at once on its engine. Default by engine: memory 256,
   * lmdb 64, foundationdb 512 (others 128).
   */
  readonly maxTransactions?: number;
  /**
   * Longest a dispatch, call or query waits for its turn before failing with `overloaded`
   * (nothing stored). Default 30,000 ms.
   */
  readonly queueTimeoutMs?: number;
  /** Most operations waiting for their turn; past it a new one fails with `overloaded` at once. Default 1,000,000. */
  readonly maxQueued?: number;
}

/** Which queue an operation waits in: its verb, then its actor (round-robin at both levels). @internal */
export interface Lane {
  readonly verb: string;
  readonly key: string;
}

/** Options of {@link AdmittedBackend.transact}. @internal */
export interface AdmitOptions extends TransactOptions {
  readonly lane?: Lane;
  /** Epoch ms by which the transaction must have started, else `overloaded`. Absent: no deadline. */
  readonly deadline?: number;
  /**
   * Epoch ms after which a transient failure (see recovery.ts) ends a user operation with
   * `store_unavailable` instead of another try. Absent: an internal loop, retried while the system is open.
   */
  readonly until?: number;
  /** Names the operation in a `store_unavailable` message. */
  readonly what?: string;
}

const DEFAULT_LIMITS: Readonly<Record<string, number>> = { memory: 256, lmdb: 64, foundationdb: 512 };
const DEFAULT_QUEUE_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_QUEUED = 1_000_000;
const INTERNAL: Lane = { verb: 'internal', key: '' };
const ADMISSION_OPTIONS: Readonly<Record<keyof AdmissionOptions, OptionCheck>> = {
  maxTransactions: positiveInteger,
  queueTimeoutMs: positiveMs,
  maxQueued: positiveInteger,
};

interface Waiting {
  readonly deadline: number | undefined;
  readonly start: () => void;
  readonly fail: (e: unknown) => void;
}

/** A Backend whose transactions are admitted at most `maxTransactions` at a time. @internal */
export class AdmittedBackend implements Backend {
  readonly kind: string;
  readonly maxTransactions: number;
  readonly queueTimeoutMs: number;
  private readonly maxQueued: number;
  private running = 0;
  private readonly queue = new FairQueue<Waiting>();
  private sweeper: NodeJS.Timeout | undefined;
  /** Fewer than `maxTransactions` at once while transactions do not finish well inside their timeout. */
  private readonly window: CongestionWindow;

  constructor(
    readonly engine: Backend,
    options: AdmissionOptions = {},
    /** True once the system is closing: internal loops stop retrying a store in recovery. */
    private readonly stopping: () => boolean = () => false,
    /** Told of each transient failure before its new try. */
    private readonly retrying: (error: unknown) => void = () => {},
    /** Told how long each transaction took and its commit (undefined when it failed); absent: nothing is timed. */
    private readonly timed?: (ms: number, commitMs: number | undefined, error?: unknown) => void,
  ) {
    checkOptions('createSystem({ admission })', options, ADMISSION_OPTIONS);
    this.kind = engine.kind;
    this.maxTransactions = options.maxTransactions ?? DEFAULT_LIMITS[engine.kind] ?? 128;
    this.queueTimeoutMs = options.queueTimeoutMs ?? DEFAULT_QUEUE_TIMEOUT_MS;
    this.maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED;
    this.window = new CongestionWindow(this.maxTransactions);
  }

  get closed(): boolean {
    return this.engine.closed;
  }

  /** Transactions running now, operations waiting for their turn, and how many may run at once now (see congestion.ts). */
  get load(): { readonly running: number; readonly queued: number; readonly limit: number } {
    return { running: this.running, queued: this.queue.size, limit: this.window.limit };
  }

  /** A deadline `queueTimeoutMs` from now, for a user operation. */
  deadline(): number {
    return Date.now() + this.queueTimeoutMs;
  }

  /**
   * Runs `fn` once admitted; a transient failure (a store in recovery) is tried again after a
   * pause, with a new turn, until `options.until` (then `store_unavailable`, nothing stored) or,
   * without it, as long as the system is open.
   */
  async transact<T>(fn: (tx: Transaction) => T | Promise<T>, options: AdmitOptions = {}): Promise<T> {
    const started = Date.now();
    for (let tries = 1; ; tries++) {
      try {
        return await this.once(fn, options);
      } catch (e) {
        // A user operation rides on while its system closes (close() waits for enqueues in flight); an internal loop stops.
        if (!isTransient(e, options.idempotent ?? false) || this.engine.closed || (options.until === undefined && this.stopping())) throw e;
        this.retrying(e);
        const pause = pauseMs(tries);
        if (options.until !== undefined && Date.now() + pause > options.until) throw new StoreUnavailableError(options.what ?? 'The operation', Date.now() - started, false, e);
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  }

  private async once<T>(fn: (tx: Transaction) => T | Promise<T>, options: AdmitOptions): Promise<T> {
    await this.admit(options.lane ?? INTERNAL, options.deadline);
    const started = performance.now();
    try {
      const result = await (this.timed === undefined ? this.engine.transact(fn, options) : this.timedTransact(fn, options, this.timed));
      this.window.finished(performance.now() - started, options.timeoutMs ?? LIMITS.timeoutMs);
      return result;
    } catch (e) {
      const error = isDgenError(e) ? e : new EngineFailedError(e);
      this.window.failed(started, error, this.running);
      throw error;
    } finally {
      this.release();
    }
  }

  /** A transaction timed from admission to its outcome, and from the end of its body to its commit. */
  private async timedTransact<T>(fn: (tx: Transaction) => T | Promise<T>, options: AdmitOptions, timed: NonNullable<AdmittedBackend['timed']>): Promise<T> {
    const started = performance.now();
    let bodyEnd = started;
    try {
      const result = await this.engine.transact(async (tx) => {
        const r = await fn(tx);
        bodyEnd = performance.now();
        return r;
      }, options);
      const now = performance.now();
      timed(now - started, now - bodyEnd);
      return result;
    } catch (e) {
      timed(performance.now() - started, undefined, e);
      throw e;
    }
  }

  stats(): BackendStats {
    return this.engine.stats();
  }

  async close(): Promise<void> {
    this.failQueued(new ClosedError('backend'));
    await this.engine.close();
  }

  /** Rejects every operation still waiting (the system is closing or the engine closed). */
  failQueued(error: unknown): void {
    for (let w = this.queue.shift(); w !== undefined; w = this.queue.shift()) w.fail(error);
    this.stopSweeper();
  }

  private admit(lane: Lane, deadline: number | undefined): Promise<void> | void {
    if (this.running < this.window.limit && this.queue.size === 0) {
      this.running++;
      return;
    }
    if (deadline !== undefined && this.queue.size >= this.maxQueued) {
      throw new OverloadedError(verbName(lane), `${this.queue.size.toLocaleString('en-US')} operations are already waiting (admission.maxQueued)`);
    }
    return new Promise<void>((start, fail) => {
      this.queue.push(lane.verb, lane.key, { deadline, start, fail });
      if (deadline !== undefined) this.startSweeper();
    });
  }

  /** A transaction ended: its slot goes to the next in turn, or to several when the window grew, or to none when it shrank. */
  private release(): void {
    this.running--;
    while (this.running < this.window.limit) {
      const next = this.queue.shift();
      if (next === undefined) break;
      if (next.deadline !== undefined && next.deadline < Date.now()) {
        next.fail(this.expired());
        continue;
      }
      this.running++;
      next.start();
    }
    this.stopSweeper();
  }

  private expired(): OverloadedError {
    return new OverloadedError('the operation', `it waited ${this.queueTimeoutMs} ms (admission.queueTimeoutMs) behind ${this.running} transactions in flight (at most ${this.window.limit} now, admission.maxTransactions ${this.maxTransactions}) and ${this.queue.size.toLocaleString('en-US')} queued`);
  }

  /** Fails waiting operations whose deadline passed, so they fail fast rather than when a slot frees. */
  private startSweeper(): void {
    if (this.sweeper !== undefined) return;
    const every = Math.max(10, Math.min(1_000, this.queueTimeoutMs / 4));
    this.sweeper = setInterval(() => {
      const now = Date.now();
      for (const w of this.queue.removeWhere((w) => w.deadline !== undefined && w.deadline < now)) w.fail(this.expired());
      if (this.queue.size === 0) this.stopSweeper();
    }, every);
    this.sweeper.unref();
  }

  private stopSweeper(): void {
    if (this.sweeper === undefined || this.queue.size > 0) return;
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }
}

function verbName(lane: Lane): string {
  return lane.verb === INTERNAL.verb ? 'the operation' : `${lane.verb} to ${lane.key}`;
}
