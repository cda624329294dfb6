import { randomBytes } from 'node:crypto';
import { foundationdb } from '../../src/backend/foundationdb.js';
import { afterEach } from 'vitest';
import { createSystem, lmdb, memory, type Backend, type System } from '../../src/index.js';
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

/**
 * Systems on `engine` for the tests of one describe block: `system()` opens a fresh store,
 * `system(true)` one more system on the store the last one opened (another process on the same
 * store). `wrap` puts a wrapper (a counting backend) between the system and the store. Every
 * system and store is closed after each test.
 */
export function systemsOn(engine: Engine): (share?: boolean, wrap?: (backend: Backend) => Backend) => Promise<System> {
  const open: System[] = [];
  let backend: Backend | undefined;
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    await backend?.close();
    backend = undefined;
    await engine.cleanup?.();
  });
  return async (share = false, wrap = (b: Backend) => b) => {
    if (!share || backend === undefined) backend = await engine.open();
    const s = await createSystem({ backend: wrap(backend), closeBackend: false });
    open.push(s);
    return s;
  };
}
