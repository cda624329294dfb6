/**
 * The conformance suite's entry for the FoundationDB engine over the simulated native client.
 * Test-only.
 */
import type { Engine } from '../conformance/engines.js';
import type { FoundationDBOptions } from '../../src/backend/foundationdb.js';
import { foundationdbPackageRoot } from './load.js';
import { simulateFoundationDB, type SimulatedFoundationDB } from './index.js';

/**
 * The keys of the conformance cases are the whole key budget (the 10,000-byte case uses every
 * byte), and a prefix takes its bytes from that budget on FoundationDB; the cases keep apart
 * through their own subspaces, so the suite runs the engine without a prefix. The prefix itself is
 * tested in test/fdb-harness/foundationdb.test.ts.
 */
export const CONFORMANCE_PREFIX = new Uint8Array(0);

/**
 * FoundationDB fails a read of what the same transaction wrote with a versionstamped mutation
 * (`accessed_unreadable`, 1036), where the storage contract (and its case "versionstamped keys and
 * values are not visible before commit") has the read see nothing. Until the contract follows
 * FoundationDB, the suite runs the simulation with those reads answered by the store; the
 * simulation's default, FoundationDB's behaviour, is pinned in test/fdb-harness/foundationdb.test.ts,
 * and a real cluster (FDB_CLUSTER_FILE) fails that case.
 */
export const CONFORMANCE_UNREADABLE_VERSIONSTAMPS = false;

/** Options of {@link simulatedFoundationDB}. */
export interface SimulatedEngineOptions {
  /** Options of `foundationdb()` (default: `{ prefix: CONFORMANCE_PREFIX }`). */
  readonly engine?: Omit<FoundationDBOptions, 'binding' | 'clusterFile'>;
  /** See `SimulationOptions.unreadableVersionstamps` (default: {@link CONFORMANCE_UNREADABLE_VERSIONSTAMPS}). */
  readonly unreadableVersionstamps?: boolean;
}

/**
 * `foundationdb()` over a simulated native client: one simulated cluster per test file, which
 * every `open()` of the file connects to (as to a shared cluster). Skipped, with the reason, when
 * the `foundationdb` package is not installed. The defaults are the conformance suite's; other
 * suites (e.g. the actor suites) pass `{ engine: {}, unreadableVersionstamps: true }` to run with
 * the default prefix and FoundationDB's read-your-writes exactly.
 */
export function simulatedFoundationDB(name = 'foundationdb-simulated', options: SimulatedEngineOptions = {}): Engine {
  if (foundationdbPackageRoot() === undefined) {
    return {
      name,
      skip: 'the foundationdb package is not installed (npm ci keeps it; see docs/foundationdb.md)',
      open: () => Promise.reject(new Error(`${name} cannot run: the foundationdb package is not installed`)),
    };
  }
  const engine = options.engine ?? { prefix: CONFORMANCE_PREFIX };
  const unreadableVersionstamps = options.unreadableVersionstamps ?? CONFORMANCE_UNREADABLE_VERSIONSTAMPS;
  let sim: SimulatedFoundationDB | undefined;
  return {
    name,
    async open() {
      sim ??= simulateFoundationDB({ unreadableVersionstamps });
      return sim.open(engine);
    },
    async cleanup() {
      await sim?.shutdown();
      sim = undefined;
    },
  };
}
