/**
 * One simulated run from a seed: configure, start the processes, produce under chaos, heal, wait
 * until every queue is drained, shut down, read the final data and check the invariants.
 */
import { inspectedState, pagedDeadLetters } from './inspected.js';
import { createHash } from 'node:crypto';
import { createSystem, isDgenError, memory, type Backend } from '../../src/index.js';
import { Layout } from '../../src/store/keys.js';
import { instanceTimers } from '../../src/store/timers.js';
import { check, type FinalActor } from './check.js';
import { checkAggregate } from './aggregate.js';
import { ClockError, VirtualClock } from '../../src/testing/clock.js';
import { configure, type ScaleOptions, type SimConfig } from './config.js';
import { initialSimState, nameOf, type SimState } from './model.js';
import { Producers } from './producer.js';
import { Rng } from '../../src/testing/random.js';
import { describe, World } from './world.js';
import { evolutionStats, rollout } from './evolution.js';

/** Virtual start time of every run (a fixed instant, so runs replay). */
const EPOCH = Date.UTC(2030, 0, 1);
/** Longest virtual time a run may take before it counts as stuck. */
const MAX_VIRTUAL_MS = 10 * 60_000;
/** Longest virtual time the queues may take to drain once the chaos is over. */
const DRAIN_MS = 60_000;

export interface RunResult {
  readonly seed: number;
  readonly ok: boolean;
  readonly violations: string[];
  readonly config: SimConfig;
  readonly stats: Record<string, unknown>;
  /** A digest of what the run did (same seed, same digest). */
  readonly digest: string;
  readonly wallMs: number;
  readonly virtualMs: number;
  /** With SIM_TRACE set: commits, crashes and restarts in virtual time. */
  readonly timeline: readonly string[] | undefined;
}

/** The command that replays `seed`. */
export const replayCommand = (seed: number, options: ScaleOptions = {}) => `npm run sim -- --seed ${seed}${options.scale !== undefined && options.scale !== 1 ? ` --scale ${options.scale}` : ''}`;

export async function runSeed(seed: number, options: ScaleOptions = {}): Promise<RunResult> {
  const cfg = configure(seed, options);
  const started = performance.now();
  const math = Rng.derive(seed, 'Math.random');
  const clock = new VirtualClock(EPOCH, () => math.next());
  const engine = memory({ seed, faults: cfg.faults });
  const world = new World(cfg, clock, engine);
  const producers = new Producers(world);
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  let violations: string[];
  let final: Map<string, FinalActor> | undefined;
  try {
    final = await clock.run(() => simulate(world, producers, engine), MAX_VIRTUAL_MS);
    violations = check(world, producers.sent, final);
  } catch (e) {
    violations = [...world.violations, e instanceof ClockError ? `run did not finish: ${e.message}` : `run failed: ${describe(e)}\n${(e as Error)?.stack ?? ''}`];
  } finally {
    process.off('unhandledRejection', onUnhandled);
    await engine.close();
  }
  for (const e of clock.uncaught) violations.push(`uncaught exception in a timer: ${describe(e)}`);
  for (const e of unhandled) violations.push(`unhandled rejection: ${describe(e)}`);
  const stats = {
    messages: producers.sent.size,
    applied: final === undefined ? 0 : [...final.values()].reduce((n, f) => n + f.state.log.length, 0),
    calls: [...producers.sent.values()].filter((s) => s.via === 'call').length,
    timerMessages: final === undefined ? 0 : [...final.values()].reduce((n, f) => n + Object.keys(f.state.rings).length, 0),
    compensations: final === undefined ? 0 : [...final.values()].reduce((n, f) => n + f.state.compensations, 0),
    thunkReplies: [...producers.sent.values()].filter((s) => s.thunkReply === true && s.reply?.ok === true).length,
    keyedCallRetries: [...producers.sent.values()].filter((s) => s.via === 'call').reduce((n, s) => n + s.sends - 1, 0),
    callErrors: [...producers.sent.values()].filter((s) => s.reply?.ok === false).length,
    steps: countSteps(world),
    crashes: world.crashes.length,
    crashPoints: countBy(world.crashes.map((c) => `${c.point}/${c.step}`)),
    partitions: world.partitions.length,
    recoveries: world.recoveries.length,
    restarts: world.restarts.length,
    resumes: world.resumes,
    serviceRequests: world.requests.length,
    queries: world.queries.length,
    emissions: [...world.observed.values()].reduce((n, e) => n + e.length, 0),
    dispatchRejections: [...producers.sent.values()].reduce((n, s) => n + s.rejections.length, 0),
    resends: [...producers.sent.values()].reduce((n, s) => n + s.sends - 1, 0),
    overloaded: [...producers.sent.values()].reduce((n, s) => n + [...s.rejections, s.reply?.ok === false ? s.reply.error : undefined].filter((e) => isDgenError(e, 'overloaded')).length, 0),
    serviceFailures: world.serviceFailures,
    faults: { ...engine.faults.injected },
    commits: engine.stats().commits,
    conflicts: engine.stats().conflicts,
    consumerErrors: world.events.consumerErrors,
    errorKinds: world.errorKinds,
    timers: clock.fired,
    ...(cfg.evolution === undefined ? {} : { evolution: evolutionStats(world, final) }),
  };
  const digest = createHash('sha256')
    .update(JSON.stringify({ final: final === undefined ? null : [...final].map(([a, f]) => [a, f.state, f.deadLetters.length]), stats, crashes: world.crashes }))
    .digest('hex')
    .slice(0, 16);
  return { seed, ok: violations.length === 0, violations, config: cfg, stats, digest, wallMs: performance.now() - started, virtualMs: clock.now - clock.start, timeline: world.timeline };
}

async function simulate(world: World, producers: Producers, engine: Backend): Promise<Map<string, FinalActor>> {
  const { cfg, clock } = world;
  for (const slot of world.slots) await world.start(slot);
  const chaos = Promise.all([world.chaosLoop(), world.recoveryLoop(), rollout(world)]);
  let stopOperator!: () => void;
  const operator = world.operate(new Promise<void>((resolve) => (stopOperator = resolve)));
  await producers.run();
  await world.heal();
  await chaos;
  await drained(world, engine);
  stopOperator();
  await operator;
  await clock.sleep(4 * cfg.pollMs);
  world.violations.push(...(await checkAggregate(cfg, engine, (ms) => clock.sleep(ms))));
  const final = await readFinal(cfg, engine);
  await caughtUp(world, final);
  await world.shutdown();
  return final;
}

/** Waits (a while) until every live observer's `state$` has emitted the final state. */
async function caughtUp(world: World, final: Map<string, FinalActor>): Promise<void> {
  for (let waited = 0; waited < 10_000; waited += 20) {
    const behind = [...world.observed].some(([key, emissions]) => {
      const [proc, actor] = key.split('/') as [string, string];
      return !world.ended.has(proc) && emissions.at(-1)?.length !== final.get(actor)!.state.log.length;
    });
    if (!behind) return;
    await world.clock.sleep(20);
  }
}

/** Waits until no queue holds a message and no instance is locked. */
async function drained(world: World, engine: Backend): Promise<void> {
  const layout = new Layout();
  const deadline = world.clock.now + DRAIN_MS;
  for (;;) {
    const busy = await engine.transact(async (tx) => {
      const out: string[] = [];
      for (const id of world.cfg.actors) {
        const keys = layout.actor(nameOf(id), id);
        if ((await tx.getRange(keys.queue.range().begin, keys.queue.range().end, { limit: 1 })).length > 0) out.push(`${id} has queued messages`);
        if ((await tx.getRange(keys.lock.prefix, keys.lock.range().end, { limit: 1 })).length > 0) out.push(`${id} is locked`);
        if ((await tx.get(keys.halt)) !== undefined) out.push(`${id} is halted`);
        const timers = instanceTimers(layout, nameOf(id), id).range();
        if ((await tx.getRange(timers.begin, timers.end, { limit: 1 })).length > 0) out.push(`${id} has pending timers`);
      }
      return out;
    });
    if (busy.length === 0) return;
    if (world.clock.now > deadline) throw new Error(`not drained ${DRAIN_MS} ms after the chaos ended: ${busy.join(', ')}`);
    await world.clock.sleep(50);
  }
}

/** Reads the final data of every actor through a system of its own (the operator's view). */
async function readFinal(cfg: SimConfig, engine: Backend): Promise<Map<string, FinalActor>> {
  const auditor = await createSystem({ backend: engine, closeBackend: false });
  const out = new Map<string, FinalActor>();
  for (const id of cfg.actors) {
    const ACTOR = nameOf(id);
    out.set(id, {
      state: ((await auditor.admin.state(ACTOR, id)) as SimState | undefined) ?? initialSimState(),
      queued: (await auditor.admin.queue(ACTOR, id)).length,
      lock: await auditor.admin.lock(ACTOR, id),
      halted: await auditor.admin.halted(ACTOR, id),
      deadLetters: await auditor.admin.deadLetters(ACTOR, id),
      timers: (await auditor.admin.timers(ACTOR, id)).length,
      inspected: await inspectedState(auditor.admin, ACTOR, id),
      pagedDeadLetters: await pagedDeadLetters(auditor.admin, ACTOR, id),
    });
  }
  await auditor.close();
  return out;
}

/** Writing commits of every process, by step of the loop. */
function countSteps(world: World): Record<string, number> {
  const out: Record<string, number> = {};
  for (const inc of world.incarnations.values()) for (const [k, n] of Object.entries(inc.backend.commits)) out[k] = (out[k] ?? 0) + n;
  return Object.fromEntries(Object.entries(out).sort());
}

function countBy(items: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items.sort()) out[i] = (out[i] ?? 0) + 1;
  return out;
}
