/**
 * The key layout, shared by every engine: FoundationDB tuple encoding under one prefix. Names and
 * ids are tuple elements, never concatenated strings, so no id can reach another actor's keys.
 *
 * ```
 * (prefix, 'a', name, id, 'v')            version of the actor's committed state (int64 LE, atomic add)
 * (prefix, 'a', name, id, 's', ...path)   state tree (see state/)
 * (prefix, 'a', name, id, 'q', stamp, …)  queued messages, in commit order
 * (prefix, 'a', name, id, 'r', msgId)     replies to calls
 * (prefix, 'a', name, id, 'd', stamp)     dead letters
 * (prefix, 'a', name, id, 'i', msgId)     enqueue markers: make retried enqueues exactly-once
 * (prefix, 'a', name, id, 'h', version)   recent changes (immer patches), for observers in other processes
 * (prefix, 'a', name, id, 'l', …)         lock of a running thunk (a chunked value)
 * (prefix, 'a', name, id, 'e')            consumer lease
 * (prefix, 'a', name, id, 'g')            definition version that last wrote the state (absent: 1), see evolution/
 * (prefix, 'a', name, id, 'x')            halt record: the failed message that paused the actor (policy 'halt')
 * (prefix, 'a', name, id, 'k', key)       idempotency keys of dispatches and calls, with (…, 't', time, key[, msgId]) to expire them
 * (prefix, 'a', name, id, 'c', msgId)     replies of idempotent calls, kept (not consumed) as long as their key
 * (prefix, 'w', name, id)                 "has work" index, so serve() finds instances with messages
 * (prefix, 'x', name, id)                 index of instances with stored state or dead letters (admin listing)
 * (prefix, 'n', name)                     notify counter, bumped by every enqueue (watched by consumers)
 * (prefix, 'y', inbox)                    reply notify counter of one calling process, bumped with every pointer below
 * (prefix, 'y', inbox, msgId)             pointer to a reply waiting for that process: the tuple (name, id) of the actor
 * (prefix, 'a', name, id, 'm', kind, key)  pending timers of an instance (see timers.ts)
 * (prefix, 'T', name, due, id, kind, key, messageId)  time-ordered index of a definition's timers
 * (prefix, 'tw', name)                    timer wake counter, bumped by a timer earlier than all pending ones
 * (prefix, 'f', name, …)                  change feed of a definition defined with `changes` (see changes/keys.ts)
 * (prefix, 'L', listener, …)              durable listeners' checkpoints, leases and dead letters (see changes/keys.ts)
 * ```
 * @internal
 */
import * as tuple from 'fdb-tuple';
import type { Bytes } from '../backend/contract.js';
import { Subspace } from '../backend/subspace.js';

/** The default prefix of every dgen key: the tuple ('dgen'). */
export const DEFAULT_PREFIX = tuple.pack(['dgen']);

/** Subspaces of one actor instance. @internal */
export interface ActorKeys {
  readonly root: Subspace;
  readonly version: Buffer;
  /** The version of the definition that last wrote the state (absent: version 1). */
  readonly definitionVersion: Buffer;
  readonly state: Subspace;
  readonly queue: Subspace;
  readonly replies: Subspace;
  readonly deadLetters: Subspace;
  readonly markers: Subspace;
  readonly history: Subspace;
  readonly lock: Subspace;
  readonly lease: Buffer;
  readonly halt: Buffer;
  readonly idempotency: Subspace;
  readonly idempotencyByTime: Subspace;
  /** Replies of calls sent with an idempotency key, kept for retries with the same key. */
  readonly keptReplies: Subspace;
  /** The "has work" marker of this instance. */
  readonly work: Buffer;
  /** This instance's entry in the index of instances with state or dead letters. */
  readonly index: Buffer;
  /** The notify counter of the whole definition. */
  readonly notify: Buffer;
  /** The tuple (name, id): what a reply pointer holds. */
  readonly address: Buffer;
  /** The reply inbox of a calling process. */
  inbox(inbox: string): InboxKeys;
}

/** The reply inbox of one calling process (see runtime/replies.ts). @internal */
export interface InboxKeys {
  /** Bumped (atomic add) with every pointer written: the one key its process watches. */
  readonly notify: Buffer;
  /** (msgId) → tuple (name, id) of the actor whose reply key holds the reply. */
  readonly entries: Subspace;
}

/** Actors whose keys a layout keeps packed (~2 KB each); the oldest packed is dropped first. */
const ACTORS_CACHED = 4_096;
/** Reply inboxes (one per calling process) whose keys a layout keeps packed. */
const INBOXES_CACHED = 256;

/** The layout of a whole dgen keyspace under one prefix. @internal */
export class Layout {
  readonly root: Subspace;
  constructor(prefix: Bytes = DEFAULT_PREFIX) {
    this.root = new Subspace(Buffer.from(prefix));
  }

  /** Keys of recently used actors: packing them costs ~15 tuple encodings, on every message to a cold ref or consumer. */
  private readonly actors = new Map<string, ActorKeys>();
  private readonly inboxes = new Map<string, InboxKeys>();

  /** The keys of one actor (memoized for the most recent {@link ACTORS_CACHED}; the objects are immutable). */
  actor(name: string, id: string): ActorKeys {
    const at = `${name}\u0000${id}`;
    let keys = this.actors.get(at);
    if (keys === undefined) {
      keys = this.packActor(name, id);
      if (this.actors.size >= ACTORS_CACHED) this.actors.delete(this.actors.keys().next().value!);
      this.actors.set(at, keys);
    }
    return keys;
  }

  private packActor(name: string, id: string): ActorKeys {
    const a = this.root.at('a', name, id);
    return {
      root: a,
      version: a.pack(['v']),
      definitionVersion: a.pack(['g']),
      state: a.at('s'),
      queue: a.at('q'),
      replies: a.at('r'),
      deadLetters: a.at('d'),
      markers: a.at('i'),
      history: a.at('h'),
      lock: a.at('l'),
      lease: a.pack(['e']),
      halt: a.pack(['x']),
      idempotency: a.at('k'),
      idempotencyByTime: a.at('t'),
      keptReplies: a.at('c'),
      work: this.root.pack(['w', name, id]),
      index: this.root.pack(['x', name, id]),
      notify: this.notify(name),
      address: tuple.pack([name, id]),
      inbox: (inbox) => this.inbox(inbox),
    };
  }

  /** The reply inbox of the process whose calls carry `inbox`. */
  inbox(inbox: string): InboxKeys {
    let keys = this.inboxes.get(inbox);
    if (keys === undefined) {
      keys = { notify: this.root.pack(['y', inbox]), entries: this.root.at('y', inbox) };
      if (this.inboxes.size >= INBOXES_CACHED) this.inboxes.delete(this.inboxes.keys().next().value!);
      this.inboxes.set(inbox, keys);
    }
    return keys;
  }

  /** Every instance of a definition that has queued work. */
  work(name: string): Subspace {
    return this.root.at('w', name);
  }

  /** Index of the instances of a definition that have stored state or dead letters. */
  index(name: string): Subspace {
    return this.root.at('x', name);
  }

  notify(name: string): Buffer {
    return this.root.pack(['n', name]);
  }
}
