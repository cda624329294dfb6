/**
 * A simulated FoundationDB cluster: the store behind the simulated native client (one of dgen's
 * own engines, memory() by default), named by the cluster file the client opens, plus faults a
 * test can inject into the next commits (e.g. `commit_unknown_result` after applying the writes).
 * Test-only: part of the native client simulation, not FoundationDB.
 */
import type { Backend } from '../../src/backend/contract.js';

/** A fault for the next commit of any transaction on the cluster. */
export interface CommitFault {
  /** FoundationDB error code the commit fails with. */
  readonly code: number;
  /** Apply the writes before failing (as a `commit_unknown_result` whose commit went through). */
  readonly applied?: boolean;
}

export class SimulatedCluster {
  private store: Promise<Backend> | undefined;
  private readonly faults: CommitFault[] = [];
  /** Commits that reached the store (including those a fault reported as failed after applying). */
  commits = 0;

  constructor(
    readonly name: string,
    private readonly open: () => Backend | Promise<Backend>,
  ) {}

  /** The store, opened on first use. */
  backend(): Promise<Backend> {
    return (this.store ??= Promise.resolve(this.open()));
  }

  /** Makes the next commits fail, one fault each, in order. */
  failNextCommits(...faults: CommitFault[]): void {
    this.faults.push(...faults);
  }

  /** @internal */
  takeFault(): CommitFault | undefined {
    return this.faults.shift();
  }

  /** Closes the store (a later use opens a new, empty one). */
  async shutdown(): Promise<void> {
    const store = this.store;
    this.store = undefined;
    this.faults.length = 0;
    if (store !== undefined) await (await store).close();
  }
}
