/**
 * What the parts of one system share: the backend, the key layout, the registry of definitions,
 * in-process waiters for call replies, and the in-process event buses.
 * @internal
 */
import { setMaxListeners } from 'node:events';
import { Subject } from 'rxjs';
import type { ActorDefinition } from '../define/actor.js';
import type { Backend } from '../backend/contract.js';
import { AdmittedBackend, type AdmissionOptions } from './admission.js';
import { systemClock, type Clock } from './clock.js';
import { DEFAULT_STORE_DEADLINE_MS } from './recovery.js';
import { ReplyInbox, type Waiter } from './replies.js';
import { DefinitionConflictError, InvalidIdError, SystemClosedError } from '../errors.js';
import { Layout } from '../store/keys.js';
import type { Outgoing } from '../store/queue.js';
import type { Transaction } from '../backend/contract.js';
import type { SystemEvent } from './events.js';
import { Observer } from '../observe/observer.js';

/** A state committed by a consumer of this process. */
export interface LocalCommit {
  readonly name: string;
  readonly id: string;
  readonly version: number;
  readonly state: unknown;
}

/** What the runtime needs of a server of this process. */
export interface LocalServer {
  cached(id: string): { version: number; state: unknown } | undefined;
  /** The instance's consumer when it is served here and has nothing in flight. */
  idleConsumer(id: string): InlineConsumer | undefined;
  stop(): Promise<void>;
}

/** An idle consumer of this process that can process a send in its transaction (see serve/inline.ts). */
export interface InlineConsumer {
  /**
   * Applies `messages` in `tx` and returns what to run once `tx` has committed (publish the new
   * state, answer local callers) and how to learn whether it did, or undefined when they must be enqueued instead. `messages` may
   * still be read (the idempotency check): the inline path's own reads go out meanwhile.
   */
  processInline(tx: Transaction, messages: readonly Outgoing[] | Promise<readonly Outgoing[]>): Promise<Inlined | undefined>;
}

/** Messages processed inline in a transaction. */
export interface Inlined {
  /** Publishes the new state and answers local callers: run once the transaction committed. */
  readonly run: () => void;
  /** After `commit_unknown_result`: did that transaction commit? (The instance's version and history say.) */
  readonly committed: () => Promise<boolean>;
}

export type { Waiter } from './replies.js';

export class Runtime {
  readonly layout: Layout;
  /** The engine behind admission control (see admission.ts): every transaction of the runtime goes through it. */
  readonly backend: AdmittedBackend;
  readonly definitions = new Map<string, ActorDefinition<unknown>>();
  /** The reply listener of this process (see replies.ts). */
  readonly replies: ReplyInbox;
  /** Callers of this process waiting for a reply, by message id. */
  readonly waiters: Map<string, Waiter>;
  /** States committed by this process's consumers. */
  readonly commits$ = new Subject<LocalCommit>();
  /** Instances this process just enqueued into: lets a local consumer start at once. */
  readonly enqueued$ = new Subject<{ readonly name: string; readonly id: string }>();
  readonly events$ = new Subject<SystemEvent>();
  /** Enqueues in flight: `close()` waits for them. */
  readonly sending = new Set<Promise<void>>();

  /** Counts `flushed` among the enqueues in flight until it settles (see {@link sending}). */
  trackSending(flushed: Promise<void>): void {
    this.sending.add(flushed);
    void flushed.then(() => this.sending.delete(flushed));
  }
  /** The servers of this process, by definition name: they hold cached states. */
  readonly servers = new Map<string, Set<LocalServer>>();
  closed = false;
  /**
   * Aborted when the system has closed: long-lived loops of this system (state$ observers) stop.
   * Each live observer holds one listener on it and removes it when it ends, so thousands at once
   * are expected, not a leak: Node's warning past 10 is turned off for this signal only.
   */
  readonly shutdown = unboundedAbortController();

  /** How long a user operation rides through a store that is unavailable (see recovery.ts). */
  readonly storeDeadlineMs: number;

  constructor(
    engine: Backend,
    prefix: Uint8Array | undefined,
    admission?: AdmissionOptions,
    storeDeadlineMs = DEFAULT_STORE_DEADLINE_MS,
    /** Actor time (see clock.ts): the process's clock, or a test's virtual one. */
    readonly clock: Clock = systemClock,
    /** Metrics, spans and `inspect$` (see observe/observer.ts). */
    readonly observer: Observer = new Observer(undefined),
  ) {
    this.layout = new Layout(prefix);
    this.storeDeadlineMs = storeDeadlineMs;
    const timed = observer.telemetry === undefined ? undefined : observer.transaction.bind(observer);
    this.backend = new AdmittedBackend(engine, admission, () => this.closed, (error) => this.storeRetrying(error), timed);
    this.replies = new ReplyInbox(this.backend, this.layout, () => this.closed);
    this.waiters = this.replies.waiters;
  }

  /** When the last `store-retrying` event went out. */
  private lastRetryEvent = -Infinity;

  /** Reports a transaction tried again after a transient failure: at most one event a second. */
  private storeRetrying(error: unknown): void {
    const retrying: SystemEvent = { type: 'store-retrying', error };
    this.observer.event(retrying); // counted each time; the event below goes out at most once a second
    const now = Date.now();
    if (now - this.lastRetryEvent < 1_000) return;
    this.lastRetryEvent = now;
    this.emit({ type: 'store-retrying', error });
  }

  /** The epoch ms until which a user operation starting now retries a store in recovery. */
  storeDeadline(): number {
    return Date.now() + this.storeDeadlineMs;
  }

  /** Registers `def` (first use) or checks it is the one already registered under its name. */
  register<S>(def: ActorDefinition<S>): void {
    this.assertOpen();
    const known = this.definitions.get(def.name);
    if (known === undefined) this.definitions.set(def.name, def as ActorDefinition<unknown>);
    else if (known !== (def as ActorDefinition<unknown>)) throw new DefinitionConflictError(def.name);
  }

  /** Does this process serve definition `name`? */
  serves(name: string): boolean {
    return (this.servers.get(name)?.size ?? 0) > 0;
  }

  /** An idle consumer of this process for the instance, to process a send inline (see serve/inline.ts). */
  inlineConsumer(name: string, id: string): InlineConsumer | undefined {
    for (const server of this.servers.get(name) ?? []) {
      const c = server.idleConsumer(id);
      if (c !== undefined) return c;
    }
    return undefined;
  }

  /** The state a consumer of this process holds for an instance, if any. */
  localState(name: string, id: string): { version: number; state: unknown } | undefined {
    for (const server of this.servers.get(name) ?? []) {
      const c = server.cached(id);
      if (c !== undefined) return c;
    }
    return undefined;
  }

  /** Rejects every call still waiting for a reply (their messages stay queued). */
  failWaiters(error: (messageId: string) => Error): void {
    for (const [id, waiter] of [...this.waiters]) waiter.fail(error(id));
  }

  assertOpen(): void {
    if (this.closed) throw new SystemClosedError();
  }

  emit(event: SystemEvent): void {
    if (event.type !== 'store-retrying') this.observer.event(event); // store retries are counted each, not once a second
    if (this.events$.observed) this.events$.next(event);
  }
}

/** Checks an actor id at the boundary. */
export function checkId(id: unknown): asserts id is string {
  if (typeof id !== 'string') throw new InvalidIdError(`expected a string, got ${id === null ? 'null' : typeof id}`);
  if (id.length === 0) throw new InvalidIdError('the id is empty');
  if (Buffer.byteLength(id) > 1000) throw new InvalidIdError(`the id is ${Buffer.byteLength(id)} bytes long`);
}

function unboundedAbortController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}
