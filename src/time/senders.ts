/**
 * The senders a reducer gets from `ctx.schedule(when)` and `ctx.send(Def, id, when)`: each call
 * records a timer to set in the batch's transaction. Timing, key, id, action and payload are all
 * checked when called, so a bad one fails the reducer (and its message) before anything is written.
 * @internal
 */
import type { TimerSpec, Timing } from '../define/timing.js';
import { UnknownActionError } from '../errors.js';
import { checkId } from '../runtime/runtime.js';
import { checkTimerKey, dueOf } from './timing.js';
import { timedOutgoing, unnamed, type TimerOp } from './schedule.js';

type Target = { readonly name: string; readonly reducers: object; readonly version?: number };
type AnySenders = { readonly [action: string]: (payload?: unknown) => void };

/** `ctx.send(to, id, when)`: an unnamed timer of instance `id` of `to`. */
export function delayedSenders(to: Target, id: string, when: Timing, now: number, ops: TimerOp[]): AnySenders {
  checkId(id);
  const due = dueOf(`ctx.send(${to.name}, …, when)`, when, now);
  return sendersOf(to, (action, payload) => ops.push(unnamed(to.name, id, due, timedOutgoing(action, payload, due, undefined, to.version))));
}

/** `ctx.schedule(when)`: a timer of the instance itself, named when `when.key` is given. */
export function scheduleSenders(self: Target, id: string, when: TimerSpec, now: number, ops: TimerOp[]): AnySenders {
  const due = dueOf('ctx.schedule(when)', when, now);
  const key = (when as { key?: unknown }).key;
  if (key !== undefined) checkTimerKey('ctx.schedule(when)', key);
  return sendersOf(self, (action, payload) => {
    const out = timedOutgoing(action, payload, due, undefined, self.version);
    ops.push(key === undefined ? unnamed(self.name, id, due, out) : { op: 'set', name: self.name, id, timer: { kind: 'k', key }, due, out });
  });
}

/** `ctx.cancel(key)`: removes the named timer of the instance itself. */
export function cancelOp(self: Target, id: string, key: unknown): TimerOp {
  checkTimerKey('ctx.cancel(key)', key);
  return { op: 'cancel', name: self.name, id, timer: { kind: 'k', key } };
}

function sendersOf(to: Target, send: (action: string, payload: unknown) => void): AnySenders {
  const out: Record<string, (payload?: unknown) => void> = {};
  for (const action of Object.keys(to.reducers)) out[action] = (payload?: unknown) => send(action, payload);
  return new Proxy(out, {
    get: (target, prop) => {
      if (typeof prop === 'string' && !Object.hasOwn(target, prop)) throw new UnknownActionError(to.name, prop);
      return Reflect.get(target, prop);
    },
  });
}
