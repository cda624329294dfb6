/**
 * A simulation of FoundationDB's native client for tests without a cluster: the real JS layer of
 * the `foundationdb` package over a simulated native module whose databases are dgen's memory
 * engine. `foundationdb()` runs on it unchanged (through its internal `binding` option), so CI
 * catches misuse of the binding — option codes, versionstamp offsets, the retry protocol, error
 * classes — without libfdb_c. It says nothing about a real cluster's performance or failure
 * modes; the conformance suite runs against a real cluster when FDB_CLUSTER_FILE is set.
 *
 * @example
 * ```ts
 * const sim = simulateFoundationDB();
 * const db = await sim.open({ prefix: ['app'] });
 * sim.cluster().failNextCommits({ code: 1021, applied: true });
 * ```
 */
import type { Backend } from '../../src/backend/contract.js';
import { foundationdb, type FoundationDBOptions } from '../../src/backend/foundationdb.js';
import type { FoundationDBBinding } from '../../src/backend/foundationdb-binding.js';
import { memory } from '../../src/backend/memory.js';
import type { SimulatedCluster } from './cluster.js';
import { loadFoundationDBOver } from './load.js';
import { SimulatedNativeModule } from './native.js';

export type { CommitFault, SimulatedCluster } from './cluster.js';
export { Code as FdbErrorCode } from './fdb-errors.js';
export { SimulatedNativeModule } from './native.js';
export { foundationdbPackageRoot, loadFoundationDBOver } from './load.js';

/** One simulated client: its native module, the binding loaded over it, and its clusters. */
export interface SimulatedFoundationDB {
  readonly native: SimulatedNativeModule;
  readonly binding: FoundationDBBinding;
  /** The simulated cluster a cluster file names (default: the one `open()` uses without a clusterFile). */
  cluster(clusterFile?: string): SimulatedCluster;
  /** `foundationdb(options)` over this simulation. */
  open(options?: Omit<FoundationDBOptions, 'binding'>): Promise<Backend>;
  /** Closes the stores of every cluster. */
  shutdown(): Promise<void>;
}

/** Options of {@link simulateFoundationDB}. */
export interface SimulationOptions {
  /** The store of each simulated cluster (default: a fresh `memory()` per cluster). */
  readonly store?: (clusterFile: string) => Backend | Promise<Backend>;
}

/** Starts a simulated native client and loads the `foundationdb` package's JS layer over it. */
export function simulateFoundationDB(options: SimulationOptions = {}): SimulatedFoundationDB {
  const native = new SimulatedNativeModule({
    store: options.store ?? (() => memory()),
  });
  const binding = loadFoundationDBOver(native);
  return {
    native,
    binding,
    cluster: (clusterFile) => native.cluster(clusterFile),
    open: (opts = {}) => foundationdb({ ...opts, binding }),
    async shutdown() {
      for (const c of native.allClusters()) await c.shutdown();
    },
  };
}
