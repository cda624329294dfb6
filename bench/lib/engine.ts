/**
 * The engines a run measures, each opened fresh per measurement so that one measurement's data
 * (a long queue, a big state) does not slow the next: memory, LMDB with fsync (the default),
 * LMDB without fsync, and FoundationDB (imported lazily): the cluster of FDB_CLUSTER_FILE, or a
 * throwaway local server started for the run when FoundationDB is installed here.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend } from '../../src/backend/contract.js';
import { lmdb } from '../../src/backend/lmdb.js';
import { memory } from '../../src/backend/memory.js';
import { INSTALL_SERVER, canStartServer, startCluster, type LocalCluster } from '../../tools/fdb-server.js';

/** A place to keep data across a reopen (cold starts): open it again to see what was stored. */
export interface Store {
  open(): Promise<Backend>;
  /** How a child process opens the same store (bench/lib/load-child.ts); absent for the in-process memory engine. */
  readonly child?: readonly string[];
}

export interface BenchEngine {
  readonly name: string;
  /** Durability of a commit, as printed in the report. */
  readonly durability: string;
  /** The sections a full run measures on this engine (default: all). */
  readonly sections?: readonly string[];
  /** A fresh, empty store. */
  store(): Store;
  /** Removes what the engine left behind. */
  cleanup(): Promise<void>;
}

function memoryEngine(): BenchEngine {
  return {
    name: 'memory',
    durability: 'none (in-process MVCC, no I/O)',
    store() {
      // A "reopen" of the memory engine is the same data under a fresh system: there is no disk.
      let db: Backend | undefined;
      return { open: async () => (db ??= memory()) };
    },
    cleanup: async () => {},
  };
}

function lmdbEngine(noSync: boolean): BenchEngine {
  let root: string | undefined;
  let n = 0;
  return {
    name: noSync ? 'lmdb-nosync' : 'lmdb',
    durability: noSync ? 'noSync: commits not fsynced (survive a process crash, not an OS crash)' : 'fsync: every commit synced to disk before it resolves (the default)',
    // Without fsync only the throughput and latency figures change; the rest would repeat lmdb's.
    sections: noSync ? ['dispatch', 'processing', 'latency'] : undefined,
    store() {
      root ??= mkdtempSync(join(tmpdir(), 'dgen-bench-'));
      const path = join(root, String(n++));
      return { open: async () => lmdb({ path, noSync }), child: ['lmdb', path, noSync ? 'nosync' : 'sync'] };
    },
    cleanup: async () => {
      if (root !== undefined) rmSync(root, { recursive: true, force: true });
      root = undefined;
    },
  };
}

async function foundationdbEngine(clusterFile: string, server?: LocalCluster): Promise<BenchEngine> {
  const { foundationdb } = await import('../../src/backend/foundationdb.js');
  const run = `bench-${Date.now()}`;
  // Reach the cluster once before measuring anything (the engine connects on first use).
  const probe = await foundationdb({ clusterFile, prefix: ['dgen-bench', run] });
  try {
    await probe.transact((tx) => tx.get(Buffer.from('probe')), { timeoutMs: 5_000, retryLimit: 5 });
  } finally {
    await probe.close();
  }
  const prefixes: string[] = [];
  let n = 0;
  return {
    name: 'foundationdb',
    durability: server === undefined ? `cluster ${clusterFile} (FoundationDB's own durability)` : `a throwaway local fdbserver started for this run (single memory, cluster file ${clusterFile})`,
    store() {
      const prefix = ['dgen-bench', run, n++];
      prefixes.push(JSON.stringify(prefix));
      return { open: async () => patient(await foundationdb({ clusterFile, prefix })), child: ['foundationdb', clusterFile, JSON.stringify(prefix)] };
    },
    async cleanup() {
      // Clear everything this run wrote (one range under its run prefix).
      const db = await foundationdb({ clusterFile, prefix: ['dgen-bench', run] });
      try {
        await db.transact((tx) => tx.clearRange(Buffer.of(0x00), Buffer.of(0xff)));
      } finally {
        await db.close();
        await server?.stop();
      }
    },
  };
}

/** The timeout the bench gives a FoundationDB transaction that names none (see {@link patient}). */
const PATIENT_TIMEOUT_MS = 60_000;

/**
 * `db` with transactions that name no timeout given {@link PATIENT_TIMEOUT_MS} instead of
 * FoundationDB's 5 s: on a shared machine (load averages of 8 on 2 cores were seen) a burst of 100
 * concurrent bare transactions can outlast 5 s, and a figure should come out slower, not fail.
 */
function patient(db: Backend): Backend {
  return {
    kind: db.kind,
    get closed() {
      return db.closed;
    },
    stats: () => db.stats(),
    close: () => db.close(),
    transact: (fn, options) => db.transact(fn, { timeoutMs: PATIENT_TIMEOUT_MS, ...options }),
  };
}

/**
 * The cluster to measure: FDB_CLUSTER_FILE, or else a throwaway local server this run starts
 * (and the engine's cleanup stops) when `fdbserver` and `fdbcli` are on PATH, as the tests do.
 */
async function foundationdbCluster(): Promise<{ clusterFile: string; server?: LocalCluster } | { reason: string }> {
  const given = process.env.FDB_CLUSTER_FILE;
  if (given !== undefined && given !== '') return { clusterFile: given };
  if (!canStartServer()) return { reason: `FDB_CLUSTER_FILE is not set and fdbserver is not on PATH: ${INSTALL_SERVER}` };
  try {
    const server = await startCluster();
    return { clusterFile: server.clusterFile, server };
  } catch (e) {
    return { reason: `FDB_CLUSTER_FILE is not set and a local fdbserver could not be started: ${(e as Error).message}` };
  }
}

/** The engines named in `wanted` (default: memory, lmdb, lmdb-nosync, and foundationdb when a cluster is set or can be started). */
export async function benchEngines(wanted: readonly string[] | undefined): Promise<{ engines: BenchEngine[]; skipped: { engine: string; reason: string }[] }> {
  const engines: BenchEngine[] = [];
  const skipped: { engine: string; reason: string }[] = [];
  const want = (name: string) => wanted === undefined || wanted.includes(name);
  if (want('memory')) engines.push(memoryEngine());
  if (want('lmdb')) engines.push(lmdbEngine(false));
  if (want('lmdb-nosync')) engines.push(lmdbEngine(true));
  if (want('foundationdb')) {
    const cluster = await foundationdbCluster();
    if ('reason' in cluster) {
      skipped.push({ engine: 'foundationdb', reason: cluster.reason });
    } else {
      try {
        engines.push(await foundationdbEngine(cluster.clusterFile, cluster.server));
      } catch (e) {
        await cluster.server?.stop();
        skipped.push({ engine: 'foundationdb', reason: `cannot reach the cluster or load the engine: ${(e as Error).message}` });
      }
    }
  }
  return { engines, skipped };
}
