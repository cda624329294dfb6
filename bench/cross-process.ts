/**
 * Cross-process call latency on LMDB: a caller process and a serving process on one database,
 * calls one at a time to an idle actor, for each way another process learns of a commit:
 *
 * - `poll-10ms`: no notifications, the watches of both processes poll every 10 ms (what every
 *   LMDB database did before the notify file; `lmdb({ notify: false })`);
 * - `notify`: the notify file (the default), polling only every 1,000 ms as a fallback.
 *
 * First the engine alone: from a commit to a watch on its key firing in another process. Then
 * the call. Baselines in the same run: the same call served in the caller's own process, and one bare
 * fsynced commit of one key. Beside each latency: the writing commits per call of both processes
 * (each one fsync; read from the database's commit counter), the transactions each process ran
 * per call (read-only ones included), and the CPU time the caller's process spends idle for one second while a watch
 * is pending (a `state$` subscriber), which is what polling costs when nothing happens.
 *
 *   npx tsx bench/cross-process.ts [--calls=300] [--modes=poll-10ms,notify]
 *
 * Prints one JSON document to stdout and a table to stderr.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSystem, lmdb, type Backend, type LmdbOptions } from '../src/index.js';
import { Counter } from './lib/actors.js';
import { distribution, type Distribution } from './lib/measure.js';

const MODES: Record<string, Omit<LmdbOptions, 'path'>> = {
  'poll-10ms': { notify: false, watchPollMs: 10 },
  notify: {},
};

function arg(name: string): string | undefined {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit?.slice(name.length + 3);
}

const [role, rolePath, roleMode] = process.argv.slice(2);
const WATCHED = Buffer.from('watched');

if (role === 'watch') {
  // The watching process of watchLatency: arms a watch when asked, reports when it fired.
  const db = lmdb({ path: rolePath!, ...MODES[roleMode!] });
  process.on('message', async () => {
    const watch = await db.transact((tx) => tx.watch(WATCHED));
    process.send!({ armed: true });
    await watch.promise;
    process.send!({ firedAt: performance.timeOrigin + performance.now() });
  });
  process.send!({ ready: true });
} else if (role === 'serve') {
  // The serving process: serves the counter, reports its commit count when asked.
  const backend = lmdb({ path: rolePath!, ...MODES[roleMode!] });
  const system = await createSystem({ backend });
  system.serve(Counter);
  process.on('message', () => process.send!({ commits: backend.stats().commits }));
  process.send!({ ready: true });
} else await main();

interface CallFigure {
  readonly mode: string;
  readonly latency: Distribution;
  readonly fsyncsPerCall: number;
  readonly callerTransactionsPerCall: number;
  readonly serverTransactionsPerCall: number;
}

/** The database's commit counter: one per writing commit of any process. */
async function commitCounter(db: Backend): Promise<bigint> {
  return db.transact((tx) => tx.getReadVersion());
}

async function crossProcess(mode: string, calls: number): Promise<CallFigure> {
  const path = mkdtempSync(join(tmpdir(), 'dgen-bench-xp-'));
  const child = fork(fileURLToPath(import.meta.url), ['serve', path, mode], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = () => new Promise<{ ready?: boolean; commits?: number }>((resolve) => child.once('message', resolve));
  try {
    await next();
    const backend = lmdb({ path, ...MODES[mode] });
    const system = await createSystem({ backend });
    const counter = system.ref(Counter, 'idle');
    for (let i = 0; i < 20; i++) await counter.call.addGet(1); // warm up both processes
    const callerBefore = backend.stats().commits;
    child.send('stats');
    const serverBefore = (await next()).commits!;
    const versionBefore = await commitCounter(backend);
    const samples: number[] = [];
    for (let i = 0; i < calls; i++) {
      await new Promise((r) => setTimeout(r, 2)); // the actor is idle again: its consumer settled
      const t0 = performance.now();
      await counter.call.addGet(1);
      samples.push(performance.now() - t0);
    }
    await new Promise((r) => setTimeout(r, 100)); // the last call's consumer settles
    const fsyncs = Number((await commitCounter(backend)) - versionBefore);
    const callerCommits = backend.stats().commits - callerBefore - 1;
    child.send('stats');
    const serverCommits = (await next()).commits! - serverBefore;
    await system.close();
    return { mode, latency: distribution(samples), fsyncsPerCall: fsyncs / calls, callerTransactionsPerCall: callerCommits / calls, serverTransactionsPerCall: serverCommits / calls };
  } finally {
    child.kill();
    rmSync(path, { recursive: true, force: true });
  }
}

/** From a commit resolving in this process to a watch on its key firing in another process (ms). */
async function watchLatency(mode: string, n: number): Promise<Distribution> {
  const path = mkdtempSync(join(tmpdir(), 'dgen-bench-xp-'));
  const db = lmdb({ path, ...MODES[mode] });
  const child = fork(fileURLToPath(import.meta.url), ['watch', path, mode], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = () => new Promise<{ firedAt?: number }>((resolve) => child.once('message', resolve));
  try {
    await next();
    const samples: number[] = [];
    for (let i = 0; i < n + 10; i++) {
      child.send('arm');
      await next();
      await new Promise((r) => setTimeout(r, 3));
      await db.transact((tx) => tx.set(WATCHED, Buffer.from(String(i))));
      const committed = performance.timeOrigin + performance.now();
      const { firedAt } = await next();
      if (i >= 10) samples.push(firedAt! - committed);
    }
    return distribution(samples);
  } finally {
    child.kill();
    await db.close();
    rmSync(path, { recursive: true, force: true });
  }
}

/** The same call served in the caller's process. */
async function inProcess(calls: number): Promise<Distribution> {
  const path = mkdtempSync(join(tmpdir(), 'dgen-bench-xp-'));
  try {
    const system = await createSystem({ backend: lmdb({ path }) });
    system.serve(Counter);
    const counter = system.ref(Counter, 'idle');
    for (let i = 0; i < 20; i++) await counter.call.addGet(1);
    const samples: number[] = [];
    for (let i = 0; i < calls; i++) {
      await new Promise((r) => setTimeout(r, 2));
      const t0 = performance.now();
      await counter.call.addGet(1);
      samples.push(performance.now() - t0);
    }
    await system.close();
    return distribution(samples);
  } finally {
    rmSync(path, { recursive: true, force: true });
  }
}

/** One bare fsynced commit of one key, one at a time. */
async function bareCommit(calls: number): Promise<Distribution> {
  const path = mkdtempSync(join(tmpdir(), 'dgen-bench-xp-'));
  const db = lmdb({ path });
  try {
    const samples: number[] = [];
    for (let i = 0; i < calls + 20; i++) {
      const t0 = performance.now();
      await db.transact((tx) => tx.set(Buffer.from('k'), Buffer.from(String(i))));
      if (i >= 20) samples.push(performance.now() - t0);
    }
    return distribution(samples);
  } finally {
    await db.close();
    rmSync(path, { recursive: true, force: true });
  }
}

/** CPU (ms) the process spends in one idle second while a `state$` subscriber keeps a watch pending. */
async function idleCpu(mode: string): Promise<number> {
  const path = mkdtempSync(join(tmpdir(), 'dgen-bench-xp-'));
  try {
    const system = await createSystem({ backend: lmdb({ path, ...MODES[mode] }) });
    await system.ref(Counter, 'quiet').dispatch.add(1);
    const subscription = system.ref(Counter, 'quiet').state$.subscribe();
    await new Promise((r) => setTimeout(r, 300));
    const before = process.cpuUsage();
    await new Promise((r) => setTimeout(r, 1_000));
    const used = process.cpuUsage(before);
    subscription.unsubscribe();
    await system.close();
    return (used.user + used.system) / 1_000;
  } finally {
    rmSync(path, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const calls = Number(arg('calls') ?? '300');
  const modes = (arg('modes') ?? Object.keys(MODES).join(',')).split(',');
  const log = (s: string) => process.stderr.write(`${s}\n`);
  log(`cross-process calls on LMDB (fsync on) — ${cpus().length} cores, ${cpus()[0]?.model}, load average ${loadavg()[0]!.toFixed(2)}`);
  const bare = await bareCommit(calls);
  log(`bare fsynced 1-key commit      p50 ${bare.p50.toFixed(2)} ms  p99 ${bare.p99.toFixed(2)} ms`);
  const local = await inProcess(calls);
  log(`call served in-process         p50 ${local.p50.toFixed(2)} ms  p99 ${local.p99.toFixed(2)} ms`);
  const figures: (CallFigure & { watchFires: Distribution; idleCpuMsPerSecond: number })[] = [];
  for (const mode of modes) {
    const watchFires = await watchLatency(mode, Math.min(calls, 200));
    const f = { ...(await crossProcess(mode, calls)), watchFires, idleCpuMsPerSecond: await idleCpu(mode) };
    figures.push(f);
    log(`watch in another process fires, ${mode.padEnd(11)} p50 ${watchFires.p50.toFixed(2)} ms  p99 ${watchFires.p99.toFixed(2)} ms after the commit resolved`);
    log(
      `call cross-process ${mode.padEnd(11)} p50 ${f.latency.p50.toFixed(2)} ms  p99 ${f.latency.p99.toFixed(2)} ms  ` +
        `(${(f.latency.p50 / local.p50).toFixed(2)}× in-process p50)  fsynced commits per call ${f.fsyncsPerCall.toFixed(2)}; transactions per call: caller ${f.callerTransactionsPerCall.toFixed(2)}, server ${f.serverTransactionsPerCall.toFixed(2)}  ` +
        `idle CPU with a watch pending: ${f.idleCpuMsPerSecond.toFixed(1)} ms/s`,
    );
  }
  const report = { benchmark: 'cross-process', date: new Date().toISOString(), loadAverage: loadavg()[0], calls, bareCommit: bare, inProcess: local, crossProcess: figures };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}
