/**
 * The producer handle of one actor instance: `dispatch`, `call`, `query` and `state$`, typed from
 * the definition's reducers. Any process can hold one; it needs no consumer in its own process.
 */
import type { Observable } from 'rxjs';
import type { ActorDefinition, PayloadArgs, Reducers, ReplyOf } from '../define/actor.js';
import { ActorError, CallAbortedError, CallTimeoutError, DgenError, UnknownActionError, isDgenError } from '../errors.js';
import type { ActorKeys } from '../store/keys.js';
import type { Envelope } from '../store/message.js';
import { observeState } from './observe.js';
import { consumeReply, outgoing, type Outgoing, type StoredReply } from '../store/queue.js';
import type { Runtime } from '../runtime/runtime.js';
import { Sender } from './sender.js';
import { StateStore } from '../state/store.js';
import { decodeVersion } from '../store/version.js';
import { dispatchLater, refuseDelayedCall } from '../time/dispatch.js';
import { isTimed } from '../time/timing.js';
import type { Timing } from '../define/timing.js';

/** Options of a `dispatch`. */
export interface DispatchOptions {
  /**
   * Enqueue at most once per key for this actor instance within 24 hours: a producer that got
   * `commit_unknown_result` (or crashed) may simply send again with the same key.
   */
  readonly idempotencyKey?: string;
  /**
   * Deliver after this many milliseconds (at most 10 years): the message is stored as a timer of
   * the instance and enqueued, exactly once, when due. Not ordered with the ref's other messages.
   */
  readonly delay?: number;
  /** Deliver at this time (`Date` or epoch ms; in the past: as soon as possible). Exclusive with `delay`. */
  readonly at?: Date | number;
}

/** Options of a `call`. */
export interface CallOptions {
  /** Milliseconds to wait for the reply before rejecting with `call_timeout`. Default 30,000. */
  readonly timeout?: number;
  /** Aborting rejects the call with `call_aborted` (the message stays queued). */
  readonly signal?: AbortSignal;
}

/** `ref.dispatch.<action>(payload)`: resolves once the message is durably enqueued. */
export type Dispatchers<R> = { readonly [K in keyof R & string]: (...args: [...PayloadArgs<R[K]>, options?: DispatchOptions]) => Promise<void> };

/** `ref.call.<action>(payload)`: resolves with the reducer's reply once the message is processed. */
export type Callers<R> = { readonly [K in keyof R & string]: (...args: [...PayloadArgs<R[K]>, options?: CallOptions]) => Promise<ReplyOf<R[K]>> };

/**
 * A handle on one actor instance (definition name, id).
 *
 * @example
 * ```ts
 * const counter = system.ref(Counter, 'tenant-42');
 * await counter.dispatch.increment(2);            // durably enqueued
 * const left = await counter.call.take(1);        // processed, with the reducer's reply
 * const count = await counter.query((s) => s.count);
 * counter.state$.subscribe((s) => console.log(s.count));
 * ```
 */
export interface ActorRef<S, R extends Reducers<S> = Reducers<S>> {
  readonly name: string;
  readonly id: string;
  /** Cast: one function per reducer; resolves once the message is durably enqueued. */
  readonly dispatch: Dispatchers<R>;
  /** Call: one function per reducer; resolves with the reply after processing, rejects with the reducer's error. */
  readonly call: Callers<R>;
  /** A strictly serializable read of the committed state (no message is queued). */
  query(): Promise<S>;
  query<T>(selector: (state: S) => T): Promise<T>;
  /** Committed states: the latest on subscribe, then every commit in order, in any process. */
  readonly state$: Observable<S>;
}

const DEFAULT_CALL_TIMEOUT_MS = 30_000;
/** A caller in a process that serves the actor waits this long for the local consumer before also watching the store. */
const LOCAL_REPLY_GRACE_MS = 250;

/** @internal */
export function createRef<S, R extends Reducers<S>>(rt: Runtime, def: ActorDefinition<S, R>, id: string): ActorRef<S, R> {
  const keys = rt.layout.actor(def.name, id);
  const sender = new Sender(rt, def.name, id, keys);
  let last: { version: number; state: S } | undefined;

  const message = (action: string, payload: unknown, wantsReply: boolean, idempotencyKey?: string): Outgoing => {
    rt.assertOpen();
    if (!Object.hasOwn(def.reducers, action)) throw new UnknownActionError(def.name, action);
    if (idempotencyKey !== undefined && (typeof idempotencyKey !== 'string' || idempotencyKey.length === 0 || Buffer.byteLength(idempotencyKey) > 1000)) {
      throw new DgenError('invalid_idempotency_key', `dispatch.${action}: idempotencyKey must be a non-empty string of at most 1,000 bytes.`);
    }
    return outgoing(action, payload, wantsReply, idempotencyKey);
  };

  const dispatch = verbs<Dispatchers<R>>(def, (action) => async (payload?: unknown, options?: DispatchOptions) => {
    if (isTimed(options)) return delayed(action, payload, options as DispatchOptions & Timing);
    return sender.send(message(action, payload, false, options?.idempotencyKey));
  });

  /** A dispatch with `{ delay }` or `{ at }` (see time/dispatch.ts); `close()` waits for it like any enqueue. */
  const delayed = (action: string, payload: unknown, options: DispatchOptions & Timing): Promise<void> => {
    message(action, undefined, false, options.idempotencyKey); // the same checks as an immediate dispatch
    const stored = dispatchLater(rt, def.name, id, action, payload, options, options.idempotencyKey);
    const done = stored.then(() => undefined, () => undefined);
    rt.sending.add(done);
    void done.then(() => rt.sending.delete(done));
    return stored;
  };

  const call = verbs<Callers<R>>(def, (action) => async (payload?: unknown, options?: CallOptions) => {
    refuseDelayedCall(action, options);
    const out = message(action, payload, true);
    const reply = await awaitReply(rt, def.name, keys, out.envelope, options, () => sender.send(out));
    if (reply.ok) return reply.value;
    throw new ActorError({ ...reply.error, action });
  });

  const query = async <T>(selector?: (state: S) => T): Promise<S | T> => {
    rt.assertOpen();
    const state = await rt.backend.transact(async (tx) => {
      const v = decodeVersion(await tx.get(keys.version));
      const local = rt.localState(def.name, id) as { version: number; state: S } | undefined;
      if (local?.version === v.n) return local.state;
      if (last?.version === v.n) return last.state;
      if (v.n === 0) return def.initialState();
      const loaded = (await new StateStore(keys.state).load(tx)).state as S;
      last = { version: v.n, state: loaded };
      return loaded;
    });
    return selector === undefined ? state : selector(state);
  };

  return {
    name: def.name,
    id,
    dispatch,
    call,
    query: query as ActorRef<S, R>['query'],
    state$: observeState<S>(rt, def, id, keys),
  };
}

/** An object with one function per reducer; unknown names (untyped callers) fail with `unknown_action`. */
function verbs<V extends object>(def: { readonly name: string; readonly reducers: object }, make: (action: string) => unknown): V {
  const fns = Object.fromEntries(Object.keys(def.reducers).map((a) => [a, make(a)]));
  return new Proxy(fns, {
    get(target, prop) {
      if (typeof prop !== 'string' || Object.hasOwn(target, prop)) return Reflect.get(target, prop);
      if (prop === 'then' || prop === 'toJSON') return undefined;
      throw new UnknownActionError(def.name, prop);
    },
  }) as V;
}

/**
 * Enqueues a call and waits for its reply: from this process's consumer directly, or through
 * the reply key written by a consumer elsewhere (watched; read and cleared when it appears).
 */
async function awaitReply(rt: Runtime, name: string, keys: ActorKeys, envelope: Envelope, options: CallOptions | undefined, enqueue: () => Promise<void>): Promise<StoredReply> {
  const timeout = options?.timeout ?? DEFAULT_CALL_TIMEOUT_MS;
  const cleanup: Array<() => void> = [];
  try {
    const settled = new Promise<StoredReply>((resolve, reject) => {
      rt.waiters.set(envelope.id, { settle: resolve });
      const timer = setTimeout(() => reject(new CallTimeoutError(name, envelope.action, timeout)), timeout);
      cleanup.push(() => clearTimeout(timer));
      const signal = options?.signal;
      if (signal !== undefined) {
        const onAbort = () => reject(new CallAbortedError(name, envelope.action));
        if (signal.aborted) onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
        cleanup.push(() => signal.removeEventListener('abort', onAbort));
      }
    });
    await enqueue();
    const remote = watchReply(rt, keys, envelope.id, rt.serves(name) ? LOCAL_REPLY_GRACE_MS : 0);
    cleanup.push(remote.stop);
    return await Promise.race([settled, remote.reply]);
  } finally {
    rt.waiters.delete(envelope.id);
    for (const c of cleanup) c();
  }
}

function watchReply(rt: Runtime, keys: ActorKeys, id: string, delayMs: number): { reply: Promise<StoredReply>; stop: () => void } {
  let stopped = false;
  let cancel: (() => void) | undefined;
  const reply = (async (): Promise<StoredReply> => {
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    while (!stopped) {
      // Clearing the reply is housekeeping: when only that commit is ambiguous, the reply read is still the answer.
      let read: StoredReply | undefined;
      const found = await rt.backend
        .transact(async (tx) => (read = await consumeReply(tx, keys, id)) ?? tx.watch(keys.replies.pack([id])))
        .catch((e: unknown) => {
          if (read !== undefined && isDgenError(e, 'commit_unknown_result')) return read;
          throw e;
        });
      if (!('promise' in found)) return found;
      cancel = () => found.cancel();
      await found.promise;
    }
    return new Promise<never>(() => {});
  })();
  reply.catch(() => {});
  return { reply, stop: () => ((stopped = true), cancel?.()) };
}
