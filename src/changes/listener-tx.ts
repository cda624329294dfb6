/**
 * The second argument of a listener's handler: sends that commit in the same transaction as the
 * listener's checkpoint, so they reach dgen exactly once per change, and the change's stable key
 * for side effects outside dgen.
 */
import type { ActorDefinition, Reducers, Senders, Thunks } from '../define/actor.js';
import { UnknownActionError } from '../errors.js';
import { checkId, type Runtime } from '../runtime/runtime.js';
import { outgoing, type Outgoing } from '../store/queue.js';

/**
 * What a listener's handler writes through dgen, committed with its checkpoint.
 *
 * @example
 * ```ts
 * system.listen({ name: 'leaderboard', on: Player, handler: (change, tx) => {
 *   tx.send(Board, 'all').score({ player: change.id, points: 1 });   // exactly once per change
 *   return search.index(change.id, { idempotencyKey: tx.key });      // at least once, deduplicated by key
 * } });
 * ```
 */
export interface ListenerTx {
  /**
   * A stable idempotency key of this change for this listener (`<listener>/<cursor>`): the same
   * on every run of the handler for this change, in any process.
   */
  readonly key: string;
  /** Typed senders to instance `id` of `to`: the messages are enqueued when the listener's checkpoint commits past this change, and only then. */
  send<S, R extends Reducers<S>, T extends Thunks<S>>(to: ActorDefinition<S, R, T>, id: string): Senders<R>;
}

/** A message a handler sent, to enqueue with the checkpoint. @internal */
export interface ListenerSend {
  readonly name: string;
  readonly id: string;
  readonly out: Outgoing;
}

/** The `tx` of one run of a handler. @internal */
export function listenerTx(rt: Runtime, key: string, sends: ListenerSend[]): ListenerTx {
  return {
    key,
    send(to, id) {
      rt.register(to as unknown as ActorDefinition<unknown>);
      checkId(id);
      const out: Record<string, (payload?: unknown) => void> = {};
      for (const action of Object.keys(to.reducers)) out[action] = (payload?: unknown) => void sends.push({ name: to.name, id, out: outgoing(action, payload, false) });
      return new Proxy(out, {
        get: (target, prop) => {
          if (typeof prop === 'string' && !Object.hasOwn(target, prop)) throw new UnknownActionError(to.name, prop);
          return Reflect.get(target, prop);
        },
      }) as never;
    },
  };
}
