/**
 * Applies one message to a state under immer: the pure part of processing, with the context
 * helpers that keep a reducer deterministic when its batch is retried.
 * @internal
 */
import { produceWithPatches, type Draft, type Patch } from '../util/immer.js';
import { Locked, Reply, type ActorDefinition, type ReducerContext, type Senders } from '../define/actor.js';
import { DgenError, UnknownActionError, UnknownThunkError } from '../errors.js';
import type { Envelope, TraceContext } from '../store/message.js';
import { outgoing, type Outgoing } from '../store/queue.js';
import { checkId } from '../runtime/runtime.js';
import { validateValue } from '../state/codec.js';
import { cancelOp, delayedSenders, scheduleSenders } from '../time/senders.js';
import type { TimerOp } from '../time/schedule.js';

/** A locked side effect requested with `ctx.lock`. */
export interface LockRequest {
  readonly thunk: string;
  readonly args: unknown;
}

/** A message a reducer sends to another actor with `ctx.send`. */
export interface Send {
  readonly name: string;
  readonly id: string;
  readonly out: Outgoing;
}

/** The result of a reducer that did not throw. */
export interface Applied<S> {
  readonly state: S;
  readonly patches: Patch[];
  readonly replied: boolean;
  readonly reply: unknown;
  readonly afters: ReadonlyArray<(state: S) => void | Promise<void>>;
  readonly lock: LockRequest | undefined;
  readonly sends: readonly Send[];
  /** Timers set and cancelled with `ctx.schedule`, `ctx.send(…, when)` and `ctx.cancel`, in call order. */
  readonly timers: readonly TimerOp[];
}

/**
 * Runs the reducer of `message` on `state` at actor time `now` (the due time of what it schedules
 * is counted from it). Throws whatever the reducer throws; `state` is never mutated.
 */
export function applyMessage<S>(def: ActorDefinition<S>, state: S, message: Envelope, actorId: string, now = Date.now()): Applied<S> {
  const reducer = Object.hasOwn(def.reducers, message.action) ? def.reducers[message.action] : undefined;
  if (reducer === undefined) throw new UnknownActionError(def.name, message.action);
  const afters: Array<(state: S) => void | Promise<void>> = [];
  let lock: LockRequest | undefined;
  const sends: Send[] = [];
  const timers: TimerOp[] = [];
  let replied = false;
  let reply: unknown;
  const ctx: ReducerContext<S, never> = {
    actorId,
    messageId: message.id,
    reply: (value) => new Reply(value),
    after: (effect) => void afters.push(effect),
    lock: (thunk, args) => {
      if (!Object.hasOwn(def.thunks, thunk)) throw new UnknownThunkError(def.name, thunk);
      if (lock !== undefined) throw new DgenError('lock_twice', `Actor '${def.name}': ctx.lock may be called once per message (second call: '${thunk}').`);
      validateValue(args, `lock('${thunk}') args`);
      lock = { thunk, args };
      return new Locked();
    },
    send: (to, id, when) => (when === undefined ? senders(to, id, sends, now, message.trace) : delayedSenders(to, id, when, now, timers)) as never,
    schedule: (when) => scheduleSenders(def, actorId, when, now, timers),
    cancel: (key) => void timers.push(cancelOp(def, actorId, key)),
    now: () => message.at,
    random: seededRandom(message.id),
  };
  let replaced = false;
  const recipe = (draft: Draft<S>): Draft<S> | undefined => {
    const result = (reducer as (s: Draft<S>, p: unknown, c: ReducerContext<S>) => unknown)(draft, message.payload, ctx);
    if (result instanceof Locked) return undefined; // the thunk's reply will answer the call
    if (!(result instanceof Reply)) {
      replaced = result !== undefined && result !== draft;
      return result as Draft<S> | undefined;
    }
    replied = true;
    reply = result.value;
    return undefined;
  };
  let next: S;
  let patches: Patch[];
  try {
    [next, patches] = produceWithPatches(state, recipe) as [S, Patch[], Patch[]];
  } catch (e) {
    // immer refuses a recipe that both returned a new state and modified its draft.
    if (replaced) throw new DgenError('reducer_returned_and_mutated', `Reducer '${message.action}' of '${def.name}' returned a new state and also modified its draft; do one or the other (return ctx.reply(...) to answer a call).`, { cause: e });
    throw e;
  }
  for (const p of patches) if (p.op !== 'remove') validateValue(p.value, `state${formatPath(p.path)}`);
  if (replied) validateValue(reply, `reply of ${message.action}`);
  return { state: next, patches, replied, reply, afters, lock, sends, timers };
}

/** The `ctx.send(to, id)` object: validates each message now, so a bad send fails its reducer. */
function senders(to: { readonly name: string; readonly reducers: object; readonly version?: number }, id: string, sends: Send[], now: number, trace: TraceContext | undefined): Senders<Record<string, unknown>> {
  checkId(id);
  const out: Record<string, (payload?: unknown) => void> = {};
  for (const action of Object.keys(to.reducers)) {
    out[action] = (payload?: unknown) => {
      sends.push({ name: to.name, id, out: outgoing(action, payload, false, undefined, undefined, now, trace, to.version) }); // the trace goes on with the message
    };
  }
  return new Proxy(out, {
    get: (target, prop) => {
      if (typeof prop === 'string' && !Object.hasOwn(target, prop)) throw new UnknownActionError(to.name, prop);
      return Reflect.get(target, prop);
    },
  }) as Senders<Record<string, unknown>>;
}

function formatPath(path: ReadonlyArray<string | number>): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('');
}

/** mulberry32 seeded by an FNV-1a hash of the message id: same id, same sequence. */
function seededRandom(id: string): () => number {
  let seed = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) seed = Math.imul(seed ^ id.charCodeAt(i), 0x01000193);
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
