/**
 * `reduce()`: one reducer run on one state, as a consumer runs it, for plain unit tests. Nothing
 * is stored and no system is needed.
 */
import type { ActorDefinition, PayloadArgs, Reducers, ReplyOf, Thunks } from '../define/actor.js';
import { applyMessage } from '../serve/reduce.js';
import { checkOptions, nonEmptyString, type OptionCheck } from '../runtime/options.js';
import { checkId } from '../runtime/runtime.js';
import { InvalidOptionsError } from '../errors.js';
import type { Patch } from '../util/immer.js';
import { TEST_EPOCH } from './test-system.js';

/** Options of {@link reduce}. */
export interface ReduceOptions {
  /** The instance id (`ctx.actorId`). Default `'test'`. */
  readonly id?: string;
  /** Actor time of the message (`ctx.now()`, and what delays count from). Default 2030-01-01T00:00:00Z. */
  readonly now?: number | Date;
  /** The message id (`ctx.messageId`, which seeds `ctx.random`). Default `'test-message'`. */
  readonly messageId?: string;
}

/** A message the reducer sent with `ctx.send`, or a timer it set with `ctx.schedule` / `ctx.send(…, when)`. */
export interface SentMessage {
  /** The definition name and instance id of the receiver. */
  readonly to: string;
  readonly id: string;
  readonly action: string;
  readonly payload: unknown;
}

/** A timer the reducer set or cancelled. */
export type ScheduleOp =
  | (SentMessage & { readonly op: 'set'; /** Its key, for a named timer. */ readonly key: string | undefined; /** Epoch ms. */ readonly due: number })
  | { readonly op: 'cancel'; readonly to: string; readonly id: string; readonly key: string };

/** What one reducer did. */
export interface Reduced<S, Reply> {
  /** The next state (the given one is never mutated). */
  readonly state: S;
  /** The immer patches from the given state to the next one: what becomes key writes. */
  readonly patches: readonly Patch[];
  /** Whether the reducer answered with `ctx.reply`. */
  readonly replied: boolean;
  /** The reply, when it answered. */
  readonly reply: Reply | undefined;
  /** Messages sent with `ctx.send` (delivered once the batch commits), in order. */
  readonly sends: readonly SentMessage[];
  /** The locked side effect asked for with `ctx.lock` (at most one). */
  readonly locks: ReadonlyArray<{ readonly thunk: string; readonly args: unknown }>;
  /** Timers set and cancelled, in call order. */
  readonly schedules: readonly ScheduleOp[];
  /** How many after-commit effects (`ctx.after`) it registered. */
  readonly effects: number;
}

const OPTIONS: Readonly<Record<keyof ReduceOptions, OptionCheck>> = {
  id: nonEmptyString,
  now: (v) => ((v instanceof Date && Number.isFinite(v.getTime())) || (typeof v === 'number' && Number.isFinite(v) && v >= 0) ? undefined : 'must be a Date or epoch milliseconds'),
  messageId: nonEmptyString,
};

/**
 * Runs `action` of `def` on `state` with `payload`, as a consumer would (immer, validation of
 * what would be stored, `ctx` helpers), and returns what it did. Throws what the reducer throws.
 *
 * @example
 * ```ts
 * const r = reduce(Account, { balance: 100, statementsSent: 0 }, 'transfer', { to: 'bob', amount: 30 });
 * expect(r.state.balance).toBe(70);
 * expect(r.reply).toBe(70);
 * expect(r.sends).toEqual([{ to: 'account', id: 'bob', action: 'deposit', payload: 30 }]);
 * ```
 */
export function reduce<S, R extends Reducers<S>, T extends Thunks<S>, A extends keyof R & string>(
  def: ActorDefinition<S, R, T>,
  state: S,
  action: A,
  ...args: [...PayloadArgs<R[A]>, options?: ReduceOptions]
): Reduced<S, ReplyOf<R[A]>> {
  if (def === null || typeof def !== 'object' || typeof def.reducers !== 'object') throw new InvalidOptionsError('reduce(def, …)', 'def', 'must be a definition made by defineActor');
  const [payload, options] = args as unknown as [unknown, ReduceOptions | undefined];
  checkOptions('reduce(…, options)', options, OPTIONS);
  const id = options?.id ?? 'test';
  checkId(id);
  const now = options?.now === undefined ? TEST_EPOCH : options.now instanceof Date ? options.now.getTime() : options.now;
  const envelope = { id: options?.messageId ?? 'test-message', action, payload, at: now, wantsReply: true };
  const applied = applyMessage(def as ActorDefinition<S>, state, envelope, id, now);
  return {
    state: applied.state,
    patches: applied.patches,
    replied: applied.replied,
    reply: applied.reply as ReplyOf<R[A]> | undefined,
    sends: applied.sends.map((s) => ({ to: s.name, id: s.id, action: s.out.envelope.action, payload: s.out.envelope.payload })),
    locks: applied.lock === undefined ? [] : [{ thunk: applied.lock.thunk, args: applied.lock.args }],
    schedules: applied.timers.map((t) =>
      t.op === 'cancel'
        ? { op: 'cancel' as const, to: t.name, id: t.id, key: t.timer.key }
        : { op: 'set' as const, to: t.name, id: t.id, key: t.timer.kind === 'k' ? t.timer.key : undefined, due: t.due, action: t.out.envelope.action, payload: t.out.envelope.payload },
    ),
    effects: applied.afters.length,
  };
}
