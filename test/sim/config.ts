/** The shape of one simulated run, drawn from its seed. */
import type { ActorOptions, AdmissionOptions, FaultPlan } from '../../src/index.js';
import { Rng } from '../../src/testing/random.js';
import { evolutionPlan, type EvolutionPlan } from './evolution.js';

export interface SimConfig {
  readonly seed: number;
  /** Actor instance ids: `a…` of the dead-letter actor, `s…` of the halting one. */
  readonly actors: readonly string[];
  /** Processes that only produce (never crash). */
  readonly producers: number;
  /** Processes that only consume (crash and restart). */
  readonly consumers: number;
  /** Processes that do both (crash and restart; their callers die with them). */
  readonly mixed: number;
  /** Operations each producing process issues. */
  readonly opsPerProducer: number;
  readonly actorOptions: ActorOptions & { leaseMs: number };
  readonly pollMs: number;
  readonly concurrency: number;
  readonly callTimeoutMs: number;
  readonly faults: FaultPlan;
  readonly crash: {
    /** Probability that a consumer process crashes at one crash point of one transaction. */
    readonly txRate: number;
    /** Probability that a thunk run crashes its process (before or after calling the service). */
    readonly thunkRate: number;
    /** Mean ms between crashes at random instants (0: none). */
    readonly everyMs: number;
    /** Most ms before a crashed process restarts. */
    readonly restartMs: number;
    /** Probability that a restarted consumer takes the lease name of the dead one. */
    readonly reuseName: number;
    /** Mean ms between graceful restarts (close, then start again) of a consuming process (0: none). */
    readonly restartEveryMs: number;
  };
  /** Mean ms between partitions of a process (0: none), and their longest duration. */
  readonly partition: { readonly everyMs: number; readonly maxMs: number };
  readonly service: { readonly failRate: number; readonly maxLatencyMs: number };
  /**
   * Overload: in about a third of the runs every process admits only 1–2 transactions at once,
   * commits take 1–30 ms, and an operation waits at most 1–30 ms for its turn, so bursts fail with
   * `overloaded` (drawn from its own stream, so the rest of a seed's configuration is unchanged).
   * The invariant (check.ts): every error's `stored` claim is true.
   */
  readonly admission: AdmissionOptions | undefined;
  /**
   * Store recoveries, as a FoundationDB cluster that loses a process goes through, in about a
   * third of the runs: every `everyMs` or so while the chaos lasts, the store is away for a time
   * drawn from `downMs` (several virtual seconds, longer than an attempt's 5 s timeout). Reads wait
   * until it is back (attempts time out); commits sent meanwhile are held and land after the
   * recovery (some only after their client gave up on them: `commit_unknown_result` while in
   * flight), or are lost. Drawn from its own stream, so the rest of a seed's configuration is unchanged.
   */
  readonly recovery: { readonly everyMs: number; readonly downMs: readonly [number, number] } | undefined;
  /**
   * Clock skew: each process's clock runs ahead of true time by an offset drawn in [0, skewMs]
   * (0: every clock true), from its own stream so the rest of a seed's configuration is unchanged.
   */
  readonly skewMs: number;
  /** Two definition versions at once, with a rolling deploy (see evolution.ts); undefined: version 1 only. */
  readonly evolution: EvolutionPlan | undefined;
}

export interface ScaleOptions {
  /** Multiplies the number of operations (default 1). */
  readonly scale?: number;
}

export function configure(seed: number, options: ScaleOptions = {}): SimConfig {
  const r = Rng.derive(seed, 'config');
  const leaseMs = r.int(40, 250);
  const some = (p: number, max: number) => (r.chance(p) ? Number(r.between(0, max).toFixed(4)) : 0);
  const consumers = r.int(1, 3);
  const mixed = r.chance(0.5) ? 1 : 0;
  const cfg: SimConfig = {
    seed,
    actors: [...Array.from({ length: r.int(2, 4) }, (_, i) => `a${i}`), ...Array.from({ length: r.int(0, 2) }, (_, i) => `s${i}`)],
    producers: r.int(1, 3),
    consumers,
    mixed,
    opsPerProducer: Math.max(1, Math.round(r.int(12, 40) * (options.scale ?? 1))),
    actorOptions: {
      leaseMs,
      maxBatchMessages: r.pick([1, 2, 3, 8, 32, 256]),
      thunkAttempts: r.int(2, 6),
      thunkRetryMs: r.int(2, 40),
      idleMs: r.pick([50, 1_000, 30_000]),
    },
    pollMs: r.int(20, 300),
    concurrency: r.pick([1, 2, 64]),
    callTimeoutMs: r.int(2_000, 10_000),
    faults: {
      conflict: some(0.6, 0.1),
      unknownResult: some(0.6, 0.06),
      unknownResultNotApplied: some(0.5, 0.04),
      failBeforeCommit: some(0.5, 0.04),
      ...(r.chance(0.5) ? { commitDelayMs: [0, r.int(1, 8)] as const } : {}),
    },
    crash: {
      txRate: r.pick([0, 0.003, 0.01, 0.03]),
      thunkRate: r.pick([0, 0.15, 0.35]),
      everyMs: r.pick([0, 150, 400, 1_000]),
      restartMs: r.int(0, 3 * leaseMs),
      reuseName: r.pick([0, 0.5]),
      restartEveryMs: r.pick([0, 0, 500, 1_500]),
    },
    partition: r.chance(0.5) ? { everyMs: r.pick([200, 600]), maxMs: r.int(leaseMs, 3 * leaseMs) } : { everyMs: 0, maxMs: 0 },
    service: { failRate: r.pick([0, 0.1, 0.25]), maxLatencyMs: r.int(0, 60) },
    admission: undefined,
    recovery: recovery(seed),
    skewMs: Rng.derive(seed, 'skew').pick([0, 0, 20, 250, 1_500]),
    evolution: undefined,
  };
  const withEvolution = { ...cfg, evolution: evolutionPlan(seed, cfg) };
  const o = overload(seed);
  // Commits that take (virtual) time, so that operations really wait for their turn.
  return o === undefined ? withEvolution : { ...withEvolution, admission: o.admission, faults: { ...cfg.faults, commitDelayMs: o.commitDelayMs } };
}

function overload(seed: number): { admission: AdmissionOptions; commitDelayMs: readonly [number, number] } | undefined {
  const r = Rng.derive(seed, 'admission');
  if (!r.chance(0.35)) return undefined;
  return { admission: { maxTransactions: r.int(1, 2), queueTimeoutMs: r.int(1, 30) }, commitDelayMs: [1, r.int(5, 30)] };
}

function recovery(seed: number): SimConfig['recovery'] {
  const r = Rng.derive(seed, 'recovery');
  if (!r.chance(0.3)) return undefined;
  return { everyMs: r.int(4_000, 12_000), downMs: [r.int(1_000, 4_000), r.int(6_000, 12_000)] };
}
