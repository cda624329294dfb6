/**
 * Engine benchmark: transactions per second and transact() latency of each storage engine for three
 * small workloads, one at a time (sequential latency) and with 32 in flight (throughput).
 *
 *   npx tsx bench/engines.ts [--seconds=1.5] [--engines=memory,lmdb,lmdb-nosync] [--inflight=1,32,100] [--workloads=rmw-1,…]
 *
 * Prints one JSON document to stdout and a short table to stderr.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tuple from 'fdb-tuple';
import type { Backend, Transaction } from '../src/backend/contract.js';
import { memory } from '../src/backend/memory.js';
import { lmdb } from '../src/backend/lmdb.js';

interface BenchEngine {
  readonly name: string;
  readonly note: string;
  open(dir: string): Promise<Backend>;
}

const ENGINES: readonly BenchEngine[] = [
  { name: 'memory', note: 'in-process MVCC, no I/O', open: async () => memory() },
  { name: 'lmdb', note: 'durable: every commit synced to disk', open: async (dir) => lmdb({ path: join(dir, 'durable') }) },
  { name: 'lmdb-nosync', note: 'commits not synced (survive a process crash, not an OS crash)', open: async (dir) => lmdb({ path: join(dir, 'nosync'), noSync: true }) },
];

interface Workload {
  readonly name: string;
  readonly description: string;
  /** Does not run with one transaction in flight (only meaningful under concurrency). */
  readonly concurrentOnly?: boolean;
  /** Runs with one transaction in flight only (a measure of CPU per transaction). */
  readonly serialOnly?: boolean;
  /** One transaction body; `worker` is the index of the in-flight slot, `i` a running counter. */
  body(tx: Transaction, worker: number, i: number): void | Promise<void>;
}

const root = tuple.pack(['bench', Date.now()]);
const key = (...items: tuple.TupleItem[]) => Buffer.concat([root, tuple.pack(items)]);
const hundred = Buffer.alloc(100, 0x61);

const WORKLOADS: readonly Workload[] = [
  {
    name: 'write-1',
    description: 'one 100-byte key written, no reads',
    body: (tx, w, i) => tx.set(key('w1', w, i % 1_000), hundred),
  },
  {
    name: 'rmw-1',
    description: 'read one key, write it back incremented (one key per in-flight slot: no conflicts)',
    body: async (tx, w) => {
      const k = key('rmw', w);
      const v = await tx.get(k);
      tx.set(k, Buffer.from(String(Number(v?.toString() ?? '0') + 1)));
    },
  },
  {
    name: 'rmw-hot',
    description: 'read-modify-write of the same key by every in-flight transaction (conflicts and retries)',
    concurrentOnly: true,
    body: async (tx) => {
      const k = key('hot');
      const v = await tx.get(k);
      tx.set(k, Buffer.from(String(Number(v?.toString() ?? '0') + 1)));
    },
  },
  {
    name: 'interleaved-1000',
    description: 'one transaction of 1,000 sets, each followed by a range clear (and every tenth by a range read) of its own keys',
    serialOnly: true,
    body: async (tx, w, i) => {
      for (let j = 0; j < 1_000; j++) {
        tx.set(key('il', w, i % 10, j, 'v'), hundred);
        tx.clearRange(key('il', w, i % 10, j, 'x'), key('il', w, i % 10, j, 'y'));
        if (j % 10 === 0) await tx.getRange(key('il', w, i % 10, j), key('il', w, i % 10, j + 1), { limit: 1 });
      }
    },
  },
  {
    name: 'write-100x100',
    description: '100 keys of 100 bytes written in one transaction',
    body: (tx, w, i) => {
      for (let j = 0; j < 100; j++) tx.set(key('w100', w, i % 100, j), hundred);
    },
  },
];

interface Result {
  engine: string;
  workload: string;
  concurrency: number;
  transactions: number;
  seconds: number;
  tps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  conflicts: number;
  retries: number;
}

function arg(name: string): string | undefined {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit?.slice(name.length + 3);
}

const seconds = Number(arg('seconds') ?? '1.5');
const only = arg('engines')?.split(',');
const inflight = (arg('inflight') ?? '1,32,100').split(',').map(Number);
const onlyWorkloads = arg('workloads')?.split(',');

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const round = (x: number, digits = 3) => Number(x.toFixed(digits));

/** Runs `workload` on `db` with `concurrency` transactions in flight for `ms` milliseconds. */
async function measure(db: Backend, engine: string, workload: Workload, concurrency: number, ms: number): Promise<Result> {
  // warm up: JIT, page cache, first keys
  const warmUntil = performance.now() + Math.min(200, ms / 5);
  while (performance.now() < warmUntil) await db.transact((tx) => workload.body(tx, 0, 0));

  const before = db.stats();
  const latencies: number[] = [];
  let i = 0;
  const started = performance.now();
  const until = started + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      while (performance.now() < until) {
        const n = i++;
        const t0 = performance.now();
        await db.transact((tx) => workload.body(tx, w, n), { retryLimit: 10_000 });
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1_000;
  const after = db.stats();
  const sorted = Float64Array.from(latencies).sort();
  return {
    engine,
    workload: workload.name,
    concurrency,
    transactions: latencies.length,
    seconds: round(elapsed),
    tps: Math.round(latencies.length / elapsed),
    p50Ms: round(percentile(sorted, 50)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted[sorted.length - 1] ?? NaN),
    conflicts: after.conflicts - before.conflicts,
    retries: after.retries - before.retries,
  };
}

async function main(): Promise<void> {
  const load = loadavg()[0]!;
  const dir = mkdtempSync(join(tmpdir(), 'dgen-bench-engines-'));
  const results: Result[] = [];
  const engines = ENGINES.filter((e) => only === undefined || only.includes(e.name));
  try {
    for (const engine of engines) {
      const db = await engine.open(dir);
      try {
        for (const workload of WORKLOADS.filter((w) => onlyWorkloads === undefined || onlyWorkloads.includes(w.name))) {
          for (const concurrency of inflight) {
            if (concurrency === 1 && workload.concurrentOnly === true) continue;
            if (concurrency > 1 && workload.serialOnly === true) continue;
            const r = await measure(db, engine.name, workload, concurrency, seconds * 1_000);
            results.push(r);
            process.stderr.write(
              `${r.engine.padEnd(12)} ${r.workload.padEnd(14)} x${String(r.concurrency).padEnd(3)} ` +
                `${String(r.tps).padStart(7)} tx/s   p50 ${r.p50Ms.toFixed(3).padStart(8)} ms   p99 ${r.p99Ms.toFixed(3).padStart(8)} ms` +
                (r.retries > 0 ? `   ${r.retries} retries` : '') +
                '\n',
            );
          }
        }
      } finally {
        await db.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const cpu = cpus();
  const report = {
    benchmark: 'engines',
    date: new Date().toISOString(),
    machine: { cpu: cpu[0]?.model ?? 'unknown', cores: cpu.length, node: process.version, platform: process.platform, arch: process.arch, loadAverageAtStart: round(load, 2) },
    secondsPerRun: seconds,
    latency: 'wall time of one transact() call (body and commit, including retries), in milliseconds',
    engines: engines.map((e) => ({ name: e.name, note: e.note })),
    workloads: WORKLOADS.map((w) => ({ name: w.name, description: w.description })),
    results,
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

await main();
