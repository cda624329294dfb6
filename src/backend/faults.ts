/**
 * Seeded fault injection for engines under test: conflicts, ambiguous commits (applied or not),
 * failures before commit and commit delays, drawn from one seeded source so a run replays.
 */
import { InvalidOperationError } from './errors.js';
import { seededRandom, type SeededRandom } from './random.js';

/**
 * A fault a commit can suffer:
 * - `conflict`: rejected with `not_committed`, nothing applied;
 * - `unknownResult`: applied, but reported as `commit_unknown_result`;
 * - `unknownResultNotApplied`: not applied, reported as `commit_unknown_result`;
 * - `failBeforeCommit`: not applied, reported as `commit_failed`.
 * - `stall`: the commit is sent, then held for `stallMs` before it applies (unless it conflicts
 *   by then), whatever its client decided meanwhile: past the attempt's timeout and grace the client
 *   hears `commit_unknown_result` while the commit is still in flight, as during a cluster recovery.
 */
export type FaultKind = 'conflict' | 'unknownResult' | 'unknownResultNotApplied' | 'failBeforeCommit' | 'stall';

/** The kinds, in the order their rates are drawn. */
export const FAULT_KINDS: readonly FaultKind[] = Object.freeze(['conflict', 'unknownResult', 'unknownResultNotApplied', 'failBeforeCommit', 'stall']);

/**
 * Probabilities (0–1, summing to at most 1) of each fault per committing transaction that
 * writes, and an optional delay before every such commit.
 */
export interface FaultPlan {
  readonly conflict?: number;
  readonly unknownResult?: number;
  readonly unknownResultNotApplied?: number;
  readonly failBeforeCommit?: number;
  readonly stall?: number;
  /** Milliseconds a `stall`ed commit is held before it applies. Default 12,000 (past a 5 s attempt and its 5 s grace). */
  readonly stallMs?: number;
  /** Milliseconds to wait before each commit: a fixed number, or uniform in `[min, max]`. */
  readonly commitDelayMs?: number | readonly [min: number, max: number];
}

/** The imperative handle of an engine's fault injection (see `memory({ faults })`). */
export interface FaultControl {
  /** The seed of the fault draws; pass it back as `seed` to replay a run. */
  readonly seed: number;
  /** The plan in force. */
  readonly plan: Readonly<FaultPlan>;
  /** Replaces the plan (rates and delay). Queued `injectNext` faults are kept. */
  set(plan: FaultPlan): void;
  /** Makes the next `count` (default 1) writing commits suffer `kind`, before any drawn fault. */
  injectNext(kind: FaultKind, count?: number): void;
  /** No more faults: empties the plan and the queue. Counters are kept. */
  clear(): void;
  /** How many faults of each kind were injected so far. */
  readonly injected: Readonly<Record<FaultKind, number>>;
}

const DEFAULT_STALL_MS = 12_000;

/** The fault source of one engine. @internal */
export class Faults implements FaultControl {
  private readonly random: SeededRandom;
  private current: FaultPlan = {};
  private active = false;
  private readonly queue: FaultKind[] = [];
  readonly injected: Record<FaultKind, number> = { conflict: 0, unknownResult: 0, unknownResultNotApplied: 0, failBeforeCommit: 0, stall: 0 };

  constructor(seed?: number, plan?: FaultPlan) {
    this.random = seededRandom(seed);
    if (plan !== undefined) this.set(plan);
  }

  get seed(): number {
    return this.random.seed;
  }

  get plan(): Readonly<FaultPlan> {
    return this.current;
  }

  /** A uniform number in [0, 1) from the seeded source (also used for retry jitter). */
  next(): number {
    return this.random.next();
  }

  set(plan: FaultPlan): void {
    let total = 0;
    for (const kind of FAULT_KINDS) {
      const rate = plan[kind] ?? 0;
      if (!(rate >= 0 && rate <= 1)) throw new InvalidOperationError(`Fault rate ${kind} must be between 0 and 1, got ${rate}`);
      total += rate;
    }
    if (total > 1 + 1e-9) throw new InvalidOperationError(`Fault rates add up to ${total}; they must add up to at most 1`);
    const delay = plan.commitDelayMs;
    if (delay !== undefined) {
      const [min, max] = typeof delay === 'number' ? [delay, delay] : delay;
      if (!(min >= 0 && max >= min)) throw new InvalidOperationError(`commitDelayMs must be ≥ 0 or [min, max] with 0 ≤ min ≤ max`);
    }
    const stallMs = plan.stallMs;
    if (stallMs !== undefined && !(stallMs >= 0)) throw new InvalidOperationError(`stallMs must be ≥ 0, got ${stallMs}`);
    this.current = { ...plan };
    this.active = total > 0 || (delay !== undefined && delay !== 0);
  }

  injectNext(kind: FaultKind, count = 1): void {
    if (!FAULT_KINDS.includes(kind)) throw new InvalidOperationError(`Unknown fault kind ${String(kind)}; use one of ${FAULT_KINDS.join(', ')}`);
    for (let i = 0; i < count; i++) this.queue.push(kind);
  }

  clear(): void {
    this.current = {};
    this.active = false;
    this.queue.length = 0;
  }

  /** Is any fault or delay possible? (Lets the engine skip the draws.) */
  get enabled(): boolean {
    return this.active || this.queue.length > 0;
  }

  /** Milliseconds to delay this commit (0: none). */
  delayMs(): number {
    const delay = this.current.commitDelayMs;
    if (delay === undefined) return 0;
    if (typeof delay === 'number') return delay;
    return delay[0] + this.random.next() * (delay[1] - delay[0]);
  }

  /** Milliseconds a `stall`ed commit is held. */
  stallMs(): number {
    return this.current.stallMs ?? DEFAULT_STALL_MS;
  }

  /** The fault this commit suffers, if any, counted as injected. */
  draw(): FaultKind | undefined {
    let kind = this.queue.shift();
    if (kind === undefined && this.active) {
      const u = this.random.next();
      let acc = 0;
      for (const k of FAULT_KINDS) {
        acc += this.current[k] ?? 0;
        if (u < acc) {
          kind = k;
          break;
        }
      }
    }
    if (kind !== undefined) this.injected[kind]++;
    return kind;
  }
}
