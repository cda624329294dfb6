/**
 * The producer handle of one actor instance: `dispatch`, `call`, `query` and `state$`, typed from
 * the definition's reducers. Any process can hold one; it needs no consumer in its own process.
 */
import { shareReplay, type Observable } from 'rxjs';
import type { ActorDefinition, PayloadArgs, Reducers, ReplyOf } from '../define/actor.js';
import { CallAbortedError, DgenError, UnknownActionError } from '../errors.js';
import type { ActorKeys } from '../store/keys.js';
import { observeState } from './observe.js';
import { anything, checkOptions, positiveMs, type OptionCheck } from '../runtime/options.js';
import { outgoing, type Outgoing } from '../store/queue.js';
import { awaitKeptReply } from './kept-reply.js';
import { PendingCall } from './pending-call.js';
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
  /**
   * Milliseconds to wait for the reply before rejecting with `call_timeout`: a positive number up
   * to 2,147,483,647, or `Infinity` to wait until the reply, an abort or `close()`. Default 30,000.
   */
  readonly timeout?: number;
  /** Aborting rejects the call with `call_aborted` (the message stays queued). */
  readonly signal?: AbortSignal;
  /**
   * Enqueue at most once per key for this actor instance within 24 hours, as with `dispatch`. A
   * call retried with the same key (after a `call_timeout`, a crash, an ambiguous commit) sends
   * nothing and gets the reply of the first message: at once when it was processed (its reply is
   * kept as long as the key), else when it is. A key first used by a dispatch fails the call with
   * `idempotency_key_used`.
   */
  readonly idempotencyKey?: string;
}

/** `ref.dispatch.<action>(payload)`: resolves once the message is durably enqueued. */
export type Dispatchers<R> = { readonly [K in keyof R & string]: (...args: [...PayloadArgs<R[K]>, options?: DispatchOptions]) => Promise<void> };

/** `ref.call.<action>(payload)`: resolves with the reducer's reply once the message is processed. */
export type Callers<R> = { readonly [K in keyof R & string]: (...args: [...PayloadArgs<R[K]>, options?: CallOptions]) => Promise<ReplyOf<R[K]>> };

/**
 * `ref.reply.<action>(messageId)`: the reply of a call whose message is already stored, from any
 * process: the `messageId` of a `call_timeout` or `call_aborted` error. Resolves once it is
 * processed (at once if it already was and its reply is still stored: replies are kept one hour);
 * rejects with the reducer's error, or `call_timeout` again.
 *
 * @example
 * ```ts
 * const left = await counter.call.take(1).catch((e) => (e instanceof CallTimeoutError ? counter.reply.take(e.messageId) : Promise.reject(e)));
 * ```
 */
export type Repliers<R> = { readonly [K in keyof R & string]: (messageId: string, options?: CallOptions) => Promise<ReplyOf<R[K]>> };

/**
 * A handle on one actor instance (definition name, id).
 *
 * @example
 * ```ts
 * const counter = system.ref(Counter, 'tenant-42');
 * await counter.dispatch.increment(2);            // durably enqueued
 * const left = await counter.call.take(1);        // processed, with the reducer's reply
 * try { await counter.call.take(1, { timeout: 100 }); }
 * catch (e) { if (e instanceof CallTimeoutError) await counter.reply.take(e.messageId); } // stored: await, never resend
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
  /**
   * The reply of a call already stored (the `messageId` of its `call_timeout` or `call_aborted`
   * error), awaited later or from another process. A reply is delivered once: to the first caller
   * that reads it.
   */
  readonly reply: Repliers<R>;
  /** A strictly serializable read of the committed state (no message is queued). */
  query(): Promise<S>;
  query<T>(selector: (state: S) => T): Promise<T>;
  /** Committed states: the latest on subscribe, then every commit in order, in any process. */
  readonly state$: Observable<S>;
}

/**
 * The ref type of a definition: what `system.ref(Def, id)` returns, for fields and parameters.
 *
 * @example
 * ```ts
 * class Billing { constructor(private readonly counter: RefOf<typeof Counter>) {} }
 * new Billing(system.ref(Counter, 'tenant-42'));
 * ```
 */
export type RefOf<D> = D extends ActorDefinition<infer S, infer R, infer _T> ? ActorRef<S, R> : never;

const DEFAULT_CALL_TIMEOUT_MS = 30_000;

const DISPATCH_OPTIONS: Readonly<Record<keyof DispatchOptions, OptionCheck>> = {
  idempotencyKey: anything, // checked with its own code
  delay: anything, // checked by time/timing.ts with the timing's own message
  at: anything,
};
const CALL_OPTIONS: Readonly<Record<keyof CallOptions, OptionCheck>> = {
  idempotencyKey: anything, // checked with its own code
  timeout: (v) => (v === Infinity ? undefined : positiveMs(v) && `${positiveMs(v)}, or Infinity`),
  signal: (v) => (v instanceof AbortSignal ? undefined : 'must be an AbortSignal'),
};

/** @internal */
export function createRef<S, R extends Reducers<S>>(rt: Runtime, def: ActorDefinition<S, R>, id: string): ActorRef<S, R> {
  const keys = rt.layout.actor(def.name, id);
  const sender = new Sender(rt, def.name, id, keys);
  let last: { version: number; state: S } | undefined;

  /** A new message to `action`; `traced`: it carries the active span's trace context (see observe/). */
  const message = (action: string, payload: unknown, wantsReply: boolean, idempotencyKey?: string, traced = true): Outgoing => {
    rt.assertOpen();
    if (!Object.hasOwn(def.reducers, action)) throw new UnknownActionError(def.name, action);
    if (idempotencyKey !== undefined && (typeof idempotencyKey !== 'string' || idempotencyKey.length === 0 || Buffer.byteLength(idempotencyKey) > 1000)) {
      throw new DgenError('invalid_idempotency_key', `${wantsReply ? 'call' : 'dispatch'}.${action}: idempotencyKey must be a non-empty string of at most 1,000 bytes.`);
    }
    return outgoing(action, payload, wantsReply, idempotencyKey, wantsReply ? rt.replies.id : undefined, rt.clock.now(), traced ? rt.observer.inject(def.name, action) : undefined, def.version);
  };

  const dispatch = verbs<Dispatchers<R>>(def, (action) => async (payload?: unknown, options?: DispatchOptions) => {
    checkOptions(`dispatch.${action}(payload, options)`, options, DISPATCH_OPTIONS);
    if (isTimed(options)) return delayed(action, payload, options as DispatchOptions & Timing);
    return sender.send(message(action, payload, false, options?.idempotencyKey));
  });

  /** A dispatch with `{ delay }` or `{ at }` (see time/dispatch.ts); `close()` waits for it like any enqueue. */
  const delayed = (action: string, payload: unknown, options: DispatchOptions & Timing): Promise<void> => {
    message(action, undefined, false, options.idempotencyKey, false); // the same checks as an immediate dispatch
    return dispatchLater(rt, def.name, id, action, payload, options, options.idempotencyKey, def.version);
  };

  // Not async: once its message is enqueued a waiting call holds no reference to it (memory per pending call).
  const call = verbs<Callers<R>>(def, (action) => (payload?: unknown, options?: CallOptions) => {
    let id: string;
    let sent: Promise<void>;
    let out: Outgoing;
    try {
      refuseDelayedCall(action, options);
      checkOptions(`call.${action}(payload, options)`, options, CALL_OPTIONS);
      out = message(action, payload, true, options?.idempotencyKey);
      id = out.envelope.id;
      if (options?.signal?.aborted === true) throw new CallAbortedError(def.name, action, id, false);
      sent = sender.send(out);
    } catch (e) {
      return Promise.reject(e);
    }
    if (out.idempotencyKey === undefined) return awaitReply(rt, def.name, keys, id, action, options, sent);
    return idempotentReply(out, sent, options, (o) => awaitReply(rt, def.name, keys, id, action, o, sent), (first) => awaitKeptReply(rt, def.name, keys, first, action, options?.timeout ?? DEFAULT_CALL_TIMEOUT_MS, options?.signal));
  });

  const reply = verbs<Repliers<R>>(def, (action) => async (messageId: unknown, options?: CallOptions) => {
    rt.assertOpen();
    checkOptions(`reply.${action}(messageId, options)`, options, CALL_OPTIONS);
    if (typeof messageId !== 'string' || !MESSAGE_ID.test(messageId)) {
      throw new DgenError('invalid_message_id', `reply.${action}(messageId): expected the 32-hex-digit messageId of a stored call (from a call_timeout or call_aborted error), got ${JSON.stringify(messageId)}.`);
    }
    return awaitReply(rt, def.name, keys, messageId, action, options);
  });

  const lane = { verb: 'query', key: `${def.name}/${id}` };
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
    }, { lane, deadline: rt.backend.deadline(), until: rt.storeDeadline(), what: `A query of '${def.name}/${id}'` });
    return selector === undefined ? state : selector(state);
  };

  return {
    name: def.name,
    id,
    dispatch,
    call,
    reply,
    query: query as ActorRef<S, R>['query'],
    // One loop, one transaction per commit and one watch for every subscriber of this instance in this process.
    state$: observeState<S>(rt, def, id, keys).pipe(shareReplay({ bufferSize: 1, refCount: true })),
  };
}

/**
 * The reply of a call sent with an idempotency key: its own, or, when the sender found the key
 * used (`duplicateOf`), the kept reply of the first message; the wait for its own reply, which
 * will never come, is then ended.
 */
function idempotentReply(out: Outgoing, sent: Promise<void>, options: CallOptions | undefined, own: (options: CallOptions) => Promise<unknown>, first: (id: string) => Promise<unknown>): Promise<unknown> {
  const ended = new AbortController();
  const signal = options?.signal === undefined ? ended.signal : AbortSignal.any([options.signal, ended.signal]);
  const mine = own({ ...options, signal });
  return sent.then(
    () => {
      if (out.duplicateOf === undefined) return mine;
      mine.catch(() => {});
      ended.abort();
      return first(out.duplicateOf);
    },
    () => mine,
  );
}

/** A 32-hex-digit message id (see store/message.ts). */
const MESSAGE_ID = /^[0-9a-f]{32}$/;

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
 * Waits for the reply to message `id` (see pending-call.ts): settled directly by a consumer of
 * this process, or read from the store by the process's reply listener in a batch with other
 * callers' replies (runtime/replies.ts). `sent` is the call's enqueue; without it (`ref.reply`)
 * the message was stored earlier, maybe by another process. The waiter is registered before the
 * enqueue can commit (a flush starts in a later microtask).
 */
function awaitReply(rt: Runtime, name: string, keys: ActorKeys, id: string, action: string, options: CallOptions | undefined, sent?: Promise<void>): Promise<unknown> {
  const timeout = options?.timeout ?? DEFAULT_CALL_TIMEOUT_MS;
  return new Promise((resolve, reject) => new PendingCall(rt, name, keys, id, action, timeout, options?.signal, sent, resolve, reject));
}
