/**
 * Operator tools over stored actors: list instances, read state, inspect and repair queues,
 * dead letters, locks and halts, destroy instances. Every call is one transaction, so nothing is
 * ever half done. Actors are named by definition or by name, so a CLI can work without the code.
 */
import { clearBlob, groupBlobs } from '../store/blob.js';
import { DgenError } from '../errors.js';
import type { ActorKeys } from '../store/keys.js';
import type { Subspace, TupleItem } from '../backend/subspace.js';
import { clearLock, readLock } from '../store/lock.js';
import { readLease } from '../store/lease.js';
import { decodeEnvelope, type Envelope } from '../store/message.js';
import { enqueue, toDeadLettersRaw, type DeadLetter, type StoredError } from '../store/queue.js';
import { checkId, type Runtime } from '../runtime/runtime.js';
import { decodeValue } from '../state/codec.js';
import { StateStore } from '../state/store.js';
import { decodeVersion } from '../store/version.js';
import { clearInstanceTimers } from '../store/timers.js';
import { cancelTimerOf, timersOf, type TimerEntry, type TimerName } from './timers.js';
import type { Observable } from 'rxjs';
import type { ActorDefinition } from '../define/actor.js';
import { listListeners, listenerDeadLetters, resumeListener, type ListenerDeadLetter, type ListenerInfo } from './listeners.js';
import { migratePage, type MigrateOptions, type MigratePage } from '../evolution/eager.js';
import { checkLimit, commits, dispatchChecked, overview, stateAt, stateNode, versions, type ActorOverview, type CommitEntry, type StateNode } from './inspection.js';

/** An actor type, by definition or by name. */
export type ActorName = string | { readonly name: string };

/** A message waiting in a queue. `position` identifies it for delete. */
export interface QueuedEntry {
  readonly position: string;
  /** The decoded message, or why it cannot be decoded. */
  readonly message: Envelope | { readonly corrupt: string };
}

/** A message that failed. `position` identifies it for delete and requeue. */
export interface DeadLetterEntry {
  readonly position: string;
  readonly message: Envelope | { readonly corrupt: string };
  readonly error: StoredError;
  readonly attempts: number;
  /** When it failed, ms since epoch. */
  readonly at: number;
}

/** The lock of an instance whose thunk is running (or crashed while running). */
export interface LockInfo {
  readonly thunk: string;
  readonly args: unknown;
  readonly messageId: string;
  readonly action: string;
  readonly owner: string;
  readonly attempt: number;
  readonly lastError?: StoredError | undefined;
}

/**
 * A definition with stored instances, as `dgen actors` lists it.
 *
 * @example
 * ```ts
 * for (const a of await system.admin.actors()) if (a.deadLetters > 0) alert(`${a.name}: ${a.deadLetters} dead letters`);
 * ```
 */
export interface ActorSummary {
  readonly name: string;
  /** Instances with anything stored: state, queued messages, dead letters, replies, locks. */
  readonly instances: number;
  /** Messages waiting in the queues of all its instances. */
  readonly queued: number;
  readonly deadLetters: number;
}

/**
 * Operator API, at `system.admin`.
 *
 * @example
 * ```ts
 * for (const id of await system.admin.instances(Counter)) console.log(id, await system.admin.state(Counter, id));
 * const [letter] = await system.admin.deadLetters('counter', 'tenant-42');
 * if (letter) await system.admin.requeue('counter', 'tenant-42', letter.position);
 * ```
 */
export interface Admin {
  /**
   * The definitions that have stored instances, by name, with instance counts, queue depth and
   * dead letters: an operator's first look at a store. Reads every queued message and dead
   * letter, one transaction per instance.
   */
  actors(): Promise<ActorSummary[]>;
  /** Is anything of the actor stored (any instance), or of instance `id` when given? */
  has(actor: ActorName, id?: string): Promise<boolean>;
  /**
   * Ids of instances with stored state, queued messages or dead letters, in id order: up to
   * `limit` (default 1,000) after id `after`, only those starting with `prefix` when given.
   */
  instances(actor: ActorName, options?: { readonly limit?: number; readonly after?: string; readonly prefix?: string }): Promise<string[]>;
  /** The committed state, or `undefined` when the instance has none stored yet. */
  state(actor: ActorName, id: string): Promise<unknown>;
  /** Queued messages, head first: up to `limit` after position `after` when given. */
  queue(actor: ActorName, id: string, options?: { readonly limit?: number; readonly after?: string }): Promise<QueuedEntry[]>;
  /** Dead letters, oldest first: up to `limit` after position `after` when given. */
  deadLetters(actor: ActorName, id: string, options?: { readonly limit?: number; readonly after?: string }): Promise<DeadLetterEntry[]>;
  /** Removes a queued message without processing it. False if it was not there. */
  deleteQueued(actor: ActorName, id: string, position: string): Promise<boolean>;
  deleteDeadLetter(actor: ActorName, id: string, position: string): Promise<boolean>;
  /** Moves a dead letter back to the end of the queue. False if it was not there. */
  requeue(actor: ActorName, id: string, position: string): Promise<boolean>;
  lock(actor: ActorName, id: string): Promise<LockInfo | undefined>;
  /**
   * Releases a stuck lock without applying its thunk; the message that locked goes to the dead
   * letters. The state changes its reducer made before locking stay. False if there was no lock.
   */
  releaseLock(actor: ActorName, id: string): Promise<boolean>;
  /** The failure that halted the instance (policy `halt`), if it is halted. */
  halted(actor: ActorName, id: string): Promise<{ readonly messageId: string; readonly error: StoredError; readonly at: number } | undefined>;
  /** Lets a halted instance process its queue again (after the head message was fixed, deleted or the code changed). */
  resume(actor: ActorName, id: string): Promise<boolean>;
  /** Deletes everything of an instance: state, queue, dead letters, replies, lock, lease, timers. */
  destroy(actor: ActorName, id: string): Promise<void>;
  /** Durable listeners (`system.listen`) with a stored checkpoint: cursor, lag, owner, halt, dead letters. */
  listeners(): Promise<ListenerInfo[]>;
  /** The changes listener `name` gave up on (option `onFailure: 'dead-letter'`), oldest first. */
  listenerDeadLetters(name: string): Promise<ListenerDeadLetter[]>;
  /** Lets a halted listener go on: it retries the change it halted at, or passes over it with `skip`. False if it was not halted. */
  resumeListener(name: string, options?: { readonly skip?: boolean }): Promise<boolean>;
  /** The instance's pending timers (delayed dispatches, `ctx.schedule`, `ctx.send(…, when)`), in due order. */
  timers(actor: ActorName, id: string): Promise<TimerEntry[]>;
  /** Cancels a pending timer named by `{ key }` or `{ messageId }`. False if it was not pending. */
  cancelTimer(actor: ActorName, id: string, timer: TimerName): Promise<boolean>;
  /**
   * One node of the stored state (the root when `address` is omitted) and a page of its children,
   * read without the subtrees below them: a large state is browsed a subtree at a time.
   * Undefined when nothing is stored at that address.
   */
  stateNode(actor: ActorName, id: string, address?: string, options?: { readonly after?: string; readonly limit?: number }): Promise<StateNode | undefined>;
  /** The recent commits (the kept history), newest first, before version `before` when given. */
  commits(actor: ActorName, id: string, options?: { readonly limit?: number; readonly before?: number }): Promise<CommitEntry[]>;
  /**
   * The state as of `version`, rebuilt from the definition's initial state and the kept patches;
   * `history_unavailable` once the oldest of them were pruned, `unknown_definition` when the
   * system does not know the definition (pass it, or register it with `system.ref`).
   */
  stateAt(actor: ActorName, id: string, version: number): Promise<unknown>;
  /** The instance's version now, then after each commit (commits close together may coalesce). */
  version$(actor: ActorName, id: string): Observable<number>;
  /**
   * Enqueues one message, as `ref.dispatch` does, checking its action against the definition
   * (`unknown_action`). Returns the message id.
   */
  dispatch(actor: ActorName, id: string, action: string, payload?: unknown): Promise<string>;
  /**
   * Like {@link Admin.actors} for a large store: instances counted from the index, queue depth and
   * dead letters over the first `countUpTo` instances (default 10,000) of each definition.
   */
  overview(options?: { readonly countUpTo?: number }): Promise<ActorOverview[]>;
  /** The consumer lease of the instance: which consumer serves it and until when (ms since epoch); undefined when none is held. */
  lease(actor: ActorName, id: string): Promise<{ readonly owner: string; readonly expires: number } | undefined>;
  /** The action names of the definition, when this system knows it (given, or registered by `ref`/`serve`). */
  actions(actor: ActorName): string[] | undefined;
  /**
   * Brings one page of the stored instances of `definition` up to its version (see
   * docs/evolution.md); `dryRun` writes nothing. Pass the page's `next` as `after` for the next page.
   */
  migrate<S>(definition: ActorDefinition<S>, options?: MigrateOptions): Promise<MigratePage>;
}

/** @internal */
export function createAdmin(rt: Runtime): Admin {
  const keysOf = (actor: ActorName, id: string): ActorKeys => {
    rt.assertOpen();
    checkId(id);
    return rt.layout.actor(nameOf(actor), id);
  };
  // An operator's call waits through a store recovery like any user operation, then fails with store_unavailable.
  const transact = <T>(fn: Parameters<typeof rt.backend.transact<T>>[0]) => rt.backend.transact(fn, { until: rt.storeDeadline(), what: 'An admin operation' });
  const wake = (actor: ActorName, id: string) => rt.enqueued$.next({ name: nameOf(actor), id });

  const all = rt.layout.root.at('a');
  /** The distinct next tuple elements after `items` in (prefix, 'a', …items): names, or ids of a name. */
  const distinct = async (items: TupleItem[]): Promise<TupleItem[]> => {
    const found: TupleItem[] = [];
    let { begin } = all.range(items);
    const { end } = all.range(items);
    for (;;) {
      const [first] = await transact((tx) => tx.getRange(begin, end, { limit: 1, snapshot: true }));
      if (first === undefined) return found;
      const next = all.unpack(first.key)[items.length]!;
      found.push(next);
      begin = all.range([...items, next]).end;
    }
  };

  return {
    async actors() {
      rt.assertOpen();
      const out: ActorSummary[] = [];
      for (const name of await distinct([])) {
        if (typeof name !== 'string') continue;
        const summary = { name, instances: 0, queued: 0, deadLetters: 0 };
        for (const id of await distinct([name])) {
          if (typeof id !== 'string') continue;
          const keys = rt.layout.actor(name, id);
          const [queued, dead] = await transact((tx) =>
            Promise.all([keys.queue, keys.deadLetters].map(async (sub) => groupBlobs(sub, await tx.getRange(sub.range().begin, sub.range().end, { snapshot: true }), 1).length)),
          );
          summary.instances++;
          summary.queued += queued!;
          summary.deadLetters += dead!;
        }
        out.push(summary);
      }
      return out;
    },

    async has(actor, id) {
      rt.assertOpen();
      if (id !== undefined) checkId(id);
      const { begin, end } = all.range(id === undefined ? [nameOf(actor)] : [nameOf(actor), id]);
      return (await transact((tx) => tx.getRange(begin, end, { limit: 1, snapshot: true }))).length > 0;
    },

    async instances(actor, options = {}) {
      rt.assertOpen();
      const name = nameOf(actor);
      const limit = checkLimit(options.limit, 1_000, Number.MAX_SAFE_INTEGER);
      const { prefix, after } = options;
      if (prefix !== undefined && typeof prefix !== 'string') throw new DgenError('invalid_prefix', `instances({ prefix }): the prefix must be a string, got ${typeof prefix}.`);
      const ids = new Set<string>();
      await transact(async (tx) => {
        for (const sub of [rt.layout.index(name), rt.layout.work(name)]) {
          const range = idRange(sub, prefix);
          const begin = after === undefined ? range.begin : later(range.begin, Buffer.concat([sub.pack([after]), Buffer.of(0xff)]));
          for (const kv of await tx.getRange(begin, range.end, { limit, snapshot: true })) ids.add(String(sub.unpack(kv.key)[0]));
        }
      });
      return [...ids].sort().slice(0, limit);
    },

    async state(actor, id) {
      const keys = keysOf(actor, id);
      return transact(async (tx) => (decodeVersion(await tx.get(keys.version)).n === 0 ? undefined : (await new StateStore(keys.state).load(tx)).state));
    },

    async queue(actor, id, options = {}) {
      const keys = keysOf(actor, id);
      const kvs = await transact((tx) => tx.getRange(pageBegin(keys.queue, options.after), keys.queue.range().end, { limit: options.limit === undefined ? 0 : options.limit * 16 }));
      return groupBlobs(keys.queue, kvs, 1)
        .slice(0, options.limit)
        .map((b) => ({ position: positionOf(b.items), message: decoded(b.bytes) }));
    },

    async deadLetters(actor, id, options = {}) {
      const keys = keysOf(actor, id);
      const kvs = await transact((tx) => tx.getRange(pageBegin(keys.deadLetters, options.after), keys.deadLetters.range().end, { limit: options.limit === undefined ? 0 : options.limit * 16 }));
      return groupBlobs(keys.deadLetters, kvs, 1)
        .slice(0, options.limit)
        .map((b) => {
          const letter = decodeValue(b.bytes!) as DeadLetter;
          return { position: positionOf(b.items), message: decoded(Buffer.from(letter.message)), error: letter.error, attempts: letter.attempts, at: letter.at };
        });
    },

    deleteQueued: (actor, id, position) => removeEntry(keysOf(actor, id), 'queue', position),
    deleteDeadLetter: (actor, id, position) => removeEntry(keysOf(actor, id), 'deadLetters', position),

    async requeue(actor, id, position) {
      const keys = keysOf(actor, id);
      const items = itemsOf(position);
      const done = await transact(async (tx) => {
        const kvs = await tx.getRange(keys.deadLetters.pack(items), keys.deadLetters.range(items).end);
        const blob = groupBlobs(keys.deadLetters, kvs, 1)[0];
        if (blob?.bytes === undefined) return false;
        const raw = Buffer.from((decodeValue(blob.bytes) as DeadLetter).message);
        const envelope = decodeEnvelope(raw);
        clearBlob(tx, keys.deadLetters, items);
        enqueue(tx, keys, [{ envelope, bytes: raw }]);
        return true;
      });
      if (done) wake(actor, id);
      return done;
    },

    async lock(actor, id) {
      const keys = keysOf(actor, id);
      const lock = await transact((tx) => readLock(tx, keys));
      return lock === undefined ? undefined : { thunk: lock.thunk, args: lock.args, messageId: lock.messageId, action: lock.action, owner: lock.owner, attempt: lock.attempt, lastError: lock.lastError };
    },

    async releaseLock(actor, id) {
      const keys = keysOf(actor, id);
      const done = await transact(async (tx) => {
        const lock = await readLock(tx, keys);
        if (lock === undefined) return false;
        clearLock(tx, keys);
        const error = lock.lastError ?? { name: 'DgenError', message: 'lock released by an operator', code: 'lock_released' };
        toDeadLettersRaw(tx, keys, lock.items, lock.raw, error, lock.attempt);
        return true;
      });
      if (done) wake(actor, id);
      return done;
    },

    async halted(actor, id) {
      const keys = keysOf(actor, id);
      const raw = await transact((tx) => tx.get(keys.halt));
      return raw === undefined ? undefined : (decodeValue(raw) as { messageId: string; error: StoredError; at: number });
    },

    async resume(actor, id) {
      const keys = keysOf(actor, id);
      const done = await transact(async (tx) => {
        if ((await tx.get(keys.halt)) === undefined) return false;
        tx.clear(keys.halt);
        tx.set(keys.work, Buffer.alloc(0));
        tx.add(keys.notify, 1);
        return true;
      });
      if (done) wake(actor, id);
      return done;
    },

    async destroy(actor, id) {
      const keys = keysOf(actor, id);
      await transact(async (tx) => {
        await clearInstanceTimers(tx, rt.layout, nameOf(actor), id);
        tx.clearRange(keys.root.prefix, keys.root.range().end);
        tx.clear(keys.work);
        tx.clear(keys.index);
      });
    },

    listeners: () => (rt.assertOpen(), listListeners(rt.backend, rt.layout)),
    listenerDeadLetters: (name) => (rt.assertOpen(), listenerDeadLetters(rt.backend, rt.layout, name)),
    resumeListener: (name, options) => (rt.assertOpen(), resumeListener(rt.backend, rt.layout, name, options?.skip === true)),
    async timers(actor, id) {
      keysOf(actor, id); // checks the system is open, the actor and the id
      return timersOf(rt.backend, rt.layout, nameOf(actor), id);
    },

    async cancelTimer(actor, id, timer) {
      keysOf(actor, id);
      return cancelTimerOf(rt.backend, rt.layout, nameOf(actor), id, timer);
    },

    stateNode: async (actor, id, address, options) => stateNode(rt, keysOf(actor, id), address, options),
    commits: async (actor, id, options) => commits(rt, keysOf(actor, id), options),
    stateAt: async (actor, id, version) => stateAt(rt, keysOf(actor, id), definitionOf(actor), nameOf(actor), version),
    version$: (actor, id) => versions(rt, keysOf(actor, id)),
    overview: async (options = {}) => {
      rt.assertOpen();
      return overview(rt, options.countUpTo === undefined ? 10_000 : checkLimit(options.countUpTo, 10_000));
    },
    async lease(actor, id) {
      const keys = keysOf(actor, id);
      const lease = await transact((tx) => readLease(tx, keys, true));
      return lease === undefined ? undefined : { owner: lease.owner, expires: lease.expires };
    },
    actions: (actor) => {
      const def = definitionOf(actor);
      return def === undefined ? undefined : Object.keys(def.reducers);
    },
    migrate: async (definition, options) => {
      rt.assertOpen();
      if (options?.after !== undefined) checkId(options.after);
      return migratePage(rt, definitionOf(definition) as typeof definition, { ...options, limit: checkLimit(options?.limit, 100, 10_000) });
    },
    dispatch: async (actor, id, action, payload) => dispatchChecked(rt, keysOf(actor, id), definitionOf(actor), nameOf(actor), id, action, payload),
  };

  /** The definition given, registered, or known to this system by name. */
  function definitionOf(actor: ActorName): ActorDefinition<unknown> | undefined {
    if (typeof actor === 'object' && actor !== null && 'reducers' in actor) {
      rt.register(actor as ActorDefinition<unknown>);
      return actor as ActorDefinition<unknown>;
    }
    return rt.definitions.get(nameOf(actor));
  }

  async function removeEntry(keys: ActorKeys, where: 'queue' | 'deadLetters', position: string): Promise<boolean> {
    const sub = keys[where];
    const items = itemsOf(position);
    return transact(async (tx) => {
      if ((await tx.get(sub.pack(items))) === undefined) return false;
      clearBlob(tx, sub, items);
      return true;
    });
  }
}

function nameOf(actor: ActorName): string {
  const name = typeof actor === 'string' ? actor : actor?.name;
  if (typeof name !== 'string' || name.length === 0) throw new DgenError('invalid_actor', 'Name an actor by its definition or its name.');
  return name;
}

/** The keys of ids starting with `prefix` under `sub` (all of them without one). */
function idRange(sub: Subspace, prefix: string | undefined): { begin: Buffer; end: Buffer } {
  if (prefix === undefined || prefix === '') return sub.range();
  // a packed string is 0x02, its UTF-8 bytes (0x00 escaped), 0x00: ids with this prefix share those bytes minus the terminator
  const packed = sub.pack([prefix]);
  const begin = packed.subarray(0, packed.length - 1);
  return { begin, end: Buffer.concat([begin, Buffer.of(0xff)]) };
}

const later = (a: Buffer, b: Buffer): Buffer => (Buffer.compare(a, b) >= 0 ? a : b);

/** Where a page of a queue or dead-letter list starts: after position `after`, or at the head. */
function pageBegin(sub: Subspace, after: string | undefined): Buffer {
  return after === undefined ? sub.range().begin : sub.range(itemsOf(after)).end;
}

function positionOf(items: TupleItem[]): string {
  const stamp = items[0] as { value?: Buffer } | undefined;
  return Buffer.isBuffer(stamp?.value) ? stamp.value.toString('hex') : '';
}

function itemsOf(position: string): TupleItem[] {
  if (!/^[0-9a-f]{24}$/.test(position)) throw new DgenError('invalid_position', `'${position}' is not a queue position (24 hex digits, as listed by queue() and deadLetters()).`);
  return [{ type: 'versionstamp', value: Buffer.from(position, 'hex') } as TupleItem];
}

function decoded(bytes: Buffer | undefined): Envelope | { corrupt: string } {
  try {
    return decodeEnvelope(bytes ?? Buffer.alloc(0));
  } catch (e) {
    return { corrupt: (e as Error).message };
  }
}
