/**
 * vitest's global set-up: when FDB_CLUSTER_FILE is unset and `fdbserver` is on PATH, starts a
 * throwaway local FoundationDB server for the whole run (free loopback port, temporary data
 * directory, `single memory`) and hands its cluster file to every test file through
 * FDB_CLUSTER_FILE; stops it and removes its directory afterwards. Without a server, the
 * FoundationDB suites report themselves skipped with what to install
 * (see {@link fdbUnavailableReason}).
 */
import { canStartServer, startCluster } from '../../tools/fdb-server.js';

/** Set for the test files when no real server could be had here: why, and what to install. */
export const NO_SERVER_ENV = 'DGEN_FDB_UNAVAILABLE';

export default async function setup(): Promise<(() => Promise<void>) | void> {
  const given = process.env['FDB_CLUSTER_FILE'];
  if (given !== undefined && given !== '') return;
  if (!canStartServer()) {
    process.env[NO_SERVER_ENV] = 'fdbserver and fdbcli are not on PATH';
    return;
  }
  let cluster;
  try {
    cluster = await startCluster();
  } catch (e) {
    process.env[NO_SERVER_ENV] = `a local fdbserver could not be started (${e instanceof Error ? e.message : String(e)})`;
    return;
  }
  process.env['FDB_CLUSTER_FILE'] = cluster.clusterFile;
  return async () => {
    delete process.env['FDB_CLUSTER_FILE'];
    await cluster.stop();
  };
}
