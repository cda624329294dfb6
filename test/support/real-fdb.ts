/**
 * The real FoundationDB cluster of a test run: FDB_CLUSTER_FILE, set by the user or by the global
 * set-up's throwaway server (test/support/global-setup.ts). Where there is none, the reason and
 * what to install, for the skip messages of the FoundationDB suites.
 */
import { INSTALL_SERVER } from '../../tools/fdb-server.js';
import { NO_SERVER_ENV } from './global-setup.js';

/** The cluster file of the run's real FoundationDB cluster, or undefined. */
export function realClusterFile(): string | undefined {
  const file = process.env['FDB_CLUSTER_FILE'];
  return file === undefined || file === '' ? undefined : file;
}

/** Why no real FoundationDB cluster is available to this run, and what to install. */
export function noRealClusterReason(): string {
  const why = process.env[NO_SERVER_ENV] ?? 'FDB_CLUSTER_FILE is not set';
  return `no FoundationDB server: ${why}; ${INSTALL_SERVER}`;
}
