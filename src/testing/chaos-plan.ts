/**
 * The faults of one simulated run, drawn from its seed (the same draws as dgen's own simulation in
 * test/sim/config.ts, without its workload): how many processes, how often they crash and where,
 * partitions, graceful restarts, engine faults (conflicts, ambiguous commits), clock skew, and the
 * short leases and small batches that make takeovers and thunk re-runs common.
 * @internal
 */
import type { ActorOptions } from '../define/actor.js';
import type { FaultPlan } from '../backend/faults.js';
import { Rng } from './random.js';

/** Which faults a simulation injects. Every one is on unless set to false. */
export interface FaultOptions {
  /** Processes crash: inside transactions (after a read, before and after the commit), inside thunks, at random instants. */
  readonly crashes?: boolean;
  /** Processes are cut off from the store for up to three leases: their leases expire and another process takes over. */
  readonly partitions?: boolean;
  /** Processes close gracefully and start again. */
  readonly restarts?: boolean;
  /** Commits conflict, fail before commit, or end in `commit_unknown_result` (applied or not). */
  readonly engine?: boolean;
  /** Each process's clock runs ahead of true time by up to 20, 250 or 1,500 ms. */
  readonly clockSkew?: boolean;
}

export interface ChaosPlan {
  readonly seed: number;
  readonly producers: number;
  readonly consumers: number;
  /** Options laid over every definition's: short leases, small batches, quick thunk retries. */
  readonly actorOptions: ActorOptions & { readonly leaseMs: number };
  readonly pollMs: number;
  readonly engine: FaultPlan;
  readonly crash: {
    readonly txRate: number;
    readonly thunkRate: number;
    readonly everyMs: number;
    readonly restartMs: number;
    readonly reuseName: number;
    readonly restartEveryMs: number;
  };
  readonly partition: { readonly everyMs: number; readonly maxMs: number };
  readonly skewMs: number;
}

export function chaosPlan(seed: number, faults: FaultOptions, producers: number): ChaosPlan {
  const r = Rng.derive(seed, 'config');
  const on = (k: keyof FaultOptions) => faults[k] !== false;
  const leaseMs = r.int(40, 250);
  const some = (p: number, max: number) => (r.chance(p) ? Number(r.between(0, max).toFixed(4)) : 0);
  const engine: FaultPlan = {
    conflict: some(0.6, 0.1),
    unknownResult: some(0.6, 0.06),
    unknownResultNotApplied: some(0.5, 0.04),
    failBeforeCommit: some(0.5, 0.04),
    ...(r.chance(0.5) ? { commitDelayMs: [0, r.int(1, 8)] as const } : {}),
  };
  const crash = {
    txRate: r.pick([0, 0.003, 0.01, 0.03]),
    thunkRate: r.pick([0, 0.15, 0.35]),
    everyMs: r.pick([0, 150, 400, 1_000]),
    restartMs: r.int(0, 3 * leaseMs),
    reuseName: r.pick([0, 0.5]),
    restartEveryMs: r.pick([0, 0, 500, 1_500]),
  };
  const crashes = on('crashes') ? crash : { ...crash, txRate: 0, thunkRate: 0, everyMs: 0 };
  const partition = r.chance(0.5) ? { everyMs: r.pick([200, 600]), maxMs: r.int(leaseMs, 3 * leaseMs) } : { everyMs: 0, maxMs: 0 };
  return {
    seed,
    producers,
    consumers: r.int(1, 3),
    actorOptions: { leaseMs, maxBatchMessages: r.pick([1, 2, 3, 8, 32, 256]), thunkAttempts: r.int(3, 6), thunkRetryMs: r.int(2, 40), idleMs: r.pick([50, 1_000, 30_000]) },
    pollMs: r.int(20, 300),
    engine: on('engine') ? engine : {},
    crash: on('restarts') ? crashes : { ...crashes, restartEveryMs: 0 },
    partition: on('partitions') ? partition : { everyMs: 0, maxMs: 0 },
    skewMs: on('clockSkew') ? Rng.derive(seed, 'skew').pick([0, 0, 20, 250, 1_500]) : 0,
  };
}
