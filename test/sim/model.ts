/**
 * The actor of the simulation and its reference model. Every message carries a unique tag; the
 * state logs the tags it applied, in order, with the incarnation of the consumer process that
 * applied it (`tag|proc`). `sum` and `hash` are functions of the sequence of tags, so the final state
 * can be compared with a sequential replay, and a call's reply with the state at its position.
 *
 * Each simulated process gets its own definition object (same name, same reducers): reducers,
 * effects and thunks then know which process runs them, as they would in separate OS processes.
 */
import { defineActor, type ActorDefinition, type ActorOptions, type Locked, type Reply } from '../../src/index.js';

export interface SimState {
  log: string[];
  sum: number;
  hash: number;
  /** Thunk recipes applied. */
  recipes: number;
  /** Compensations (`onFailure`) of thunks that gave up, applied. */
  compensations: number;
  /** A large value (up to 200 kB, stored in chunks), replaced by `blob` messages. */
  blob: string;
  /** Timer messages applied (`ring`): tag -> [ctx.now() (its due time, on the clock of the process that set it), the true time when it was applied]. */
  rings: Record<string, [number, number]>;
  /** When `arm` and `disarm` messages were applied (true time), by tag. */
  armed: Record<string, number>;
  /** Version 2 only (see evolution.ts): times migration 2 ran on this instance, and the log length then. */
  migrations?: number;
  migratedAt?: number;
}

/** What `take` and `lockOp` reply: the state right after the message. */
export interface Snap {
  readonly len: number;
  readonly sum: number;
  readonly hash: number;
}

export interface Payload {
  readonly tag: string;
  readonly v: number;
  /** `forward`: the actor that receives `v` (tag `<tag>>`). */
  readonly to?: string;
  /** Padding that makes the message large (stored in chunks); ignored by the reducers. */
  readonly pad?: string;
  /** `arm`: the timer's delay; `arm` / `disarm`: its key (unnamed when absent). */
  readonly delay?: number;
  readonly key?: string;
  /** `lockOp`: the call is answered by the thunk's reply (`<tag>!`), not the reducer's. */
  readonly thunkReply?: true;
}

/** What a process does when its actors commit and run thunks. */
export interface ProcEnv {
  /** The incarnation of the process (`c1#3`): recorded in the log entries it applies. */
  readonly name: string;
  /** True (virtual) time, whatever the process's clock says: only the checks use it, as an outside observer would. */
  trueNow(): number;
  /** An after-commit effect ran for `tag` on `actor` with the committed `state`. */
  effect(tag: string, actor: string, state: SimState): void;
  /** The thunk of `tag`: calls the external service; may crash the process or fail. */
  external(tag: string, actor: string, ctx: { key: string; attempt: number; signal: AbortSignal; fencingToken: number }): Promise<void>;
}

/** The actor with the default failure policy (dead letters): instances `a0`, `a1`, … */
export const ACTOR = 'sim.acct';
/** The same actor with failure policy `halt`: instances `s0`, `s1`, … An operator deletes the failed message and resumes it. */
export const STRICT = 'sim.strict';
/** The definition name of an instance id. */
export const nameOf = (id: string): string => (id.startsWith('s') ? STRICT : ACTOR);

export const initialSimState = (): SimState => ({ log: [], sum: 0, hash: 0, recipes: 0, compensations: 0, blob: '', rings: {}, armed: {} });

/** The large value a `blob` message of size `v` stores. */
export const blobOf = (tag: string, v: number): string => (tag + '#').repeat(Math.ceil(v / (tag.length + 1))).slice(0, v);

/** Order-sensitive mix of a tag and a value into the hash. */
export function mix(hash: number, tag: string, v: number): number {
  let h = (hash ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < tag.length; i++) h = Math.imul(h ^ tag.charCodeAt(i), 0x01000193);
  return Math.imul(h ^ (v | 0), 0x01000193) >>> 0;
}

/** Applies one logged tag (the pure step both the actor and the replay use). */
export function step(state: { sum: number; hash: number }, tag: string, delta: number): void {
  state.sum += delta;
  state.hash = mix(state.hash, tag, delta);
}

export const tagOf = (entry: string): string => entry.slice(0, entry.lastIndexOf('|'));
export const procOf = (entry: string): string => entry.slice(entry.lastIndexOf('|') + 1);

/**
 * The definition as process `env` runs it. Version 2 (runs that deploy a new version, see
 * evolution.ts) counts its migration in the state and renames `recv` to `receive`; its reducers
 * are otherwise the same.
 */
export function simActor(env: ProcEnv, options: ActorOptions, name: string = ACTOR, version: 1 | 2 = 1) {
  const snap = (s: SimState): Snap => ({ len: s.log.length, sum: s.sum, hash: s.hash });
  const apply = (s: SimState, tag: string, delta: number): void => {
    step(s, tag, delta);
    s.log.push(`${tag}|${env.name}`);
  };
  // The definition `forward` sends to: this one (version 2 is made from version 1 below).
  let self: ActorDefinition<SimState> | undefined;
  const Acct = defineActor({
    name,
    changes: true, // followed by the aggregate's listeners (aggregate.ts)
    initialState: initialSimState,
    thunks: {
      external: {
        async run({ tag, thunkReply }: { tag: string; thunkReply?: true }, ctx) {
          await env.external(tag, ctx.actorId, ctx);
          const recipe = (draft: SimState) => {
            apply(draft, `${tag}!`, 1);
            draft.recipes += 1;
          };
          return thunkReply === true ? { recipe, reply: `${tag}!` } : recipe;
        },
        // The thunk gave up: undo in the transaction that dead-letters its message (`<tag>~`).
        onFailure(draft, _error, { tag }: { tag: string }) {
          apply(draft, `${tag}~`, -1);
          draft.compensations += 1;
        },
      },
    },
    reducers: {
      add(state, p: Payload, ctx): void {
        apply(state, p.tag, p.v);
        ctx.after((s) => env.effect(p.tag, ctx.actorId, s));
      },
      take(state, p: Payload, ctx): Reply<Snap> {
        apply(state, p.tag, -p.v);
        ctx.after((s) => env.effect(p.tag, ctx.actorId, s));
        return ctx.reply(snap(state));
      },
      fail(_state, p: Payload): void {
        throw Object.assign(new Error(`refused ${p.tag}`), { code: 'sim_refused' });
      },
      lockOp(state, p: Payload, ctx): Reply<Snap> | Locked<string> {
        apply(state, p.tag, p.v);
        const locked = ctx.lock('external', p.thunkReply === true ? { tag: p.tag, thunkReply: true } : { tag: p.tag });
        ctx.after((s) => env.effect(p.tag, ctx.actorId, s));
        return p.thunkReply === true ? locked : ctx.reply(snap(state));
      },
      forward(state, p: Payload, ctx): void {
        apply(state, p.tag, -p.v);
        const to = ctx.send(self!, p.to!) as unknown as Record<string, (p: Payload) => void>;
        to[version === 2 ? 'receive' : 'recv']!({ tag: `${p.tag}>`, v: p.v });
        ctx.after((s) => env.effect(p.tag, ctx.actorId, s));
      },
      blob(state, p: Payload, ctx): void {
        step(state, p.tag, 0);
        state.log.push(`${p.tag}|${env.name}`);
        state.blob = blobOf(p.tag, p.v);
        ctx.after((s) => env.effect(p.tag, ctx.actorId, s));
      },
      poison(state, p: Payload): void {
        // A change the store refuses: a state key over 10,000 bytes (unserializable_value) or, for
        // an odd v, a state change over FoundationDB's 10 MB a transaction (transaction_too_large).
        // The batch fails, is split, and the message alone follows its actor's failure policy.
        if (p.v % 2 === 1) (state as unknown as Record<string, unknown>)[`${p.tag}:big`] = 'x'.repeat(10_100_000);
        else (state as unknown as Record<string, unknown>)[`${p.tag}:${'k'.repeat(12_000)}`] = p.v;
      },
      arm(state, p: Payload, ctx): void {
        // Sets a timer (named by p.key, replacing a pending one of that key) whose message is `ring <tag>@`.
        apply(state, p.tag, p.v);
        state.armed[p.tag] = env.trueNow();
        ctx.schedule(p.key === undefined ? { delay: p.delay! } : { delay: p.delay!, key: p.key }).ring({ tag: `${p.tag}@`, v: 1 });
        ctx.after((s) => env.effect(p.tag, ctx.actorId, s));
      },
      disarm(state, p: Payload, ctx): void {
        apply(state, p.tag, p.v);
        state.armed[p.tag] = env.trueNow();
        ctx.cancel(p.key!);
        ctx.after((s) => env.effect(p.tag, ctx.actorId, s));
      },
      ring(state, p: Payload, ctx): void {
        // A timer's message (from `arm`, or a delayed dispatch): ctx.now() is its due time.
        apply(state, p.tag, p.v);
        state.rings[p.tag] = [ctx.now(), env.trueNow()];
        ctx.after((s) => env.effect(p.tag, ctx.actorId, s));
      },
      recv(state, p: Payload, ctx): void {
        apply(state, p.tag, p.v);
        ctx.after((s) => env.effect(p.tag, ctx.actorId, s));
      },
    },
    options,
  });
  self = (version === 2 ? secondVersion(Acct) : Acct) as unknown as ActorDefinition<SimState>;
  return self as unknown as typeof Acct;
}

/** Version 2 of `v1`: its version, migration 2 (counted in the state), and `recv` renamed `receive`. */
function secondVersion(v1: ActorDefinition<SimState>): ActorDefinition<SimState> {
  const { recv, ...rest } = v1.reducers;
  return defineActor({
    name: v1.name,
    version: 2,
    changes: true, // the aggregate's listeners follow both versions
    initialState: (): SimState => ({ ...v1.initialState(), migrations: 0 }),
    migrations: {
      2: (draft) => {
        draft.migrations = (draft.migrations ?? 0) + 1;
        draft.migratedAt = draft.log.length;
      },
    },
    renamed: { recv: 'receive' },
    thunks: v1.thunks,
    reducers: { ...rest, receive: recv! } as never,
    options: v1.options,
  }) as unknown as ActorDefinition<SimState>;
}

export type SimActor = ReturnType<typeof simActor>;

/** Both definitions as one process runs them. */
export interface SimDefs {
  readonly acct: SimActor;
  readonly strict: SimActor;
}

export const simDefs = (env: ProcEnv, options: ActorOptions, version: 1 | 2 = 1): SimDefs => ({
  acct: simActor(env, options, ACTOR, version),
  strict: simActor(env, { ...options, failurePolicy: 'halt' }, STRICT, version),
});

/** The definition of instance `id`. */
export const defOf = (defs: SimDefs, id: string): SimActor => (nameOf(id) === STRICT ? defs.strict : defs.acct);
