/**
 * How many transactions admission lets run at once right now: `maxTransactions` while
 * transactions finish well inside their timeout, fewer once they do not. A fixed bound cannot be
 * right for every transaction size and every machine: 100 enqueues of 1,000 messages each, on a
 * single FoundationDB server sharing 2 busy cores, all outlasted their 5 s timeout, were tried
 * again together and timed out again, and nothing committed for a minute (a congestion collapse).
 *
 * Additive increase, multiplicative decrease, as TCP does with its congestion window: a
 * transaction that timed out halves the window, from the
 * number running then, once per wave (transactions that began before the last decrease say
 * nothing new); one that finished in under an eighth of its timeout adds 1 (doubling the window
 * each round, to come back fast once the load passed), one under a quarter adds 1 / window.
 * @internal
 */
import { isDgenError } from '../errors.js';

/** Errors that say the store did not keep up: the attempt ran out of time, or its commit's fate is unknown. */
const OUT_OF_TIME = new Set(['timed_out', 'transaction_too_old', 'commit_unknown_result']);

/** @internal */
export class CongestionWindow {
  private window: number;
  /** When the window was last decreased (performance.now()). */
  private decreasedAt = -Infinity;

  constructor(private readonly max: number) {
    this.window = max;
  }

  /** Transactions that may run at once now (at least 1). */
  get limit(): number {
    return Math.floor(this.window);
  }

  /** A transaction that began at `startedAt` (performance.now()) with `running` in flight finished after `ms`, within a timeout of `timeoutMs`. */
  finished(ms: number, timeoutMs: number): void {
    if (this.window >= this.max) return;
    if (ms < timeoutMs / 8) this.window = Math.min(this.max, this.window + 1);
    else if (ms < timeoutMs / 4) this.window = Math.min(this.max, this.window + 1 / this.window);
  }

  /** A transaction that began at `startedAt` with `running` in flight failed with `error`. */
  failed(startedAt: number, error: unknown, running: number): void {
    if (isDgenError(error) && OUT_OF_TIME.has(error.code)) this.decrease(startedAt, running);
  }

  private decrease(startedAt: number, running: number): void {
    if (startedAt < this.decreasedAt) return; // of the wave already counted
    this.window = Math.max(1, Math.min(this.window, running) / 2);
    this.decreasedAt = performance.now();
  }
}
