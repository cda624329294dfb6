/**
 * The consumer of one actor instance: drains its queue in batches. A batch is one transaction
 * that checks the version key (the cache stays valid while it is unchanged), takes the next
 * messages, applies the reducers in order, writes the state changes, removes the messages,
 * writes replies and bumps the version. After the commit it updates the cache, answers local
 * callers, publishes the state and runs after-commit effects.
 * @internal
 */
import { randomBytes } from 'node:crypto';
import type { Patch } from './immer.js';
import type { ActorDefinition } from './actor.js';
import type { Transaction } from './backend/contract.js';
import { CommitUnknownResultError } from './backend/errors.js';
import { writeBlob } from './blob.js';
import type { ActorKeys } from './keys.js';
import { holdLease } from './lease.js';
import type { Envelope } from './message.js';
import { clearWorkIfIdle, pruneOld, remove, take, toDeadLetters, writeReply, type Queued, type StoredError, type StoredReply } from './queue.js';
import { applyMessage, type Applied } from './reduce.js';
import type { Runtime } from './runtime.js';
import { encodeValue } from './state/codec.js';
import { StateStore } from './state/store.js';
import { decodeVersion, encodeVersion, type StateVersion } from './version.js';

/** Batches of history kept for observers in other processes. */
export const HISTORY_KEEP = 256;
/** Enqueue markers and unclaimed replies live this long (documented in README). */
export const MARKER_TTL_MS = 60 * 60 * 1000;
const PRUNE_EVERY = 64;

/** A committed state held in memory. */
export interface Cached<S> {
  readonly version: number;
  readonly state: S;
}

interface Outcome<S> {
  readonly message: Queued;
  readonly envelope: Envelope | undefined;
  readonly applied?: Applied<S>;
  readonly error?: StoredError;
}

/** What one attempt of a batch computed; the last attempt is the one that committed. */
interface Attempt<S> {
  readonly kind: 'done' | 'empty' | 'standby' | 'halted';
  readonly version?: StateVersion;
  readonly state?: S;
  readonly outcomes?: ReadonlyArray<Outcome<S>>;
  readonly until?: number;
}

export type BatchResult = { readonly kind: 'processed'; readonly count: number } | { readonly kind: 'empty' | 'halted' } | { readonly kind: 'standby'; readonly until: number };

export class InstanceConsumer<S> {
  readonly keys: ActorKeys;
  private readonly store: StateStore;
  private cache: Cached<S> | undefined;
  private batches = 0;

  constructor(
    private readonly rt: Runtime,
    private readonly def: ActorDefinition<S>,
    readonly id: string,
    private readonly owner: string,
  ) {
    this.keys = rt.layout.actor(def.name, id);
    this.store = new StateStore(this.keys.state);
  }

  /** The committed state this consumer holds, if any. */
  get cached(): Cached<S> | undefined {
    return this.cache;
  }

  /** Processes one batch. */
  async batch(): Promise<BatchResult> {
    const batchId = randomBytes(16).toString('hex');
    let attempt: Attempt<S> | undefined;
    try {
      await this.rt.backend.transact(async (tx) => {
        attempt = await this.attempt(tx, batchId);
      });
    } catch (e) {
      if (!(e instanceof CommitUnknownResultError) || !(await this.committed(batchId))) throw e;
    }
    const a = attempt!;
    if (a.kind === 'standby') return { kind: 'standby', until: a.until! };
    if (a.kind !== 'done') return { kind: a.kind };
    this.afterCommit(a);
    return { kind: 'processed', count: a.outcomes!.length };
  }

  /** Clears the "has work" flag when the queue is empty; false when messages arrived meanwhile. */
  async settleIdle(): Promise<boolean> {
    return this.rt.backend.transact((tx) => clearWorkIfIdle(tx, this.keys));
  }

  private async committed(batchId: string): Promise<boolean> {
    const v = await this.rt.backend.transact((tx) => tx.get(this.keys.version), { idempotent: true });
    return decodeVersion(v).batch === batchId;
  }

  private async attempt(tx: Transaction, batchId: string): Promise<Attempt<S>> {
    const o = this.def.options;
    const lease = await holdLease(tx, this.keys, this.owner, o.leaseMs);
    if (!lease.held) return { kind: 'standby', until: lease.until };
    const version = decodeVersion(await tx.get(this.keys.version));
    const messages = await take(tx, this.keys, o.maxBatchMessages, o.maxBatchBytes);
    if (messages.length === 0) return { kind: 'empty' };
    const base = await this.baseState(tx, version);
    const { state, patches, outcomes, halted } = this.apply(tx, base, messages);
    if (outcomes.length === 0) return { kind: halted ? 'halted' : 'empty' };
    const next: StateVersion = { n: version.n + 1, batch: batchId };
    if (version.n === 0) this.store.writeAll(tx, state);
    else this.store.writeChanges(tx, base, state, patches);
    tx.set(this.keys.version, encodeVersion(next));
    this.writeHistory(tx, next.n, version.n === 0 ? undefined : patches);
    this.writeReplies(tx, outcomes);
    if (++this.batches % PRUNE_EVERY === 0) pruneOld(tx, this.keys, MARKER_TTL_MS);
    return { kind: 'done', version: next, state, outcomes };
  }

  private async baseState(tx: Transaction, version: StateVersion): Promise<S> {
    if (this.cache?.version === version.n) return this.cache.state;
    if (version.n === 0) return this.def.initialState();
    return (await this.store.load(tx)).state as S;
  }

  /** Applies messages in order until one locks, the batch runs out of time, or (halt policy) one fails. */
  private apply(tx: Transaction, base: S, messages: Queued[]) {
    const outcomes: Outcome<S>[] = [];
    const patches: Patch[] = [];
    const started = performance.now();
    let state = base;
    let halted = false;
    for (const message of messages) {
      const envelope = message.envelope instanceof Error ? undefined : message.envelope;
      try {
        if (envelope === undefined) throw message.envelope;
        const applied = applyMessage(this.def, state, envelope, this.id);
        state = applied.state;
        patches.push(...applied.patches);
        remove(tx, this.keys, message);
        outcomes.push({ message, envelope, applied });
        if (applied.lock !== undefined) break;
      } catch (e) {
        const error = storedError(e);
        this.rt.emit({ type: 'message-failed', actor: this.def.name, id: this.id, messageId: envelope?.id ?? '', action: envelope?.action ?? '', error: e, policy: this.def.options.failurePolicy });
        if (this.def.options.failurePolicy === 'halt' && envelope !== undefined) {
          halted = true;
          break;
        }
        toDeadLetters(tx, this.keys, message, error, 1);
        outcomes.push({ message, envelope, error });
      }
      if (performance.now() - started > this.def.options.maxBatchMs) break;
    }
    return { state, patches, outcomes, halted };
  }

  /** The batch's patches, for observers in other processes; `undefined` means "reload the whole state". */
  private writeHistory(tx: Transaction, version: number, patches: Patch[] | undefined): void {
    writeBlob(tx, this.keys.history, [version], encodeValue(patches === undefined ? null : patches));
    if (version > HISTORY_KEEP) tx.clearRange(this.keys.history.range().begin, this.keys.history.pack([version - HISTORY_KEEP]));
  }

  /** Stores replies for callers in other processes; local callers are answered after the commit. */
  private writeReplies(tx: Transaction, outcomes: ReadonlyArray<Outcome<S>>): void {
    for (const o of outcomes) {
      if (o.envelope?.wantsReply !== true || this.rt.waiters.has(o.envelope.id)) continue;
      writeReply(tx, this.keys, o.envelope.id, replyOf(o));
    }
  }

  private afterCommit(a: Attempt<S>): void {
    const state = a.state as S;
    this.cache = { version: a.version!.n, state };
    for (const o of a.outcomes!) {
      const id = o.envelope?.id;
      const waiter = id === undefined ? undefined : this.rt.waiters.get(id);
      if (waiter !== undefined && o.envelope!.wantsReply) waiter.settle(replyOf(o));
    }
    this.rt.commits$.next({ name: this.def.name, id: this.id, version: a.version!.n, state });
    for (const o of a.outcomes!) for (const effect of o.applied?.afters ?? []) this.runEffect(effect, state);
  }

  private runEffect(effect: (state: S) => void | Promise<void>, state: S): void {
    const report = (error: unknown) => this.rt.emit({ type: 'effect-failed', actor: this.def.name, id: this.id, error });
    try {
      const r = effect(state);
      if (r instanceof Promise) r.catch(report);
    } catch (e) {
      report(e);
    }
  }
}

function replyOf<S>(o: Outcome<S>): StoredReply {
  return o.error !== undefined ? { ok: false, error: o.error } : { ok: true, value: o.applied?.replied ? o.applied.reply : undefined };
}

/** An error as it travels to callers in any process: class name, message and code. */
export function storedError(e: unknown): StoredError {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return { name: e.name, message: e.message, code: typeof code === 'string' ? code : undefined };
  }
  return { name: 'Error', message: String(e), code: undefined };
}
