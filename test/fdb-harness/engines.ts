/**
 * The conformance suite's entry for the FoundationDB engine over the simulated native client.
 * Test-only.
 */
import type { Engine } from '../conformance/engines.js';
import type { FoundationDBOptions } from '../../src/backend/foundationdb.js';
import { foundationdbPackageRoot } from './load.js';
import { simulateFoundationDB, type SimulatedFoundationDB } from './index.js';

/**
 * `foundationdb()` over a simulated native client: one simulated cluster per test file, which
 * every `open()` of the file connects to (as to a shared cluster). Skipped, with the reason, when
 * the `foundationdb` package is not installed. The engine runs with its defaults (no prefix: the
 * conformance cases use the whole 10,000-byte key budget, and keep apart through their own
 * subspaces) unless `engine` says otherwise; the prefix itself is tested in foundationdb.test.ts.
 */
export function simulatedFoundationDB(name = 'foundationdb-simulated', engine: Omit<FoundationDBOptions, 'binding' | 'clusterFile'> = {}): Engine {
  if (foundationdbPackageRoot() === undefined) {
    return {
      name,
      skip: 'the foundationdb package is not installed (npm ci keeps it; see docs/foundationdb.md)',
      open: () => Promise.reject(new Error(`${name} cannot run: the foundationdb package is not installed`)),
    };
  }
  let sim: SimulatedFoundationDB | undefined;
  return {
    name,
    async open() {
      sim ??= simulateFoundationDB();
      return sim.open(engine);
    },
    async cleanup() {
      await sim?.shutdown();
      sim = undefined;
    },
  };
}
