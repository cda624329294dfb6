/**
 * `simulate()`: your definitions under the simulation dgen runs on itself (test/sim/): several
 * producing and consuming processes on one memory engine, in virtual time, with crashes at every
 * step of the consumer loop and inside thunks, partitions that hand leases over, graceful
 * restarts, conflicts and ambiguous commits, and skewed clocks, all drawn from a seed. Your
 * workload issues dispatches and calls; your invariants are checked once everything has drained.
 */
import { createSystem, type System } from '../client/system.js';
import type { ActorRef } from '../client/ref.js';
import type { ActorDefinition, Reducers, Thunks } from '../define/actor.js';
import { memory } from '../backend/memory.js';
import { InvalidOptionsError } from '../errors.js';
import { checkOptions, anything, boolean, positiveInteger, type OptionCheck } from '../runtime/options.js';
import { Layout } from '../store/keys.js';
import { ClockError, VirtualClock } from './clock.js';
import { chaosPlan, type FaultOptions } from './chaos-plan.js';
import { Cluster, describe, type AnyDefinition, type Proc, type SimulatedProcess } from './cluster.js';
import { SimulationFailedError } from './errors.js';
import { nextDue, pendingWork } from './pending.js';
import { Rng } from './random.js';
import type { ThunkFake } from './test-system.js';
import { TEST_EPOCH } from './test-system.js';

export type { FaultOptions } from './chaos-plan.js';
export type { AnyDefinition, SimulatedProcess } from './cluster.js';

/** A seeded source of choices: the same seed draws the same sequence. */
export interface SimRandom {
  /** A number in [0, 1). */
  next(): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
  /** One of `items`. */
  pick<T>(items: readonly T[]): T;
}

/** What the workload of one producing process gets. */
export interface Workload<M> {
  readonly seed: number;
  /** Which producing process this is (0, 1, …): each runs the workload with its own random stream. */
  readonly producer: number;
  readonly random: SimRandom;
  /** The run's model, made by `options.model`, shared by every producer and the invariants. */
  readonly model: M;
  /** A ref through this producing process (producers never crash; their acknowledgements hold). */
  ref<S, R extends Reducers<S>, T extends Thunks<S>>(definition: ActorDefinition<S, R, T>, id: string): ActorRef<S, R>;
  /** Waits `ms` of virtual time. */
  sleep(ms: number): Promise<void>;
  /** Adds a line to the run's trace. */
  note(line: string): void;
}

/** What the invariants see, once every queue, thunk and timer has drained. */
export interface Outcome<M> {
  readonly seed: number;
  readonly model: M;
  /** A system on the final store (an operator's): `admin`, `ref(…).query()`. */
  readonly system: System;
  /** The committed state of an instance (the initial state if it never processed anything). */
  state<S, R extends Reducers<S>, T extends Thunks<S>>(definition: ActorDefinition<S, R, T>, id: string): Promise<S>;
  /** The ids of the stored instances of a definition. */
  instances(definition: AnyDefinition): Promise<string[]>;
}

/** Options of {@link simulate}. */
export interface SimulationOptions<M> {
  /**
   * The definitions every consuming process serves, or a function that builds them for each
   * process (when an effect needs its own process's system). Definitions are matched by name.
   */
  readonly definitions: readonly AnyDefinition[] | ((process: SimulatedProcess) => readonly AnyDefinition[]);
  /** Run by each producing process: issues dispatches and calls drawn from `random`. */
  readonly workload: (run: Workload<M>) => Promise<void>;
  /** Checked at quiescence: throw (a failing `expect`) or return the violations found. */
  readonly invariants: (outcome: Outcome<M>) => void | readonly string[] | Promise<void | readonly string[]>;
  /**
   * Also checked after every commit that changed something, while the faults go on, with the
   * process that committed and the instances its transaction touched: for what must hold at
   * every instant (a balance never negative), not only at the end (money in flight between two
   * accounts is in neither). Checks run one at a time, each soon after its commit; a run stops
   * checking after the first violation.
   */
  readonly afterEveryCommit?: (outcome: Outcome<M>, commit: { readonly process: string; readonly instances: readonly string[] }) => void | readonly string[] | Promise<void | readonly string[]>;
  /** A fresh model per run, where the workload records what it sent and learnt. Default `{}`. */
  readonly model?: () => M;
  /**
   * The seeds to run: a count (1..n), a list, or `{ from, count }`. Default 20. The environment
   * variable `DGEN_SIMULATE_SEEDS=17,40` runs only those seeds (to replay a failure).
   */
  readonly seeds?: number | readonly number[] | { readonly from: number; readonly count: number };
  /** The faults injected; `false` for none (virtual time and several processes only). Default: all. */
  readonly faults?: FaultOptions | false;
  /** Thunk fakes by name, as `createTestSystem` takes them. */
  readonly thunks?: Readonly<Record<string, ThunkFake>>;
  /**
   * Virtual milliseconds after the workload ends within which due timers still fire before the
   * invariants run; timers due later stay pending (a periodic timer never drains). Default 60,000.
   */
  readonly timerHorizonMs?: number;
  /** Producing processes. Default 2. */
  readonly producers?: number;
  /** Throw `simulation_failed` when a seed fails (default), or only return the result. */
  readonly throwOnFailure?: boolean;
}

/** One failing seed. */
export interface SeedFailure {
  readonly seed: number;
  readonly violations: readonly string[];
  /** The line that replays it. */
  readonly replay: string;
  /** The last events of the instances the violations name (commits, crashes, restarts). */
  readonly trace: readonly string[];
}

/** What {@link simulate} found. */
export interface SimulationResult {
  readonly ok: boolean;
  readonly seeds: readonly number[];
  readonly failures: readonly SeedFailure[];
  /** Crashes injected over all seeds. */
  readonly crashes: number;
}

/** Longest virtual time of a run, besides the timer horizon: a run that takes longer is stuck. */
const MAX_VIRTUAL_MS = 10 * 60_000;
const TIMER_HORIZON_MS = 60_000;
const DRAIN_MS = 60_000;
const TRACE_LINES = 30;

const OPTIONS: Readonly<Record<keyof SimulationOptions<unknown>, OptionCheck>> = {
  definitions: (v) => (typeof v === 'function' || (Array.isArray(v) && v.length > 0) ? undefined : 'must be a non-empty array of definitions or a function of the process'),
  workload: (v) => (typeof v === 'function' ? undefined : 'must be a function'),
  invariants: (v) => (typeof v === 'function' ? undefined : 'must be a function'),
  afterEveryCommit: (v) => (typeof v === 'function' ? undefined : 'must be a function'),
  model: (v) => (typeof v === 'function' ? undefined : 'must be a function that returns a fresh model'),
  seeds: (v) => (seedList(v) === undefined ? 'must be a positive count, a list of seeds, or { from, count }' : undefined),
  faults: (v) => (v === false || (typeof v === 'object' && v !== null) ? undefined : 'must be false or an object of fault switches'),
  thunks: anything,
  producers: positiveInteger,
  timerHorizonMs: (v) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? undefined : 'must be a number of milliseconds >= 0'),
  throwOnFailure: boolean,
};

/**
 * Runs the workload under seeded faults, seed after seed, and checks the invariants after each.
 * A failing seed reports the line that replays it and a trace of the instances involved.
 *
 * @example
 * ```ts
 * await simulate({
 *   definitions: [Account],
 *   model: () => ({ deposited: 0 }),
 *   async workload({ random, ref, model }) {
 *     for (let i = 0; i < 20; i++) {
 *       const amount = random.int(1, 100);
 *       await ref(Account, random.pick(['alice', 'bob'])).dispatch.deposit(amount);
 *       model.deposited += amount;
 *     }
 *   },
 *   async invariants({ state, model }) {
 *     const total = (await state(Account, 'alice')).balance + (await state(Account, 'bob')).balance;
 *     expect(total).toBe(model.deposited);
 *   },
 *   seeds: 50,
 * });
 * ```
 */
export async function simulate<M = Record<string, unknown>>(options: SimulationOptions<M>): Promise<SimulationResult> {
  checkOptions('simulate(options)', options, OPTIONS);
  for (const key of ['definitions', 'workload', 'invariants'] as const) if (options?.[key] === undefined) throw new InvalidOptionsError('simulate(options)', key, 'is required');
  const seeds = fromEnvironment() ?? seedList(options.seeds ?? 20)!;
  const failures: SeedFailure[] = [];
  let crashes = 0;
  for (const seed of seeds) {
    const run = await runSeed(options, seed);
    crashes += run.crashes;
    if (run.failure !== undefined) failures.push(run.failure);
  }
  const result: SimulationResult = { ok: failures.length === 0, seeds, failures, crashes };
  if (!result.ok && options.throwOnFailure !== false) throw new SimulationFailedError(failures.map((f) => f.seed), failures.map(formatFailure).join('\n\n'));
  return result;
}

/** A failure as printed: its violations, the replay line, the trace. */
export function formatFailure(f: SeedFailure): string {
  return [`seed ${f.seed}:`, ...f.violations.slice(0, 10).map((v) => `  ✗ ${v}`), `  replay: ${f.replay}`, `  trace:`, ...f.trace.map((l) => `    ${l}`)].join('\n');
}

async function runSeed<M>(options: SimulationOptions<M>, seed: number): Promise<{ crashes: number; failure: SeedFailure | undefined }> {
  const plan = chaosPlan(seed, options.faults === false ? { crashes: false, partitions: false, restarts: false, engine: false, clockSkew: false } : (options.faults ?? {}), options.producers ?? 2);
  const math = Rng.derive(seed, 'Math.random');
  const clock = new VirtualClock(TEST_EPOCH, () => math.next());
  const engine = memory({ seed, faults: plan.engine });
  const build = typeof options.definitions === 'function' ? options.definitions : () => options.definitions as readonly AnyDefinition[];
  const cluster = new Cluster(plan, clock, engine, build, options.thunks ?? {});
  const model = options.model?.() ?? ({} as M);
  const violations: string[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    violations.push(...(await clock.run(() => scenario(options, cluster, model), MAX_VIRTUAL_MS + (options.timerHorizonMs ?? TIMER_HORIZON_MS))));
  } catch (e) {
    violations.push(e instanceof ClockError ? `the run did not finish: ${e.message}` : `the run failed: ${describe(e)}`);
  } finally {
    process.off('unhandledRejection', onUnhandled);
    await engine.close();
  }
  violations.push(...cluster.violations);
  for (const e of clock.uncaught) violations.push(`uncaught exception in a timer: ${describe(e)}`);
  for (const e of unhandled) violations.push(`unhandled rejection: ${describe(e)}`);
  if (violations.length === 0) return { crashes: cluster.crashes, failure: undefined };
  return { crashes: cluster.crashes, failure: { seed, violations, replay: `simulate({ …, seeds: [${seed}] }), or DGEN_SIMULATE_SEEDS=${seed} with the same test`, trace: traceOf(cluster, violations) } };
}

/** Start, produce under chaos, heal, drain, check. Returns the violations found. */
async function scenario<M>(options: SimulationOptions<M>, cluster: Cluster, model: M): Promise<string[]> {
  const out: string[] = [];
  const procs: Proc[] = [];
  const auditor = await createSystem({ backend: cluster.engine, closeBackend: false });
  const view = outcome(cluster.plan.seed, model, auditor);
  let checks = Promise.resolve();
  const every = options.afterEveryCommit;
  if (every !== undefined) {
    let failed = false;
    cluster.onCommit = (process, ids) => {
      const commit = { process, instances: [...ids] };
      checks = checks.then(async () => {
        if (failed) return;
        const found = await verdict(() => every(view, commit));
        if (found.length === 0) return;
        failed = true;
        out.push(...found.map((v) => `after a commit of ${process} [${commit.instances.join(', ')}]: ${v}`));
      });
    };
  }
  for (const slot of cluster.slots) procs.push(await cluster.start(slot));
  const chaos = cluster.chaosLoop();
  const producers = cluster.slots.filter((s) => s.role === 'producer');
  await Promise.all(
    producers.map((slot, i) =>
      cluster
        .within(slot, async () => options.workload(workload(cluster, slot.current!, i, model)))
        .catch((e: unknown) => void out.push(`the workload of producer ${i} threw: ${describe(e)}`)),
    ),
  );
  await cluster.heal();
  await chaos;
  const names = [...procs[0]!.defs.keys()];
  const drain = await drained(cluster, names, options.timerHorizonMs ?? TIMER_HORIZON_MS);
  if (drain !== undefined) out.push(drain);
  cluster.onCommit = undefined;
  await checks;
  out.push(...(await verdict(() => options.invariants(view))).map((v) => `invariant: ${v}`));
  await auditor.close();
  await cluster.shutdown();
  return out;
}

/** The violations an invariant returned, or the message of what it threw. */
async function verdict(check: () => void | readonly string[] | Promise<void | readonly string[]>): Promise<string[]> {
  try {
    return [...((await check()) ?? [])];
  } catch (e) {
    return [e instanceof Error ? e.message : String(e)];
  }
}

function workload<M>(cluster: Cluster, producer: Proc, index: number, model: M): Workload<M> {
  const random = Rng.derive(cluster.plan.seed, `workload ${index}`);
  return {
    seed: cluster.plan.seed,
    producer: index,
    random,
    model,
    ref: <S, R extends Reducers<S>, T extends Thunks<S>>(def: ActorDefinition<S, R, T>, id: string): ActorRef<S, R> => {
      const own = producer.defs.get(def?.name);
      if (own === undefined) throw new InvalidOptionsError('simulate: workload ref(definition, id)', 'definition', `names '${String(def?.name)}', which is not among the simulated definitions (${[...producer.defs.keys()].join(', ')})`);
      return producer.system.ref(own, id) as unknown as ActorRef<S, R>;
    },
    sleep: (ms) => cluster.clock.sleep(ms),
    note: (line) => cluster.note(`${producer.name} ${line}`),
  };
}

function outcome<M>(seed: number, model: M, system: System): Outcome<M> {
  return {
    seed,
    model,
    system,
    state: async <S, R extends Reducers<S>, T extends Thunks<S>>(def: ActorDefinition<S, R, T>, id: string): Promise<S> => ((await system.admin.state(def.name, id)) as S | undefined) ?? def.initialState(),
    instances: (def) => system.admin.instances(def.name),
  };
}

/**
 * Waits until nothing is queued or locked and no timer is due within `horizonMs` from now (later
 * ones stay pending); returns what is left when that takes DRAIN_MS past the horizon.
 */
async function drained(cluster: Cluster, names: readonly string[], horizonMs: number): Promise<string | undefined> {
  const layout = new Layout();
  const horizon = cluster.clock.now + horizonMs;
  const deadline = horizon + DRAIN_MS;
  for (;;) {
    const busy = await pendingWork(cluster.engine, layout, names, cluster.clock.now);
    const timer = await nextDue(cluster.engine, layout, names);
    const waiting = timer !== undefined && timer <= horizon;
    if (busy.length === 0 && !waiting) return undefined;
    if (cluster.clock.now > deadline) return `not drained ${DRAIN_MS} ms after the chaos ended and timers within ${horizonMs} ms fired: ${[...busy, ...(waiting ? [`a timer due at ${new Date(timer).toISOString()}`] : [])].join('; ')}`;
    // Only a timer ahead: sleep until it is due (virtual time costs nothing).
    await cluster.clock.sleep(busy.length === 0 && timer !== undefined ? Math.max(50, timer - cluster.clock.now) : 50);
  }
}

/** The last trace lines of the instances the violations name (or the last lines of all, if they name none). */
function traceOf(cluster: Cluster, violations: readonly string[]): string[] {
  const text = violations.join('\n');
  const named = [...cluster.ids].filter((id) => new RegExp(`(^|[^\\w-])${id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^\\w-])`).test(text));
  const lines = collapse(named.length === 0 ? cluster.trace : cluster.trace.filter((l) => / CRASHED | started$|graceful|partitioned|chaos over/.test(l) || named.some((id) => l.includes(id))));
  // Faults first: every crash, restart, partition and failure, then the last events up to TRACE_LINES.
  const faults = lines.filter((l) => / CRASHED |graceful|partitioned|effect failed/.test(l)).slice(-TRACE_LINES / 2);
  const shown = [...new Set([...faults, ...lines.slice(-(TRACE_LINES - faults.length))])].sort((a, b) => lines.indexOf(a) - lines.indexOf(b));
  return [`(${named.length === 0 ? 'every instance' : `instances ${named.join(', ')}`}; last ${shown.length} of ${lines.length} events)`, ...shown];
}

/** Consecutive lines that say the same thing (after the time column) become one, with a count. */
function collapse(lines: readonly string[]): string[] {
  const out: string[] = [];
  let last = '';
  let count = 0;
  const flush = () => {
    if (count > 1) out[out.length - 1] += ` (×${count})`;
  };
  for (const line of lines) {
    const what = line.slice(line.indexOf(' ms  ') + 5);
    if (what === last) {
      count++;
      continue;
    }
    flush();
    out.push(line);
    last = what;
    count = 1;
  }
  flush();
  return out;
}

function seedList(v: unknown): number[] | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v > 0 ? Array.from({ length: v }, (_, i) => i + 1) : undefined;
  if (Array.isArray(v)) return v.length > 0 && v.every((s) => Number.isInteger(s) && s >= 0) ? [...(v as number[])] : undefined;
  if (typeof v === 'object' && v !== null) {
    const { from, count } = v as { from?: unknown; count?: unknown };
    if (Number.isInteger(from) && (from as number) >= 0 && Number.isInteger(count) && (count as number) > 0) return Array.from({ length: count as number }, (_, i) => (from as number) + i);
  }
  return undefined;
}

function fromEnvironment(): number[] | undefined {
  const raw = process.env.DGEN_SIMULATE_SEEDS;
  if (raw === undefined || raw.trim() === '') return undefined;
  const seeds = raw.split(',').map((s) => Number(s.trim()));
  if (!seeds.every((s) => Number.isInteger(s) && s >= 0)) throw new InvalidOptionsError('simulate (environment)', 'DGEN_SIMULATE_SEEDS', `must be a comma-separated list of seeds, got ${JSON.stringify(raw)}`);
  return seeds;
}
