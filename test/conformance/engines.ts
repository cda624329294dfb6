/**
 * The engines the conformance suite runs against. Adding an engine is one entry in `engines`.
 * An engine that cannot run here has `skip` set to the reason, which the suite reports as a
 * skipped case; `DGEN_ENGINES=memory,lmdb` restricts a run to the named engines.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend } from '../../src/backend/contract.js';
import { memory } from '../../src/backend/memory.js';
import { lmdb } from '../../src/backend/lmdb.js';
import { foundationdb } from '../../src/backend/foundationdb.js';
import { simulatedFoundationDB } from '../fdb-harness/engines.js';
import { noRealClusterReason, realClusterFile } from '../support/real-fdb.js';

export interface Engine {
  readonly name: string;
  /** Opens a backend on a fresh store (on a shared cluster: one that cases use through their own subspaces). */
  open(): Promise<Backend>;
  /** Removes what `open` left behind (temporary directories), after a test file. */
  cleanup?(): Promise<void>;
  /** Why this engine cannot run here; the suite then shows one skipped case with this reason. */
  readonly skip?: string;
  /** How long after a commit a watch in the same process may take to fire (ms; default 100). */
  readonly watchDelayMs?: number;
}

/** An engine opened in a new directory under os.tmpdir() at each `open`, all removed by `cleanup`. */
export function inTempDir(name: string, open: (path: string) => Backend | Promise<Backend>, more: Partial<Engine> = {}): Engine {
  let dir: string | undefined;
  let n = 0;
  return {
    name,
    ...more,
    async open() {
      dir ??= mkdtempSync(join(tmpdir(), `dgen-conformance-${name.replace(/\W+/g, '-')}-`));
      return open(join(dir, String(++n)));
    },
    async cleanup() {
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
      dir = undefined;
    },
  };
}

/**
 * An engine on the run's real FoundationDB cluster (FDB_CLUSTER_FILE, or the local server the
 * global set-up started); without one, skipped with what to install.
 */
export function realFoundationDB(name: string, open: (clusterFile: string) => Backend | Promise<Backend>, more: Partial<Engine> = {}): Engine {
  const clusterFile = realClusterFile();
  if (clusterFile === undefined) return unavailable(name, noRealClusterReason());
  return { name, ...more, open: async () => open(clusterFile) };
}

/** An engine listed for the record that cannot run, with the reason. */
export function unavailable(name: string, reason: string): Engine {
  return {
    name,
    skip: reason,
    open: () => Promise.reject(new Error(`${name} cannot run: ${reason}`)),
  };
}

const all: readonly Engine[] = [
  { name: 'memory', open: async () => memory() },
  inTempDir('lmdb', (path) => lmdb({ path })),
  // the commit path without fsync differs (synchronous when no other transaction is open)
  inTempDir('lmdb-nosync', (path) => lmdb({ path, noSync: true })),
  simulatedFoundationDB('foundationdb-simulated'),
  realFoundationDB('foundationdb', (clusterFile) => foundationdb({ clusterFile }), { watchDelayMs: 1_000 }),
];

const only = process.env['DGEN_ENGINES']?.split(',').map((s) => s.trim()).filter((s) => s !== '');

export const engines: readonly Engine[] = only === undefined || only.length === 0 ? all : all.filter((e) => only.includes(e.name));
