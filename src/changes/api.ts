/**
 * The public shape of the change feed and of durable listeners, and their checks at the boundary.
 */
import type { Observable } from 'rxjs';
import type { ActorDefinition, Reducers, Thunks } from '../define/actor.js';
import type { Runtime } from '../runtime/runtime.js';
import { checkOptions, positiveInteger, positiveMs, type OptionCheck } from '../runtime/options.js';
import { InvalidOptionsError } from '../errors.js';
import type { Change } from './change.js';
import { ChangesNotEnabledError } from './errors.js';
import { observeChanges, parseStart } from './feed.js';
import { Listener, type ListenerFailurePolicy } from './listener.js';
import type { ListenerTx } from './listener-tx.js';
import { keepPruned } from './prune.js';

/**
 * Options of `system.changes`.
 *
 * @example
 * ```ts
 * system.changes(Player, { from: savedCursor, includeState: true }).subscribe((c) => render(c.id, c.state));
 * ```
 */
export interface ChangesOptions {
  /**
   * Where to start: after a `cursor` of an earlier change (resume: nothing twice, nothing missed),
   * `'start'` (the oldest change kept) or `'now'` (changes committed from now on, the default).
   */
  readonly from?: string;
  /** Give each change the instance's state after it (`state`, `stateVersion`). Default false. */
  readonly includeState?: boolean;
}

/**
 * Options of `system.listen`: the types of `actions`, `change` and `tx.send` are inferred from `on`.
 *
 * @example
 * ```ts
 * system.listen({ name: 'leaderboard', on: Player, actions: ['score'], onFailure: 'dead-letter', handler: (change, tx) => {
 *   tx.send(Board, 'global').report({ player: change.id });
 * } });
 * ```
 */
export interface ListenOptions<S, R extends Reducers<S>, T extends Thunks<S>> {
  /** The listener's durable name: its checkpoint and lease are stored under it. */
  readonly name: string;
  /** The definition whose change feed it follows (defined with `changes`). */
  readonly on: ActorDefinition<S, R, T>;
  /** Only changes whose batch applied one of these actions reach the handler; the others are passed over. Default: every change. */
  readonly actions?: ReadonlyArray<keyof R & string>;
  /**
   * Called for each change in feed order. What it sends with `tx.send` is enqueued in the
   * transaction that moves the checkpoint past the change: exactly once. Anything else it does may
   * run more than once for the same change (crash, lost lease): deduplicate with `tx.key`.
   */
  readonly handler: (change: Change<S, keyof R & string>, tx: ListenerTx) => void | Promise<void>;
  /** Most changes one round handles and commits together. Default 64. */
  readonly batchSize?: number;
  /** Where a listener with no checkpoint yet starts: `'start'` (oldest change kept, the default) or `'now'`. */
  readonly from?: 'start' | 'now';
  /** A change whose handler fails `attempts` times: `'halt'` the listener there (default), or `'dead-letter'` it and go on. */
  readonly onFailure?: ListenerFailurePolicy;
  /** Runs of a failing handler before `onFailure` applies. Default 5. */
  readonly attempts?: number;
  /** Pause before running a failed handler again, doubled each time. Default 100 ms. */
  readonly retryMs?: number;
  /** How long a process holds the listener without renewing. Default 5,000 ms. */
  readonly leaseMs?: number;
}

/**
 * A running listener of this process.
 *
 * @example
 * ```ts
 * const listening = system.listen({ name: 'audit', on: Account, handler: (c) => audit.write(c) });
 * await listening.stop(); // a standby process takes over
 * ```
 */
export interface Listening {
  /** Stops handling changes in this process (a round in flight finishes) and releases the lease to a standby. */
  stop(): Promise<void>;
}

const CHANGES_OPTIONS: Readonly<Record<keyof ChangesOptions, OptionCheck>> = {
  from: (v) => (typeof v === 'string' ? undefined : "must be a cursor, 'start' or 'now'"),
  includeState: (v) => (typeof v === 'boolean' ? undefined : 'must be true or false'),
};

const LISTEN_OPTIONS: Readonly<Record<keyof ListenOptions<unknown, Reducers<unknown>, Thunks<unknown>>, OptionCheck>> = {
  name: (v) => (typeof v === 'string' && v.length > 0 && Buffer.byteLength(v) <= 1000 ? undefined : 'must be a non-empty string of at most 1,000 bytes'),
  on: (v) => (typeof v === 'object' && v !== null && typeof (v as { name?: unknown }).name === 'string' ? undefined : 'must be a definition made by defineActor'),
  actions: (v) => (Array.isArray(v) && v.every((a) => typeof a === 'string') ? undefined : 'must be an array of action names'),
  handler: (v) => (typeof v === 'function' ? undefined : 'must be a function (change, tx) => …'),
  batchSize: positiveInteger,
  from: (v) => (v === 'start' || v === 'now' ? undefined : "must be 'start' or 'now'"),
  onFailure: (v) => (v === 'halt' || v === 'dead-letter' ? undefined : "must be 'halt' or 'dead-letter'"),
  attempts: positiveInteger,
  retryMs: positiveMs,
  leaseMs: positiveMs,
};

function enabled(def: ActorDefinition<unknown>): NonNullable<ActorDefinition<unknown>['changes']> {
  if (def.changes === undefined) throw new ChangesNotEnabledError(def.name);
  return def.changes;
}

/** `system.changes`. @internal */
export function changes<S>(rt: Runtime, def: ActorDefinition<S>, options?: ChangesOptions): Observable<Change<S>> {
  const api = `changes(${def.name}, options)`;
  checkOptions(api, options, CHANGES_OPTIONS);
  rt.register(def);
  enabled(def as ActorDefinition<unknown>);
  return observeChanges(rt, def, parseStart(api, options?.from), options?.includeState === true);
}

/** `system.listen`. @internal */
export function listen(rt: Runtime, options: ListenOptions<unknown, Reducers<unknown>, Thunks<unknown>>): Listening {
  checkOptions('listen(options)', options, LISTEN_OPTIONS);
  for (const field of ['name', 'on', 'handler'] as const) if (options?.[field] === undefined) throw new InvalidOptionsError('listen(options)', field, 'is required');
  const def = options.on as ActorDefinition<unknown>;
  rt.register(def);
  const settings = enabled(def);
  const unknown = options.actions?.find((a) => !Object.hasOwn(def.reducers, a));
  if (unknown !== undefined) throw new InvalidOptionsError('listen(options)', 'actions', `names '${unknown}', which is not an action of '${def.name}'`);
  keepPruned(rt, def.name, settings);
  const listener = new Listener(rt, {
    name: options.name,
    def,
    actions: options.actions === undefined ? undefined : new Set(options.actions),
    handler: options.handler as never,
    batchSize: options.batchSize ?? 64,
    from: options.from ?? 'start',
    onFailure: options.onFailure ?? 'halt',
    attempts: options.attempts ?? 5,
    retryMs: options.retryMs ?? 100,
    leaseMs: options.leaseMs ?? 5_000,
  });
  const running = listeners.get(rt) ?? new Set<Listener>();
  listeners.set(rt, running.add(listener));
  return {
    stop: async () => {
      await listener.stop();
      running.delete(listener);
    },
  };
}

const listeners = new WeakMap<Runtime, Set<Listener>>();

/** @internal Stops this system's listeners (their rounds in flight finish) and releases their leases: run by `close()`. */
export async function stopListeners(rt: Runtime): Promise<void> {
  await Promise.allSettled([...(listeners.get(rt) ?? [])].map((l) => l.stop()));
}

