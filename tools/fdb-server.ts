/**
 * Throwaway local FoundationDB servers for tests and benchmarks: one `fdbserver` process (or
 * several forming one cluster) on free loopback ports, in a temporary directory that `stop()`
 * removes. Needs `fdbserver` and `fdbcli` on PATH (FoundationDB's server package).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { existsSync } from 'node:fs';

/** What to install when no server can be started here. */
export const INSTALL_SERVER =
  'install FoundationDB (the foundationdb-server and foundationdb-clients packages of the FoundationDB releases, ' +
  'which put fdbserver and fdbcli on PATH and libfdb_c in the library path), or set FDB_CLUSTER_FILE to a running cluster';

/** The first executable named `name` on PATH, or undefined. */
export function onPath(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** Whether this machine can start a local server (fdbserver and fdbcli on PATH). */
export function canStartServer(): boolean {
  return onPath('fdbserver') !== undefined && onPath('fdbcli') !== undefined;
}

/** A free TCP port on 127.0.0.1 (free when asked: the server binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** One fdbserver process of a {@link LocalCluster}. */
export interface ServerProcess {
  readonly port: number;
  readonly zone: string;
  child: ChildProcess | undefined;
}

/** A running local cluster. */
export interface LocalCluster {
  readonly clusterFile: string;
  readonly dir: string;
  readonly processes: readonly ServerProcess[];
  /** SIGKILLs process `i` (its data stays). */
  kill(i: number): Promise<void>;
  /** Starts process `i` again on its port and data directory. */
  restart(i: number): void;
  /** `fdbcli --exec command` against this cluster; its stdout. */
  cli(command: string, timeoutSeconds?: number): string;
  /** Kills every process and removes the directory. */
  stop(): Promise<void>;
}

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  /** Server processes, each in its own zone (default 1). */
  readonly processes?: number;
  /** Redundancy mode (default `single`; `double` needs 2 processes or more). */
  readonly redundancy?: 'single' | 'double' | 'triple';
  /** How long to wait for the database to become available (default 60 s). */
  readonly availableWithinMs?: number;
}

function startProcess(dir: string, clusterFile: string, p: ServerProcess): void {
  const data = join(dir, `data-${p.port}`);
  const logs = join(dir, `logs-${p.port}`);
  mkdirSync(data, { recursive: true });
  mkdirSync(logs, { recursive: true });
  const child = spawn(
    'fdbserver',
    ['-p', `127.0.0.1:${p.port}`, '-C', clusterFile, '-d', data, '-L', logs, '--locality-zoneid', p.zone, '--locality-machineid', p.zone],
    { stdio: 'ignore' },
  );
  child.on('error', () => {}); // an exit is what matters; a spawn error shows as no availability
  // A throwaway server never outlives the process that started it, even when that one fails.
  const orphan = () => child.kill('SIGKILL');
  process.once('exit', orphan);
  child.once('exit', () => process.off('exit', orphan));
  p.child = child;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function waitAvailable(cli: LocalCluster['cli'], withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  let last = '';
  while (Date.now() < deadline) {
    last = cli('status minimal', 5);
    if (last.includes('The database is available')) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the local FoundationDB cluster did not become available within ${withinMs} ms (last status: ${last.trim() || 'none'})`);
}

/**
 * Starts a new local cluster in a temporary directory: `processes` fdbservers on free loopback
 * ports, each its own zone and machine, configured `new <redundancy> memory`, and resolves once
 * `status minimal` says the database is available.
 */
export async function startCluster(options: ClusterOptions = {}): Promise<LocalCluster> {
  const count = options.processes ?? 1;
  const dir = mkdtempSync(join(tmpdir(), 'dgen-fdb-'));
  const ports: number[] = [];
  while (ports.length < count) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  const clusterFile = join(dir, 'fdb.cluster');
  writeFileSync(clusterFile, `test${process.pid}:test@${ports.map((p) => `127.0.0.1:${p}`).join(',')}\n`);
  const processes: ServerProcess[] = ports.map((port, i) => ({ port, zone: `z${i}`, child: undefined }));
  const cli = (command: string, timeoutSeconds = 10): string => {
    const r = spawnSync('fdbcli', ['-C', clusterFile, '--timeout', String(timeoutSeconds), '--exec', command], {
      encoding: 'utf8',
      timeout: (timeoutSeconds + 5) * 1000,
    });
    return `${r.stdout ?? ''}${r.stderr ?? ''}`;
  };
  const cluster: LocalCluster = {
    clusterFile,
    dir,
    processes,
    async kill(i) {
      const child = processes[i]!.child;
      if (child === undefined) return;
      child.kill('SIGKILL');
      await exited(child);
      processes[i]!.child = undefined;
    },
    restart(i) {
      startProcess(dir, clusterFile, processes[i]!);
    },
    cli,
    async stop() {
      for (const p of processes) {
        if (p.child === undefined) continue;
        p.child.kill('SIGKILL');
        await exited(p.child);
        p.child = undefined;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    for (const p of processes) startProcess(dir, clusterFile, p);
    const configured = cli(`configure new ${options.redundancy ?? 'single'} memory`, 30);
    if (!/Database created|Configuration changed/.test(configured)) {
      throw new Error(`configuring the local FoundationDB cluster failed: ${configured.trim()}`);
    }
    await waitAvailable(cli, options.availableWithinMs ?? 60_000);
    return cluster;
  } catch (e) {
    await cluster.stop();
    throw e;
  }
}
