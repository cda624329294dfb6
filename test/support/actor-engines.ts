import { randomBytes } from 'node:crypto';
import { foundationdb } from '../../src/backend/foundationdb.js';
import { lmdb, memory } from '../../src/index.js';
import { inTempDir, realFoundationDB, type Engine } from '../conformance/engines.js';
import { simulatedFoundationDB } from '../fdb-harness/engines.js';

/**
 * The engines every actor suite runs against: memory, LMDB, FoundationDB over the simulated native
 * client, and a real FoundationDB cluster (FDB_CLUSTER_FILE, or the local server test/support/global-setup.ts starts) (each `open` in a fresh
 * keyspace of its own). An engine that cannot run here carries a `skip` reason.
 */
export function actorEngines(): Engine[] {
  const run = randomBytes(4).toString('hex');
  let opened = 0;
  return [
    { name: 'memory', open: async () => memory() },
    inTempDir('lmdb', (path) => lmdb({ path })),
    simulatedFoundationDB('foundationdb-simulated'),
    realFoundationDB('foundationdb', (clusterFile) => foundationdb({ clusterFile, prefix: ['dgen-actor-tests', run, ++opened] })),
  ];
}
