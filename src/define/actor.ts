import type { Draft } from '../util/immer.js';
import { InvalidDefinitionError, type ActorError } from '../errors.js';
import type { TimerSpec, Timing } from './timing.js';
import { resolveChanges, type ChangeFeedSettings, type ChangesConfig } from './changes.js';
import { checkEvolution, type Evolution, type Migrations, type Upcasts } from './evolution.js';

/**
 * What a reducer returns to answer a `call`: build it with `ctx.reply(value)`.
 * @typeParam R - the reply type, inferred into `ref.call.<name>`'s promise.
 *
 * @example
 * ```ts
 * take(state, n: number, ctx) { state.count -= n; return ctx.reply(state.count); } // call.take(1): Promise<number>
 * transfer(state, t: Transfer, ctx): Reply<number> { ctx.send(Account, t.to).deposit(t.amount); return ctx.reply(state.balance); }
 * ```
 */
export class Reply<R> {
  /** @internal */
  constructor(readonly value: R) {}
}

/**
 * What `ctx.lock` returns: return it from the reducer to answer the `call` with the thunk's reply.
 * @typeParam R - the thunk's reply type, inferred into `ref.call.<name>`'s promise.
 *
 * @example
 * ```ts
 * pay(state, amount: number, ctx) { state.pending = amount; return ctx.lock('charge', { amount }); } // call.pay(30): Promise<string>
 * ```
 */
export class Locked<R> {
  /** Never set: carries the reply type for inference only. */
  declare readonly reply$?: R;
}

/** A state update produced outside a transaction (by a thunk), applied under immer when its lock is released. */
export type Recipe<S> = (draft: Draft<S>) => void;

/** What a reducer may return: nothing (it mutated the draft), a reply, the thunk's coming reply, or a whole new state. */
export type ReducerResult<S> = void | Reply<unknown> | Locked<unknown> | S;

/**
 * Helpers a reducer receives as its third argument. Everything here is deterministic for a
 * given message, so a reducer stays a pure function of (state, payload) even when its batch is
 * retried.
 */
export interface ReducerContext<S, T extends Thunks<S> = never> {
  /** The id of the actor instance. */
  readonly actorId: string;
  /** The unique id of the message being processed (also its idempotency key). */
  readonly messageId: string;
  /** Answer the caller of `call`; return the result from the reducer. */
  reply<R>(value: R): Reply<R>;
  /**
   * Run `effect(committedState)` after the batch holding this message has committed, once per
   * successful commit, never for an attempt that rolled back.
   */
  after(effect: (state: S) => void | Promise<void>): void;
  /**
   * Commit the state so far together with a durable lock, pause the queue and run the named
   * thunk outside any transaction; its recipe is applied when the lock is released. Name and args
   * are checked against the definition's `thunks` (declare `thunks` before `reducers` so that
   * TypeScript knows them). Return the result to answer the `call` with the thunk's reply.
   * @example `return ctx.lock('charge', { amount })`
   */
  lock: [T] extends [never] ? AnyLock : string extends keyof T ? LockBeforeThunks : <K extends keyof T & string>(thunk: K, ...args: LockArgs<T[K]>) => Locked<ThunkReplyOf<T[K]>>;
  /**
   * Enqueue a message into another actor (or this one) in the same transaction as this state
   * change: it is sent if and only if the batch commits.
   * @example `ctx.send(Account, to).deposit(amount)`
   */
  send<S2, R2 extends Reducers<S2>, T2 extends Thunks<S2>>(to: ActorDefinition<S2, R2, T2>, id: string, when?: Timing): Senders<R2>;
  /**
   * Set a timer of this instance in the same transaction as this state change: the message sent
   * through the returned senders is enqueued into this actor when it is due, exactly once. A
   * `key` names the timer: scheduling the key again replaces it, {@link ReducerContext.cancel}
   * removes it. The senders are this actor's own; an unknown action fails the reducer.
   * @example `ctx.schedule({ delay: 15 * 60_000, key: 'expiry' }).expire()`
   */
  schedule(when: TimerSpec): SelfSenders;
  /** Remove this instance's pending timer named `key` (in this batch's transaction); nothing if none is pending. */
  cancel(key: string): void;
  /**
   * The time the message was enqueued (ms since epoch), or for a timer's message its due time:
   * use instead of `Date.now()`.
   */
  now(): number;
  /** A pseudo-random number in [0, 1) seeded by the message id: use instead of `Math.random()`. */
  random(): number;
}

/**
 * `ctx.lock` of a reducer that TypeScript typed before it knew the thunks: the definition has no
 * `thunks`, or declares them after `reducers` (object literals are inferred in order). Its
 * parameter type is the fix, so the compile error says it.
 *
 * @example
 * ```ts
 * defineActor({ name: 'a', initialState: 0, reducers: { go(_s, _: void, ctx) { ctx.lock('mail'); } }, thunks: { async mail() {} } });
 * // error: '"mail"' is not assignable to '"declare thunks before reducers in defineActor to lock"'
 * ```
 */
export type LockBeforeThunks = (thunk: 'declare thunks before reducers in defineActor to lock', args?: unknown) => Locked<unknown>;

/**
 * `ctx.lock` where the thunks are not known (a helper typed with `ReducerContext<S>`): any name,
 * any args, checked at run time (`unknown_thunk`).
 *
 * @example
 * ```ts
 * function lockMail(ctx: ReducerContext<State>, to: string) { ctx.lock('mail', { to }); }
 * ```
 */
export type AnyLock = (thunk: string, args?: unknown) => Locked<never>;

/**
 * The run function of a thunk declared either way (function, or `{ run, onFailure }`).
 *
 * @example
 * ```ts
 * type Pay = RunOf<(typeof Shop)['thunks']['pay']>; // (args: Order, ctx: ThunkContext<Shop>) => Promise<…>
 * ```
 */
export type RunOf<X> = X extends { readonly run: infer F } ? F : X;

/**
 * The args a thunk takes: its run function's first parameter (`never` when it takes none).
 *
 * @example
 * ```ts
 * const order: ThunkArgsOf<(typeof Shop)['thunks']['pay']> = { order: 'o-1', card: '4242', amount: 30 };
 * ```
 */
export type ThunkArgsOf<X> = RunOf<X> extends (...args: infer P) => unknown
  ? P extends []
    ? never
    : P extends [infer A, ...unknown[]]
      ? A
      : P extends [(infer A)?, ...unknown[]]
        ? A | undefined
        : never
  : never;

/**
 * The args tuple of `ctx.lock(name, …args)`: required, optional or absent as the thunk declares them.
 *
 * @example
 * ```ts
 * type A = LockArgs<(args: { to: string }) => Promise<void>>; // [args: { to: string }]
 * type B = LockArgs<() => Promise<void>>;                      // [args?: undefined]
 * ```
 */
export type LockArgs<X> = [ThunkArgsOf<X>] extends [never] ? [args?: undefined] : undefined extends ThunkArgsOf<X> ? [args?: ThunkArgsOf<X>] : [args: ThunkArgsOf<X>];

/**
 * The reply a thunk answers its locking call with: the `reply` of the `{ recipe, reply }` it
 * returns, `void` when it returns none.
 *
 * @example
 * ```ts
 * type R = ThunkReplyOf<(typeof Shop)['thunks']['pay']>; // string: what call.checkout resolves with
 * ```
 */
export type ThunkReplyOf<X> = RunOf<X> extends (...args: never[]) => infer R
  ? [Extract<Awaited<R>, { readonly reply: unknown }>] extends [never]
    ? void
    : Extract<Awaited<R>, { readonly reply: unknown }>['reply']
  : never;

/** @internal */
export type ReducerArgs<F> = F extends (state: never, ...args: infer A) => unknown ? A : never;

/**
 * The payload parameter of an action: required, optional, or absent, as the reducer declares it.
 * A payload parameter without a type annotation (`reset(state, _, ctx)`) is typed `never` by
 * {@link Reducer}, and means the action takes no payload, like `_: void`.
 */
export type PayloadArgs<F> =
  ReducerArgs<F> extends []
    ? [payload?: undefined]
    : ReducerArgs<F> extends [infer P, ...unknown[]]
      ? [P] extends [never]
        ? [payload?: undefined]
        : undefined extends P
        ? [payload?: P]
        : [payload: P]
      : ReducerArgs<F> extends [(infer P)?, ...unknown[]]
        ? [payload?: P]
        : [payload?: unknown];

/**
 * The reply type of an action: what its reducer passes to `ctx.reply`, or the reply of the thunk
 * whose `ctx.lock(…)` it returns; `void` when it never replies.
 */
export type ReplyOf<F> = F extends (...args: never[]) => infer R
  ? [Extract<R, Reply<unknown> | Locked<unknown>>] extends [never]
    ? void
    : Extract<R, Reply<unknown> | Locked<unknown>> extends Reply<infer V> | Locked<infer V>
      ? V
      : never
  : never;

/**
 * What `ctx.schedule` returns: a function per action of the actor itself. A reducer's context does
 * not know its own definition's reducers, so payloads are checked when the message is built (an
 * unknown action or an unstorable payload fails the reducer); `ctx.send(Self, ctx.actorId, when)`
 * is the fully typed equivalent for an unnamed timer.
 * @example
 * ```ts
 * reserve(state, item: string, ctx) { state.held = item; ctx.schedule({ delay: 15 * 60_000, key: 'expiry' }).expire(item); }
 * ```
 */
export type SelfSenders = { readonly [action: string]: (payload?: unknown) => void };

/** `ctx.send(Definition, id).<action>(payload)`: one function per reducer of the target. */
export type Senders<R> = { readonly [K in keyof R & string]: (...args: PayloadArgs<R[K]>) => void };

/**
 * A reducer: mutates the immer draft of the state for one message. The payload type is whatever
 * the second parameter is annotated with; omit it for actions without payload.
 */
export type Reducer<S, T extends Thunks<S> = never> = (state: Draft<S>, payload: never, ctx: ReducerContext<S, T>) => ReducerResult<S>;

/** The reducers of a definition, by action name. */
export type Reducers<S, T extends Thunks<S> = never> = { [action: string]: Reducer<S, T> };

/** What a thunk receives besides its args. */
export interface ThunkContext<S> {
  /** The committed state when the thunk starts. */
  readonly state: S;
  /** Same on every re-run of this thunk for this message: pass it to the external system. */
  readonly key: string;
  /** The actor instance id. */
  readonly actorId: string;
  /** Fires when this consumer loses the lock's lease; stop and let the next owner re-run. */
  readonly signal: AbortSignal;
  /** 1 on the first run, then 2, 3, … on re-runs after a crash or a failure. */
  readonly attempt: number;
  /**
   * The fencing token of this run's lease: strictly greater for each new lease holder of the
   * instance. Pass it to an external system that can refuse writes carrying a lower token than
   * one it has seen, so a consumer that lost its lease (a pause, a partition) cannot overwrite
   * the work of the next one.
   */
  readonly fencingToken: number;
}

/**
 * What a thunk returns: nothing, a recipe applied to the state when the lock is released, or
 * `{ recipe, reply }` to also answer the locking `call` with `reply` (delivered in the same transaction).
 *
 * @example
 * ```ts
 * async charge({ amount }: { amount: number }, { key }) {
 *   const receipt = await payments.charge(amount, { idempotencyKey: key });
 *   return { recipe: (d) => { d.paid += amount; }, reply: receipt.id };
 * }
 * ```
 */
export type ThunkOutcome<S> = Recipe<S> | void | { readonly recipe?: Recipe<S>; readonly reply?: unknown };

/** A side effect run outside any transaction while the actor is locked (see `ctx.lock`). */
export type Thunk<S> = (args: never, ctx: ThunkContext<S>) => Promise<ThunkOutcome<S>> | ThunkOutcome<S>;

/**
 * Compensation of a thunk that gave up (its last attempt failed): a reducer-like function of the
 * draft state, the thunk's error (as its caller receives it) and the thunk's args. It runs in the
 * transaction that moves the locking message to the dead letters, so the changes its reducer made
 * before locking never stay half-done. Annotate `args` with the type `run` takes: TypeScript does
 * not carry it from one method to the other (unannotated, it is `any`).
 *
 * @example
 * ```ts
 * onFailure(draft, error, { order }: { order: string }) { draft.stock += 1; draft.orders[order] = `cancelled: ${error.code}`; }
 * ```
 */
export type Compensation<S> = (draft: Draft<S>, error: ActorError, args: unknown) => void;

/**
 * A thunk with options: its `run` function, and an `onFailure` compensation.
 *
 * @example
 * ```ts
 * charge: {
 *   async run({ amount }: { amount: number }, { key, fencingToken }) {
 *     const receipt = await payments.charge(amount, { idempotencyKey: key, fencingToken });
 *     return { recipe: (d) => { d.paid += amount; }, reply: receipt.id };
 *   },
 *   onFailure(draft, _error, { amount }: { amount: number }) { draft.held -= amount; },
 * }
 * ```
 */
export interface ThunkSpec<S> {
  readonly run: Thunk<S>;
  /** See {@link Compensation}; annotate `args` with the type `run` takes. */
  onFailure?(draft: Draft<S>, error: ActorError, args: unknown): void;
}

/** The thunks of a definition, by name: a function, or `{ run, onFailure }`. */
export type Thunks<S> = { [name: string]: Thunk<S> | ThunkSpec<S> };

/** What happens to a message whose reducer throws. */
export type FailurePolicy = 'dead-letter' | 'halt';

/** Tuning of one definition. Every field has a default. */
export interface ActorOptions {
  /** `dead-letter` (default): the message moves to the dead-letter list. `halt`: it stays at the head and the actor pauses. */
  readonly failurePolicy?: FailurePolicy;
  /** Most messages one batch (one transaction) takes. Default 256. */
  readonly maxBatchMessages?: number;
  /** Most message bytes one batch takes. Default 1,000,000 (FoundationDB allows 10 MB). */
  readonly maxBatchBytes?: number;
  /** Most milliseconds one batch spends in reducers before it commits. Default 500 (FoundationDB allows 5 s). */
  readonly maxBatchMs?: number;
  /** How long a consumer's lease on an instance lasts without renewal. Default 2,000 ms. */
  readonly leaseMs?: number;
  /** How long an instance stays in memory with nothing to do. Default 30,000 ms. */
  readonly idleMs?: number;
  /** Runs of a failing thunk before its message goes to the dead letters. Default 3. */
  readonly thunkAttempts?: number;
  /** Pause before re-running a failed thunk, doubled on each failure. Default 200 ms. */
  readonly thunkRetryMs?: number;
}

/**
 * The options of {@link defineActor}. Declare `thunks` before `reducers`: TypeScript infers an
 * object literal in order, and the reducers' `ctx.lock` is typed from the thunks.
 */
export interface ActorConfig<S, R, T extends Thunks<S>> {
  /** Unique name of the actor type; part of every key, so renaming it orphans stored instances. */
  readonly name: string;
  /** The state of an instance that has never processed a message. */
  readonly initialState: S | (() => S);
  readonly thunks?: T;
  readonly reducers: R & Reducers<Later<S>, T>;
  readonly options?: ActorOptions;
  /** Write a change feed of every committed batch (`system.changes`, `system.listen`); see docs/changes.md. */
  readonly changes?: ChangesConfig;
  /**
   * The version of this definition (a positive integer, 1 when absent). Raise it with every
   * change of the state's shape or of a payload's, and add the migration (or upcaster) for it.
   * Every stored instance records the version that last wrote it (see docs/evolution.md).
   */
  readonly version?: number;
  /** Migrations by the version they lead to: `{ 2: (draft) => …, 3: … }`, one for each version from the first to `version`. */
  readonly migrations?: Migrations<Later<S>>;
  /** Adapters of payloads sent by older producers: `{ action: { fromVersion: (payload) => payload } }`. */
  readonly upcast?: { readonly [K in keyof Later<R> & string]?: Upcasts };
  /**
   * Actions renamed since an older version: `{ oldAction: 'newAction' }`; messages of old producers
   * are mapped. Each new name must be a reducer (checked by `defineActor`: typing the values as the
   * action names would make TypeScript infer the reducers from this map).
   */
  readonly renamed?: { readonly [old: string]: string };
}

/** A defined actor type: plain data plus functions, run by a system (see `createSystem`). */
export interface ActorDefinition<S, R extends Reducers<S> = Reducers<S>, T extends Thunks<S> = Thunks<S>> {
  readonly name: string;
  readonly initialState: () => S;
  readonly reducers: R;
  readonly thunks: T;
  readonly options: Readonly<Required<ActorOptions>>;
  /** The change feed's settings; undefined when the definition writes none. */
  readonly changes?: ChangeFeedSettings | undefined;
  /** The definition's version (1 unless given). */
  readonly version: number;
  /** Migrations, upcasters and renamed actions (see docs/evolution.md). */
  readonly evolution: Evolution;
}

/**
 * The state type of a definition.
 *
 * @example
 * ```ts
 * function render(s: StateOf<typeof Counter>) { return `count: ${s.count}`; }
 * ```
 */
export type StateOf<D> = D extends ActorDefinition<infer S, infer _R, infer _T> ? S : never;

/**
 * The action names of a definition, as a union of string literals.
 *
 * @example
 * ```ts
 * const allowed: ActionsOf<typeof Counter>[] = ['increment', 'reset']; // 'incremnt' is a compile error
 * ```
 */
export type ActionsOf<D> = D extends ActorDefinition<infer _S, infer R, infer _T> ? keyof R & string : never;

/**
 * `S`, in a position TypeScript does not infer it from (the state type comes from `initialState`,
 * never from what a reducer returns). Like `NoInfer<S>`, without needing TypeScript 5.4.
 * @internal
 */
export type Later<S> = [S][S extends unknown ? 0 : never];

/**
 * The reducers as inferred. `defineActor` leaves them unconstrained while it infers them, so that
 * their `ctx` is typed from the thunks alone, and checks them here.
 * @internal
 */
export type Checked<S, R> = R extends Reducers<S> ? R : never;

const DEFAULTS: Required<ActorOptions> = {
  failurePolicy: 'dead-letter',
  maxBatchMessages: 256,
  maxBatchBytes: 1_000_000,
  maxBatchMs: 500,
  leaseMs: 2_000,
  idleMs: 30_000,
  thunkAttempts: 3,
  thunkRetryMs: 200,
};

const NAME = /^[A-Za-z0-9_.:-]{1,200}$/;

/**
 * Defines a durable actor type like a Redux slice: a name, an initial state and reducers that
 * mutate an immer draft. Payload and reply types are inferred from the reducers.
 *
 * @example
 * ```ts
 * export const Counter = defineActor({
 *   name: 'counter',
 *   initialState: () => ({ count: 0 }),
 *   reducers: {
 *     increment(state, by: number = 1) { state.count += by; },
 *     take(state, n: number, ctx) { state.count -= n; return ctx.reply(state.count); },
 *   },
 * });
 * ```
 */
export function defineActor<S, T extends Thunks<S>, R>(
  config: ActorConfig<S, R, T>,
): ActorDefinition<S, Checked<S, R>, T> {
  const { name, initialState, reducers, thunks, options, version, migrations, upcast, renamed } = config ?? ({} as ActorConfig<S, R, T>);
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new InvalidDefinitionError(`defineActor: name must be 1-200 characters of letters, digits, '_', '.', ':' or '-', got ${JSON.stringify(name)}.`);
  }
  checkFunctions(name, 'reducers', reducers, true);
  checkFunctions(name, 'thunks', thunks ?? {}, false);
  checkThunks(name, thunks ?? {});
  const merged = { ...DEFAULTS, ...(options ?? {}) };
  checkOptions(name, merged);
  const evolution = checkEvolution(name, { version, migrations, upcast, renamed }, reducers);
  const makeInitial = typeof initialState === 'function' ? (initialState as () => S) : () => structuredClone(initialState);
  const changes = resolveChanges(name, config?.changes);
  return Object.freeze({ name, initialState: makeInitial, reducers: reducers as Checked<S, R>, thunks: (thunks ?? {}) as T, options: Object.freeze(merged), version: evolution.version, evolution, ...(changes === undefined ? {} : { changes }) });
}

function checkFunctions(actor: string, field: string, fns: unknown, required: boolean): void {
  if (fns === null || typeof fns !== 'object' || (required && Object.keys(fns).length === 0)) {
    throw new InvalidDefinitionError(`defineActor('${actor}'): ${field} must be an object of functions${required ? ' with at least one entry' : ''}.`);
  }
  for (const [key, fn] of Object.entries(fns)) {
    if (field === 'thunks' && fn !== null && typeof fn === 'object') continue; // { run, onFailure }: see checkThunks
    if (typeof fn !== 'function') throw new InvalidDefinitionError(`defineActor('${actor}'): ${field}.${key} is not a function.`);
  }
}

/** A thunk given as `{ run, onFailure }` has a `run` function, an optional `onFailure` function, and nothing else. */
function checkThunks(actor: string, thunks: object): void {
  for (const [key, spec] of Object.entries(thunks)) {
    if (typeof spec === 'function') continue;
    const s = spec as Record<string, unknown>;
    if (typeof s.run !== 'function') throw new InvalidDefinitionError(`defineActor('${actor}'): thunks.${key} must be a function or { run, onFailure? } with run a function.`);
    if (s.onFailure !== undefined && typeof s.onFailure !== 'function') throw new InvalidDefinitionError(`defineActor('${actor}'): thunks.${key}.onFailure must be a function (draft, error, args) => void.`);
    const extra = Object.keys(s).find((k) => k !== 'run' && k !== 'onFailure');
    if (extra !== undefined) throw new InvalidDefinitionError(`defineActor('${actor}'): thunks.${key} has an unknown field '${extra}' (expected run and onFailure).`);
  }
}

function checkOptions(actor: string, o: Required<ActorOptions>): void {
  if (o.failurePolicy !== 'dead-letter' && o.failurePolicy !== 'halt') {
    throw new InvalidDefinitionError(`defineActor('${actor}'): options.failurePolicy must be 'dead-letter' or 'halt'.`);
  }
  for (const key of ['maxBatchMessages', 'maxBatchBytes', 'maxBatchMs', 'leaseMs', 'idleMs', 'thunkAttempts', 'thunkRetryMs'] as const) {
    if (!Number.isFinite(o[key]) || o[key] <= 0) {
      throw new InvalidDefinitionError(`defineActor('${actor}'): options.${key} must be a positive number.`);
    }
  }
}
