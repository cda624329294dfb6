/**
 * The consumer of one actor instance: drains its queue in batches. A batch is one transaction
 * that holds the lease, checks the version key (the cache stays valid while it is unchanged),
 * takes the next messages, applies the reducers in order, writes the state changes, removes the
 * messages, writes replies, sends and locks, and bumps the version. After the commit it updates
 * the cache, answers local callers, publishes the state and runs after-commit effects.
 * @internal
 */
import type { ActorDefinition } from '../define/actor.js';
import type { Transaction } from '../backend/contract.js';
import { randomHex } from '../util/random-hex.js';
import { together } from '../util/together.js';
import { CommitUnknownResultError, KeyTooLargeError, TransactionTooLargeError, ValueTooLargeError } from '../backend/errors.js';
import { DgenError } from '../errors.js';
import { groupBlobs, writeBlob } from '../store/blob.js';
import { decodeHistory, encodeHistory } from '../store/history.js';
import type { Patch } from '../util/immer.js';
import type { ActorKeys } from '../store/keys.js';
import { holdLease, readLease, type Lease } from '../store/lease.js';
import { readLock, writeLock } from '../store/lock.js';
import type { Envelope } from '../store/message.js';
import { claim, clearWorkIfIdle, clearWorkInBatch, enqueue, peek, pruneOld, remove, take, toDeadLetters, writeReply, type Outgoing, type Queued, type StoredError, type StoredReply } from '../store/queue.js';
import { applyMessage, type Applied } from './reduce.js';
import type { Runtime } from '../runtime/runtime.js';
import { decodeValue, encodeValue } from '../state/codec.js';
import { UnserializableValueError } from '../state/errors.js';
import { StateStore } from '../state/store.js';
import { decodeVersion, encodeVersion, type StateVersion } from '../store/version.js';
import { keepReply, pruneIdempotencyKeys } from '../store/idempotency.js';
import { writeTimerOps } from '../time/schedule.js';
import { writeChange } from '../changes/entry.js';
import { evolve, isOutdated, type Evolved } from '../evolution/migrate-state.js';
import { isFromNewer, upcastMessage } from '../evolution/upcast.js';
import { leaveOutdated, type Outdated } from '../evolution/outdated.js';
import { readDefinitionVersion, writeDefinitionVersion } from '../evolution/stored-version.js';

/** Batches of history kept for observers in other processes. */
export const HISTORY_KEEP = 256;
/**
 * The patches of a batch are kept for observers when they take at most this many bytes, or at
 * most HISTORY_RATIO times the state bytes the batch wrote, up to HISTORY_MAX_BYTES. Past that
 * (immer describes a splice in a long array by one patch per shifted index) observers reload the
 * state instead, so history never makes a write grow with the size of the state.
 */
export const HISTORY_FREE_BYTES = 16_384;
export const HISTORY_RATIO = 4;
export const HISTORY_MAX_BYTES = 1_000_000;
/** Enqueue markers and unclaimed replies live this long (documented in README). */
export const MARKER_TTL_MS = 60 * 60 * 1000;
const PRUNE_EVERY = 64;

/** A committed state held in memory. */
export interface Cached<S> {
  readonly version: number;
  readonly state: S;
}

/** What happened to one message of a batch. */
export interface Outcome<S> {
  readonly envelope: Pick<Envelope, 'id' | 'action' | 'wantsReply' | 'replyTo' | 'keep'> | undefined;
  readonly applied?: Applied<S>;
  readonly error?: StoredError;
  /** Its reply waits for the thunk it locked. */
  readonly deferred?: boolean;
  /** A reply decided elsewhere (a finished thunk delivers the reply of the message that locked). */
  readonly reply?: StoredReply;
  /** Its reducer threw in this batch: reported on events$ once the batch has committed. */
  readonly failed?: { readonly thrown: unknown; readonly policy: 'dead-letter' | 'halt' };
}

/** A committed change of state, ready to be published. */
export interface Commit<S> {
  readonly version: StateVersion;
  readonly state: S;
  readonly outcomes: ReadonlyArray<Outcome<S>>;
}

type Attempt<S> =
  | { readonly kind: 'done'; readonly commit: Commit<S>; readonly took: number; readonly elapsedMs: number; readonly idle: boolean; readonly reduceStart: number; readonly bodyEnd: number }
  | { readonly kind: 'empty' | 'locked' }
  | { readonly kind: 'halted'; readonly outcome?: Outcome<S> }
  | { readonly kind: 'standby'; readonly until: number }
  | Outdated;

/** `idle`: the batch took the whole queue and cleared the "has work" flag in its commit. */
export type BatchResult = { readonly kind: 'processed'; readonly count: number; readonly idle?: boolean } | { readonly kind: 'empty' | 'halted' | 'locked' } | { readonly kind: 'standby'; readonly until: number } | Outdated;

export class InstanceConsumer<S> {
  readonly keys: ActorKeys;
  private readonly store: StateStore;
  private cache: Cached<S> | undefined;
  private batches = 0;
  /** The first queue key the last attempt took: the message a one-message batch that failed was about. */
  private tried: Buffer | undefined;
  /** How many messages the last attempt took. */
  private took = 0;
  /**
   * Most messages the next batch takes: halved when a batch runs out of reducer time, doubled
   * (up to `maxBatchMessages`) when a full batch finishes in under half of it.
   */
  private limit: number;
  private readonly stopper = new AbortController();
  /** Fires when the server stops: running thunks are abandoned (their lock stays for the next owner). */
  readonly stopping: AbortSignal = this.stopper.signal;

  constructor(
    readonly rt: Runtime,
    readonly def: ActorDefinition<S>,
    readonly id: string,
    readonly owner: string,
  ) {
    this.keys = rt.layout.actor(def.name, id);
    this.store = new StateStore(this.keys.state);
    this.limit = def.options.maxBatchMessages;
  }

  stop(): void {
    this.stopper.abort(new DgenError('consumer_stopped', `The consumer of '${this.def.name}/${this.id}' stopped.`));
  }

  /** The committed state this consumer holds, if any. */
  get cached(): Cached<S> | undefined {
    return this.cache;
  }

  /** Processes one batch. */
  async batch(): Promise<BatchResult> {
    let a: Attempt<S>;
    let attempts = 0;
    const started = performance.now();
    try {
      a = await this.once((tx, batchId) => this.attempt(tx, batchId, ++attempts), (a) => (a.kind === 'done' ? a.commit.version.n : undefined));
    } catch (e) {
      if (isLimitError(e)) return this.isolate(e);
      throw e;
    }
    if (a.kind === 'done') this.adapt(a.took, a.elapsedMs);
    if (a.kind === 'halted') {
      if (a.outcome !== undefined) this.settle(a.outcome);
      if (a.outcome?.failed !== undefined) this.reportFailure(a.outcome);
      return { kind: 'halted' };
    }
    if (a.kind !== 'done') return a;
    const committed = performance.now();
    this.publish(a.commit);
    this.rt.observer.committed(this.def.name, this.id, a.commit.version.n, a.commit.outcomes, 'queue', { started, reduceStart: a.reduceStart, reduceEnd: a.reduceStart + a.elapsedMs, bodyEnd: a.bodyEnd, committed, published: performance.now(), attempts });
    return { kind: 'processed', count: a.commit.outcomes.length, idle: a.idle };
  }

  /** Runs `body` as one transaction that ends in a state change; see {@link batch}. Used by thunks. */
  async commitChange(body: (tx: Transaction, batchId: string) => Promise<Commit<S>>, committed?: () => void): Promise<Commit<S>> {
    const commit = await this.once(body, (c) => c.version.n);
    committed?.();
    this.publish(commit);
    return commit;
  }

  /**
   * Runs `body` in a transaction, retried as usual; after `commit_unknown_result` the version key
   * tells whether the attempt committed (it holds the id of the batch that wrote it). Returns what
   * the committed attempt computed.
   */
  private async once<A>(body: (tx: Transaction, batchId: string) => Promise<A>, versionOf: (result: A) => number | undefined): Promise<A> {
    const batchId = randomHex(16);
    let result: A | undefined;
    try {
      await this.rt.backend.transact(async (tx) => {
        result = undefined;
        result = await body(tx, batchId);
      });
    } catch (e) {
      const written = result === undefined ? undefined : versionOf(result);
      if (!(e instanceof CommitUnknownResultError) || written === undefined || !(await this.committed(batchId, written))) throw e;
    }
    return result as A;
  }

  /**
   * A batch's writes broke a store limit (over 10 MB in one transaction, a key over 10,000 bytes)
   * or the state could not be laid out in keys. The batch is split first: the next one takes half
   * as many messages. When a batch of one message still breaks it, that message is poison and
   * follows the actor's failure policy (dead letter, or halt at the head of the queue), with an
   * error that names the actor, the message and the limit, instead of blocking the queue forever.
   */
  private async isolate(error: unknown): Promise<BatchResult> {
    if (this.took > 1) {
      this.limit = Math.max(1, Math.floor(this.took / 2));
      return { kind: 'processed', count: 0 };
    }
    const failed = this.tried;
    const policy = this.def.options.failurePolicy;
    let letter: { items: Queued['items']; outcome: Outcome<S>; token: number } | undefined;
    let outcome: Outcome<S> | undefined;
    try {
      outcome = await this.rt.backend.transact(async (tx) => {
        letter = undefined;
        // Only the message that failed alone, and only while this consumer may process the queue:
        // another consumer may have taken the lease over, isolated it and moved on meanwhile.
        const lease = await this.lease(tx);
        if (typeof lease === 'number' || (await tx.get(this.keys.halt)) !== undefined || (await readLock(tx, this.keys)) !== undefined) return undefined;
        if (isOutdated(this.def, await readDefinitionVersion(tx, this.keys))) return undefined; // the next batch leaves it to newer hosts
        const [message] = await take(tx, this.keys, 1, Infinity);
        if (message === undefined || failed === undefined || !message.keys[0]!.equals(failed)) return undefined;
        const envelope = message.envelope instanceof Error ? undefined : message.envelope;
        const stored = this.limitError(error, envelope);
        const o: Outcome<S> = { envelope, error: stored, failed: { thrown: error, policy } };
        if (policy === 'halt') tx.set(this.keys.halt, encodeValue({ messageId: envelope?.id, error: stored, at: Date.now() }));
        else toDeadLetters(tx, this.keys, message, stored, 1);
        this.writeReplies(tx, [o]);
        letter = { items: message.items, outcome: o, token: lease.token };
        return o;
      });
    } catch (e) {
      // A caller in this process has no stored reply: answer it if the ambiguous commit applied.
      const written = letter;
      if (!(e instanceof CommitUnknownResultError) || written === undefined) throw e;
      const record = policy === 'halt' ? this.keys.halt : this.keys.deadLetters.pack(written.items);
      if (!(await this.rt.backend.transact((tx) => this.isolatedHere(tx, record, written.token), { idempotent: true }))) throw e;
      outcome = written.outcome;
    }
    if (outcome === undefined) return { kind: 'processed', count: 0 }; // look at the queue again
    this.settle(outcome);
    this.reportFailure(outcome);
    return policy === 'halt' ? { kind: 'halted' } : { kind: 'processed', count: 1 };
  }

  /** The error a poison message is stored and answered with: the store's own, naming this actor and the message. */
  private limitError(error: unknown, envelope: Envelope | undefined): StoredError {
    const stored = storedError(error);
    if (error instanceof UnserializableValueError) return stored; // says what in the state cannot be stored
    const message = envelope === undefined ? 'a corrupt message' : `message ${envelope.id} (${envelope.action})`;
    return { ...stored, message: `Actor '${this.def.name}' id '${this.id}', ${message}: processing it alone cannot fit one transaction of the store. ${stored.message}` };
  }

  /**
   * Did this consumer's ambiguous isolation commit? The dead letter (or halt) alone does not say so: when
   * the commit did not apply, another consumer may have taken the lease and dead-lettered the same
   * message meanwhile (found by the simulation, seed 837). Only while the lease is still this
   * consumer's, with the token the attempt held, can nobody else have written it. When the lease
   * moved on the answer is "not known": the event is not reported and the local caller, if any,
   * hears nothing (its call times out saying its message is stored).
   */
  private async isolatedHere(tx: Transaction, record: Buffer, token: number): Promise<boolean> {
    if ((await tx.get(record)) === undefined) return false;
    const lease = await readLease(tx, this.keys);
    return lease?.owner === this.owner && lease.token === token;
  }

  /** Clears the "has work" flag when the queue is empty; false when messages arrived meanwhile. */
  async settleIdle(): Promise<boolean> {
    return this.rt.backend.transact((tx) => clearWorkIfIdle(tx, this.keys));
  }

  /** Did the batch `batchId`, which wrote version `n`, commit? The version key says so until a later batch moves it; the history entry of `n` after that. */
  async committed(batchId: string, n: number): Promise<boolean> {
    return this.rt.backend.transact(
      async (tx) => {
        const current = decodeVersion(await tx.get(this.keys.version));
        if (current.batch === batchId) return true;
        if (current.n <= n) return false; // version n is someone else's, or was never written
        const kvs = await tx.getRange(this.keys.history.pack([n]), this.keys.history.range([n]).end);
        const entry = groupBlobs(this.keys.history, kvs, 1)[0];
        return entry?.bytes !== undefined && decodeHistory(entry.bytes).batch === batchId;
      },
      { idempotent: true },
    );
  }

  /** Holds the lease for this batch, or says until when another consumer holds it. */
  async lease(tx: Transaction): Promise<Lease | number> {
    const lease = await holdLease(tx, this.keys, this.owner, this.def.options.leaseMs);
    if (lease.held && lease.taken) this.rt.observer.leaseTaken(this.def.name, this.id);
    return lease.held ? lease.lease : lease.until;
  }

  private async attempt(tx: Transaction, batchId: string, attemptNo: number): Promise<Attempt<S>> {
    const o = this.def.options;
    const seen = { whole: false };
    // Independent reads go out together: on FoundationDB each awaited read is a network round trip.
    const [lease, halt, lock, versionBytes, messages, stored] = await together(
      () => this.lease(tx),
      () => tx.get(this.keys.halt),
      () => readLock(tx, this.keys),
      () => tx.get(this.keys.version),
      () => peek(tx, this.keys, this.limit, o.maxBatchBytes, seen),
      () => readDefinitionVersion(tx, this.keys),
    );
    if (typeof lease === 'number') return { kind: 'standby', until: lease };
    if (isOutdated(this.def, stored)) return leaveOutdated(tx, this.keys, this.owner, stored);
    if (halt !== undefined) return { kind: 'halted', outcome: haltedOutcome(halt) };
    if (lock !== undefined) return { kind: 'locked' };
    const version = decodeVersion(versionBytes);
    claim(tx, this.keys, messages);
    this.tried = messages[0]?.keys[0];
    this.took = messages.length;
    if (messages.length === 0) return { kind: 'empty' };
    const base = await this.baseState(tx, version);
    const started = performance.now();
    const evolved = evolve(this.def, base, stored, version.n > 0, this.id);
    const { state, patches, outcomes, halted, newer } = this.apply(tx, evolved, messages, lease);
    const elapsedMs = performance.now() - started;
    this.rt.observer.attempted(this.def.name, this.id, messages, outcomes, attemptNo);
    if (halted !== undefined) {
      tx.set(this.keys.halt, encodeValue({ messageId: halted.envelope?.id, error: halted.error, at: Date.now() }));
      this.writeReplies(tx, [halted]);
    }
    if (outcomes.length === 0 && newer !== undefined && halted === undefined) return leaveOutdated(tx, this.keys, this.owner, newer);
    if (outcomes.length === 0) return halted === undefined ? { kind: 'empty' } : { kind: 'halted', outcome: halted };
    const commit = this.writeState(tx, batchId, version, base, state, patches, outcomes, evolved.write);
    // Took and applied every queued message: clear the "has work" flag in this commit rather than
    // in one of its own after it. Only on a first attempt: a retry (an enqueue landed meanwhile) goes without.
    const idle = seen.whole && attemptNo === 1 && halted === undefined && newer === undefined && outcomes.length === messages.length && !outcomes.some((x) => x.deferred === true);
    if (idle) clearWorkInBatch(tx, this.keys);
    this.writeSends(tx, outcomes);
    await writeTimerOps(tx, this.rt.layout, outcomes.flatMap((o) => o.applied?.timers ?? []));
    if (halted !== undefined) commit.outcomes.push(halted);
    if (++this.batches % PRUNE_EVERY === 0) await this.prune(tx);
    return { kind: 'done', commit, took: messages.length, elapsedMs, idle, reduceStart: started, bodyEnd: performance.now() };
  }

  private adapt(took: number, elapsedMs: number): void {
    const { maxBatchMessages, maxBatchMs } = this.def.options;
    if (elapsedMs > maxBatchMs) this.limit = Math.max(1, Math.floor(this.limit / 2));
    else if (took >= this.limit && elapsedMs < maxBatchMs / 2) this.limit = Math.min(maxBatchMessages, this.limit * 2);
  }

  /** The committed state at `version`: from the cache when it is current, else from the store. */
  async baseState(tx: Transaction, version: StateVersion): Promise<S> {
    if (this.cache?.version === version.n) return this.cache.state;
    if (version.n === 0) return this.def.initialState();
    const loading = performance.now();
    const loaded = await this.store.load(tx);
    this.rt.observer.stateLoaded(this.def.name, this.id, performance.now() - loading, loaded.bytes);
    return loaded.state as S;
  }

  /**
   * Applies messages in order until one locks, the batch runs out of time, (policy `halt`) one
   * fails, or one comes from a producer with a newer definition (`newer`: left for newer hosts).
   * Failed messages go to the dead letters (policy `dead-letter`). Starts from the migrated state;
   * when its migration failed, every message fails with it.
   */
  private apply(tx: Transaction, evolved: Evolved<S>, messages: Queued[], lease: Lease) {
    const outcomes: Outcome<S>[] = [];
    const patches: Patch[] = [...evolved.patches];
    const started = performance.now();
    let state = evolved.state;
    let halted: Outcome<S> | undefined;
    let newer: number | undefined;
    for (const message of messages) {
      const envelope = message.envelope instanceof Error ? undefined : message.envelope;
      if (envelope !== undefined && isFromNewer(this.def, envelope)) {
        newer = envelope.version;
        break;
      }
      try {
        if (envelope === undefined) throw message.envelope;
        if (evolved.failure !== undefined) throw evolved.failure;
        const applied = applyMessage(this.def, state, upcastMessage(this.def, envelope), this.id, this.rt.clock.now());
        state = applied.state;
        patches.push(...applied.patches);
        remove(tx, this.keys, message);
        if (applied.lock !== undefined) {
          const reply: StoredReply = { ok: true, value: applied.replied ? applied.reply : undefined };
          writeLock(tx, this.keys, { ...applied.lock, messageId: envelope.id, action: envelope.action, wantsReply: envelope.wantsReply, replyTo: envelope.replyTo, keep: envelope.keep, reply, raw: message.raw, items: message.items, owner: this.owner, token: lease.token, attempt: 0 });
          outcomes.push({ envelope, applied, deferred: true });
          break;
        }
        outcomes.push({ envelope, applied });
      } catch (e) {
        const error = storedError(e);
        const policy = envelope === undefined ? 'dead-letter' : this.def.options.failurePolicy;
        const failed = { thrown: e, policy } as const;
        if (policy === 'halt') {
          halted = { envelope, error, failed };
          break;
        }
        toDeadLetters(tx, this.keys, message, error, 1);
        outcomes.push({ envelope, error, failed });
      }
      if (performance.now() - started > this.def.options.maxBatchMs) break;
    }
    return { state, patches, outcomes, halted, newer };
  }

  /**
   * Writes a new state (incrementally when the base is stored), its version, history and replies;
   * `definitionVersion`, when given, is recorded as the definition version that wrote it (see evolution/).
   */
  writeState(tx: Transaction, batchId: string, version: StateVersion, base: S, state: S, patches: Patch[], outcomes: Outcome<S>[], definitionVersion?: number): Commit<S> & { outcomes: Outcome<S>[] } {
    const next: StateVersion = { n: version.n + 1, batch: batchId };
    let stateBytes = 0;
    if (version.n === 0) {
      stateBytes = this.store.writeAll(tx, state).bytes;
      tx.set(this.keys.index, Buffer.alloc(0));
    } else if (patches.length > 0) stateBytes = this.store.writeChanges(tx, base, state, patches).bytes;
    tx.set(this.keys.version, encodeVersion(next));
    if (definitionVersion !== undefined) writeDefinitionVersion(tx, this.keys, definitionVersion);
    const historyBytes = Math.min(HISTORY_MAX_BYTES, Math.max(HISTORY_FREE_BYTES, HISTORY_RATIO * stateBytes));
    writeBlob(tx, this.keys.history, [next.n], encodeHistory(batchId, patches, historyBytes));
    if (next.n > HISTORY_KEEP) tx.clearRange(this.keys.history.range().begin, this.keys.history.pack([next.n - HISTORY_KEEP]));
    writeChange(tx, this.rt.layout, this.def, this.id, next.n, patches, outcomes, historyBytes);
    this.writeReplies(tx, outcomes);
    return { version: next, state, outcomes };
  }

  /**
   * Stores replies for callers in other processes (local callers are answered after the commit),
   * and keeps those of idempotent calls for their retries.
   */
  writeReplies(tx: Transaction, outcomes: ReadonlyArray<Outcome<S>>): void {
    for (const o of outcomes) {
      if (o.envelope?.wantsReply !== true || o.deferred) continue;
      if (o.envelope.keep === true) keepReply(tx, this.keys, o.envelope.id, replyOf(o));
      if (this.rt.waiters.has(o.envelope.id)) continue;
      writeReply(tx, this.keys, o.envelope.id, replyOf(o), o.envelope.replyTo);
    }
  }

  /** Enqueues what reducers sent with `ctx.send`, in order, in this same transaction. */
  writeSends(tx: Transaction, outcomes: ReadonlyArray<Outcome<S>>): void {
    const byTarget = new Map<string, { name: string; id: string; outs: Outgoing[] }>();
    for (const o of outcomes) {
      for (const send of o.applied?.sends ?? []) {
        const key = JSON.stringify([send.name, send.id]);
        const group = byTarget.get(key) ?? { name: send.name, id: send.id, outs: [] };
        group.outs.push(send.out);
        byTarget.set(key, group);
      }
    }
    for (const g of byTarget.values()) enqueue(tx, this.rt.layout.actor(g.name, g.id), g.outs);
  }

  private async prune(tx: Transaction): Promise<void> {
    pruneOld(tx, this.keys, MARKER_TTL_MS);
    await pruneIdempotencyKeys(tx, this.keys);
  }

  /** After a commit: cache, local replies, state$ subscribers, sends' consumers, after-commit effects. */
  publish(commit: Commit<S>): void {
    const { state } = commit;
    this.cache = { version: commit.version.n, state };
    for (const o of commit.outcomes) this.settle(o);
    for (const o of commit.outcomes) if (o.failed !== undefined) this.reportFailure(o);
    this.rt.commits$.next({ name: this.def.name, id: this.id, version: commit.version.n, state });
    for (const o of commit.outcomes) for (const send of o.applied?.sends ?? []) this.rt.enqueued$.next({ name: send.name, id: send.id });
    for (const o of commit.outcomes) for (const effect of o.applied?.afters ?? []) this.runEffect(effect, state);
  }

  /** A message failed for good in a committed batch (dead letter or halt): one event, never for a rolled-back attempt. */
  private reportFailure(o: Outcome<S>): void {
    const { thrown, policy } = o.failed!;
    this.rt.emit({ type: 'message-failed', actor: this.def.name, id: this.id, messageId: o.envelope?.id ?? '', action: o.envelope?.action ?? '', error: thrown, policy, attempts: 1 });
  }

  /** Answers a caller waiting in this process. */
  settle(o: Outcome<S>): void {
    if (o.deferred || o.envelope?.wantsReply !== true) return;
    this.rt.waiters.get(o.envelope.id)?.settle(replyOf(o));
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

/** Errors that retrying the same writes can never fix: a store limit, or a state the tree layout cannot hold. */
export function isLimitError(e: unknown): boolean {
  return e instanceof KeyTooLargeError || e instanceof ValueTooLargeError || e instanceof TransactionTooLargeError || e instanceof UnserializableValueError;
}

/**
 * The failure a halt record holds, as the outcome its caller waits for: a caller in this process
 * gets no stored reply, and when the halting commit was ambiguous only a later look at the halt
 * can answer it.
 */
function haltedOutcome<S>(raw: Uint8Array): Outcome<S> | undefined {
  const h = decodeValue(raw) as { messageId?: unknown; error?: StoredError } | undefined;
  if (typeof h?.messageId !== 'string' || h.error === undefined) return undefined;
  return { envelope: { id: h.messageId, action: '', wantsReply: true }, error: h.error };
}

function replyOf<S>(o: Outcome<S>): StoredReply {
  if (o.reply !== undefined) return o.reply;
  return o.error !== undefined ? { ok: false, error: o.error } : { ok: true, value: o.applied?.replied ? o.applied.reply : undefined };
}

/** An error as it travels to callers in any process: class name, message and code. */
export function storedError(e: unknown, fallbackCode = 'reducer_failed'): StoredError {
  // The code is stored as the caller sees it, so a dead letter says what the caller was told.
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return { name: e.name, message: e.message, code: typeof code === 'string' ? code : fallbackCode };
  }
  return { name: 'Error', message: String(e), code: fallbackCode };
}
