/**
 * `createTestSystem()`: a system on the memory engine whose actor time is a virtual clock the test
 * moves, with `settle()` to wait until everything sent has been processed, and thunks replaced
 * per test without touching the definitions.
 */
import { createSystem, runtimeOf, type System } from '../client/system.js';
import type { ActorDefinition, ActorOptions, Reducers, ThunkContext, Thunks } from '../define/actor.js';
import type { ActorRef } from '../client/ref.js';
import type { Admin } from '../ops/admin.js';
import type { ServeOptions, Serving } from '../serve/server.js';
import { memory } from '../backend/memory.js';
import { CLOCK } from '../runtime/clock.js';
import { checkOptions, positiveMs, type OptionCheck } from '../runtime/options.js';
import { InvalidOptionsError } from '../errors.js';
import type { Draft } from '../util/immer.js';
import { ManualClock, type TestClock } from './test-clock.js';
import { nextDue, pendingWork } from './pending.js';
import { SettleTimeoutError } from './errors.js';

/**
 * A replacement for a thunk: a function like the thunk's `run` (its `onFailure` is kept), or a
 * whole `{ run, onFailure }`. Annotate its arguments with the thunk's types; the context's
 * `state` is typed by annotating `ctx: ThunkContext<StateOf<typeof Def>>`.
 */
export type ThunkFake =
  | ((args: never, ctx: ThunkContext<never>) => unknown)
  | { readonly run: (args: never, ctx: ThunkContext<never>) => unknown; onFailure?(draft: Draft<never>, error: never, args: never): void };

/** Options of {@link createTestSystem}. */
export interface TestSystemOptions {
  /**
   * Thunks to run instead of the definitions' own, by thunk name (every definition of this system
   * with a thunk of that name runs the fake; a name no definition has is never run).
   */
  readonly thunks?: Readonly<Record<string, ThunkFake>>;
  /** Where virtual time starts (epoch ms or Date). Default 2030-01-01T00:00:00Z, so runs repeat. */
  readonly now?: number | Date;
  /**
   * Options laid over every definition's own, e.g. `{ thunkRetryMs: 1 }` so a failing fake is
   * retried at once. Default: none.
   */
  readonly actorOptions?: ActorOptions;
  /** How long `settle()` waits (real time) before failing with `settle_timeout`. Default 10,000 ms. */
  readonly settleTimeoutMs?: number;
}

/** Options of {@link TestSystem.settle}. */
export interface SettleOptions {
  /** Real milliseconds before `settle_timeout`. Default: the system's `settleTimeoutMs`. */
  readonly timeoutMs?: number;
}

/** A {@link System} on the memory engine with a virtual clock. */
export interface TestSystem extends System {
  /** Actor time: stands still until the test moves it. */
  readonly clock: TestClock;
  /**
   * Resolves once nothing is left to do in actor time as it stands: every enqueue in flight has
   * committed, every served instance's queue is empty (or halted), no thunk holds a lock, and no
   * timer is due. Queues of definitions this system does not serve are not waited for.
   */
  settle(options?: SettleOptions): Promise<void>;
  /**
   * Moves the clock forward by `ms`, stopping at each timer due on the way and settling there,
   * so timers set by timers fire in order, each message seeing its own due time in `ctx.now()`.
   */
  advance(ms: number): Promise<void>;
}

/**
 * Where virtual time starts unless told otherwise: 2030-01-01T00:00:00Z.
 *
 * @example
 * ```ts
 * const t = await createTestSystem();
 * expect(t.clock.now()).toBe(TEST_EPOCH);
 * ```
 */
export const TEST_EPOCH = Date.UTC(2030, 0, 1);

const OPTIONS: Readonly<Record<keyof TestSystemOptions, OptionCheck>> = {
  thunks: (v) => (typeof v === 'object' && v !== null && Object.values(v).every((f) => typeof f === 'function' || (typeof f === 'object' && f !== null && typeof (f as { run?: unknown }).run === 'function')) ? undefined : 'must be an object of thunk functions or { run, onFailure? }'),
  now: (v) => ((v instanceof Date && Number.isFinite(v.getTime())) || (typeof v === 'number' && Number.isFinite(v) && v >= 0) ? undefined : 'must be a Date or epoch milliseconds'),
  actorOptions: (v) => actorOptionsProblem(v),
  settleTimeoutMs: positiveMs,
};

/**
 * Creates a test system: the memory engine, a virtual clock, `settle()`, and thunk fakes.
 *
 * @example
 * ```ts
 * const t = await createTestSystem({ thunks: { sendStatement: async () => (d: { statementsSent: number }) => void d.statementsSent++ } });
 * t.serve(Account);
 * await t.ref(Account, 'alice').dispatch.deposit(100, { delay: 60_000 });
 * await t.advance(60_000);                                  // the delayed deposit fires and is processed
 * expect(await t.ref(Account, 'alice').query((s) => s.balance)).toBe(100);
 * await t.close();
 * ```
 */
export async function createTestSystem(options: TestSystemOptions = {}): Promise<TestSystem> {
  checkOptions('createTestSystem(options)', options, OPTIONS);
  const start = options.now === undefined ? TEST_EPOCH : options.now instanceof Date ? options.now.getTime() : options.now;
  const clock = new ManualClock(start);
  const inner = await createSystem({ backend: memory(), closeBackend: true, [CLOCK]: clock } as Parameters<typeof createSystem>[0]);
  const rt = runtimeOf(inner);
  const derive = deriver(options);
  const served = new Map<string, number>();
  const timeoutOf = (o?: SettleOptions) => o?.timeoutMs ?? options.settleTimeoutMs ?? 10_000;

  const settle = async (o?: SettleOptions): Promise<void> => {
    const timeoutMs = timeoutOf(o);
    checkOptions('settle(options)', o, { timeoutMs: positiveMs });
    const deadline = performance.now() + timeoutMs;
    let quiet = 0;
    // Three quiet looks in a row, a turn of the event loop apart: an after-commit effect or a
    // thunk's completion may start new work just after a look.
    for (;;) {
      const pending = rt.sending.size > 0 ? ['enqueues in flight'] : await pendingWork(inner.backend, rt.layout, served.keys(), clock.now());
      quiet = pending.length === 0 ? quiet + 1 : 0;
      if (quiet >= 3) return;
      if (performance.now() > deadline) throw new SettleTimeoutError(timeoutMs, pending);
      await new Promise<void>((resolve) => (quiet > 0 ? setImmediate(resolve) : setTimeout(resolve, 1)));
    }
  };

  const system: TestSystem = {
    backend: inner.backend,
    clock,
    events$: inner.events$,
    inspect$: inner.inspect$,
    admin: adminWith(inner.admin, derive),
    ref<S, R extends Reducers<S>, T extends Thunks<S>>(def: ActorDefinition<S, R, T>, id: string): ActorRef<S, R> {
      return inner.ref(derive(def), id);
    },
    serve<S, R extends Reducers<S>, T extends Thunks<S>>(def: ActorDefinition<S, R, T>, serveOptions?: ServeOptions): Serving {
      const serving = inner.serve(derive(def), serveOptions);
      served.set(def.name, (served.get(def.name) ?? 0) + 1);
      let stopped = false;
      return {
        stop: async () => {
          await serving.stop();
          if (stopped) return;
          stopped = true;
          const n = (served.get(def.name) ?? 1) - 1;
          if (n === 0) served.delete(def.name);
          else served.set(def.name, n);
        },
      };
    },
    changes: ((def: ActorDefinition<unknown>, o?: Parameters<System['changes']>[1]) => inner.changes(derive(def), o)) as System['changes'],
    listen: (o) => inner.listen(o),
    inspector: (o) => inner.inspector(o),
    close: () => inner.close(),
    closeOnSignals: (signals) => inner.closeOnSignals(signals),
    settle,
    async advance(ms: number): Promise<void> {
      if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw new InvalidOptionsError('advance(ms)', 'ms', `must be a finite number of milliseconds >= 0, got ${String(ms)}`);
      const target = clock.now() + ms;
      await settle();
      for (;;) {
        const due = await nextDue(inner.backend, rt.layout, served.keys());
        if (due === undefined || due > target) break;
        if (due > clock.now()) clock.set(due);
        await settle();
        if (due <= clock.now() && (await nextDue(inner.backend, rt.layout, served.keys())) === due) break; // an entry no host clears: stop stepping on it
      }
      clock.set(target);
      await settle();
    },
  };
  return system;
}

/** Derives, once per definition, the definition the test system runs: thunk fakes and option overrides laid over it. */
function deriver(options: TestSystemOptions): <D extends object>(def: D) => D {
  const fakes = options.thunks ?? {};
  const overrides = options.actorOptions;
  const derived = new WeakMap<object, object>();
  return <D extends object>(def: D): D => {
    if (def === null || typeof def !== 'object' || !('thunks' in def) || !('options' in def)) return def; // createSystem reports it
    const known = derived.get(def);
    if (known !== undefined) return known as D;
    const { thunks: original, options: own } = def as unknown as { name: string; thunks: Record<string, unknown>; options: ActorOptions };
    const thunks: Record<string, unknown> = { ...original };
    for (const [name, fake] of Object.entries(fakes)) {
      if (!Object.hasOwn(original, name)) continue;
      const spec = original[name] as { onFailure?: unknown } | ((...a: never[]) => unknown);
      thunks[name] = typeof fake === 'function' && typeof spec === 'object' && spec.onFailure !== undefined ? { run: fake, onFailure: spec.onFailure } : fake;
    }
    const changed = Object.keys(fakes).some((n) => Object.hasOwn(original, n)) || overrides !== undefined;
    const out = changed ? Object.freeze({ ...def, thunks: Object.freeze(thunks), options: Object.freeze({ ...own, ...overrides }) }) : def;
    derived.set(def, out);
    return out as D;
  };
}

const ACTOR_NUMBERS = ['maxBatchMessages', 'maxBatchBytes', 'maxBatchMs', 'leaseMs', 'idleMs', 'thunkAttempts', 'thunkRetryMs'];

/** What is wrong with `actorOptions`, by defineActor's rules (undefined: nothing). */
function actorOptionsProblem(o: unknown): string | undefined {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return 'must be an object of actor options';
  for (const [key, value] of Object.entries(o)) {
    if (key === 'failurePolicy') {
      if (value !== 'dead-letter' && value !== 'halt') return `has failurePolicy ${String(value)}, not 'dead-letter' or 'halt'`;
    } else if (!ACTOR_NUMBERS.includes(key)) return `has an unknown option '${key}'; the options are failurePolicy, ${ACTOR_NUMBERS.join(', ')}`;
    else if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return `has ${key} ${String(value)}, not a positive number`;
  }
  return undefined;
}

/** The admin API, with each definition it is given replaced by the one the system runs. @internal */
export function adminWith(admin: Admin, derive: (def: object) => object): Admin {
  return new Proxy(admin, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => (value as (...a: unknown[]) => unknown).apply(target, args.map((a) => (typeof a === 'object' && a !== null && 'reducers' in a && 'thunks' in a ? derive(a) : a)));
    },
  });
}
