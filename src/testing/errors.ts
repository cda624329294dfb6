/** The typed errors of the test toolkit (dgen/testing). */
import { DgenError } from '../errors.js';

/**
 * `system.settle()` (or `advance`) found work still pending when its time ran out: a message
 * that keeps failing and being retried, a thunk that never returns, an actor sent to and served
 * by nobody in this test system is not counted (serve it to have it drained). `pending` says what
 * was left.
 *
 * @example
 * ```ts
 * await t.settle({ timeoutMs: 2_000 }).catch((e) => { if (e instanceof SettleTimeoutError) console.log(e.pending); throw e; });
 * ```
 */
export class SettleTimeoutError extends DgenError {
  /** What was still pending, one line each (`account/alice: 3 queued message(s)`). */
  readonly pending: readonly string[];
  constructor(timeoutMs: number, pending: readonly string[]) {
    super('settle_timeout', `settle(): still busy after ${timeoutMs} ms (real time): ${pending.slice(0, 10).join('; ')}${pending.length > 10 ? '; …' : ''}. Is a thunk hanging, or a message failing forever with policy 'halt'?`);
    this.pending = pending;
  }
}

/**
 * `simulate()` found seeds whose runs broke an invariant (or crashed). The message holds, for
 * each failing seed, the line that replays it and a short trace of the instances involved.
 *
 * @example
 * ```ts
 * const result = await simulate({ ... , throwOnFailure: false });
 * if (!result.ok) console.log(result.failures[0].replay);
 * ```
 */
export class SimulationFailedError extends DgenError {
  /** The failing seeds, in order. */
  readonly seeds: readonly number[];
  constructor(seeds: readonly number[], report: string) {
    super('simulation_failed', `simulate(): ${seeds.length} seed(s) failed.\n${report}`);
    this.seeds = seeds;
  }
}
