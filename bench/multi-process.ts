/**
 * dgen as deployed: every role in its own OS process, on one LMDB database (fsync on).
 *
 * - `calls`: caller processes each issue a burst of concurrent calls, with the default deadlines
 *   (30 s call timeout), to 100 Counter actors served by one other process: outcomes by code,
 *   throughput (calls ÷ time until the last one settled), p50 / p99.
 * - `pipeline`: producer processes, each with a number of dispatches in flight to random actors
 *   of 1,000, and consumer processes serving them, all running together for a window; then the
 *   producers stop and the consumers drain. End to end: messages ÷ time from the start until the
 *   last one was processed.
 *
 * Baseline in the same run (the physical limit of the writes): the bare engine, in one process,
 * writing the keys a message costs (the queue entry and its enqueue marker, then the entry
 * cleared with the actor's state and version key written), in batched transactions of 256
 * messages, one fsync per batch, one batch after another.
 *
 *   npm run bench:multi -- [--calls=1x10000,4x10000,1x50000] [--producers=4] [--inflight=50] [--consumers=2] [--actors=1000] [--seconds=5]
 *
 * Compiled with the rest of bench/ (like `npm run bench`); prints one JSON document to stdout and
 * a summary to stderr. `npm run bench` runs the same figures as its `multi-process` section (LMDB
 * with fsync only; bench/sections/multi-process.ts).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSystem, isDgenError, lmdb, type Backend, type LmdbBackend, type System } from '../src/index.js';
import { Counter } from './lib/actors.js';
import { distribution, now, round, sleep } from './lib/measure.js';

const SELF = fileURLToPath(import.meta.url);

function arg(name: string): string | undefined {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit?.slice(name.length + 3);
}

type Message = { readonly [k: string]: unknown };

/** A child process running `role` of this script; resolves once it said `ready`. */
async function child(role: string, ...args: string[]): Promise<ChildProcess & { next(): Promise<Message> }> {
  // DGEN_BENCH_PROFILE=DIR: every child process writes a CPU profile there (`npx tsx bench/profile-summary.ts DIR/*.cpuprofile`).
  const profile = process.env.DGEN_BENCH_PROFILE;
  const execArgv = [...process.execArgv, ...(profile !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [])];
  const c = fork(SELF, [role, ...args], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }) as ChildProcess & { next(): Promise<Message> };
  const inbox: Message[] = [];
  const waiting: Array<(m: Message) => void> = [];
  c.on('message', (m: Message) => (waiting.length > 0 ? waiting.shift()!(m) : inbox.push(m)));
  c.next = () => (inbox.length > 0 ? Promise.resolve(inbox.shift()!) : new Promise((r) => waiting.push(r)));
  const ready = await Promise.race([c.next(), new Promise<never>((_, reject) => c.once('exit', (code) => reject(new Error(`${role} exited with ${code}`))))]);
  if (ready.ready !== true) throw new Error(`${role}: unexpected ${JSON.stringify(ready)}`);
  return c;
}

async function stop(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null) return;
  const exited = new Promise((r) => c.once('exit', r));
  c.send({ stop: true });
  await Promise.race([exited, sleep(10_000)]);
  if (c.exitCode === null) c.kill('SIGKILL');
}

// Roles (child processes).

/** Answers `{ stats: true }` with this process's writing commits and LMDB write transactions. */
function reportStats(db: LmdbBackend): void {
  process.on('message', (m: Message) => {
    if (m.stats === true) process.send!({ commits: db.stats().commits, writeTransactions: db.writeTransactions });
  });
}

async function serveRole(path: string): Promise<void> {
  const db = lmdb({ path });
  const system = await createSystem({ backend: db, closeBackend: true });
  system.serve(Counter);
  reportStats(db);
  process.on('message', (m: Message) => {
    if (m.stop === true) void system.close().then(() => process.exit(0));
  });
  process.send!({ ready: true });
}

/** Issues `n` concurrent calls (default deadlines) round-robin over `actors` when told to go. */
async function callerRole(path: string, n: number, actors: number, tag: string): Promise<void> {
  const system = await createSystem({ backend: lmdb({ path }), closeBackend: true });
  process.on('message', async (m: Message) => {
    if (m.stop === true) return void system.close().then(() => process.exit(0));
    const latencies = new Float64Array(n);
    const failures: Record<string, number> = {};
    const t0 = now();
    const ops: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      const settle = () => void (latencies[i] = now() - t0);
      ops.push(
        system
          .ref(Counter, `${tag}${i % actors}`)
          .call.addGet(1)
          .then(settle, (e: unknown) => {
            settle();
            const code = isDgenError(e) ? e.code : String(e);
            failures[code] = (failures[code] ?? 0) + 1;
          }),
      );
    }
    await Promise.all(ops);
    const ms = now() - t0;
    const d = distribution(Array.from(latencies));
    process.send!({ n, ms, p50: d.p50, p99: d.p99, failures });
  });
  process.send!({ ready: true });
}

/** Keeps `inflight` dispatches in flight to random actors of `actors` until told to stop; reports how many were acknowledged. */
async function producerRole(path: string, inflight: number, actors: number): Promise<void> {
  const db = lmdb({ path });
  const system = await createSystem({ backend: db, closeBackend: true });
  reportStats(db);
  let running = true;
  let sent = 0;
  let failed = 0;
  const loop = async () => {
    while (running) {
      try {
        await system.ref(Counter, `p${Math.floor(Math.random() * actors)}`).dispatch.add(1);
        sent++;
      } catch {
        failed++;
      }
    }
  };
  let loops: Promise<void>[] = [];
  process.on('message', async (m: Message) => {
    if (m.go === true) loops = Array.from({ length: inflight }, loop);
    if (m.halt === true) {
      running = false;
      await Promise.all(loops);
      process.send!({ sent, failed });
    }
    if (m.stop === true) void system.close().then(() => process.exit(0));
  });
  process.send!({ ready: true });
}

// The parent.

async function sumCounts(system: System, prefix: string, actors: number): Promise<number> {
  const counts = await Promise.all(Array.from({ length: actors }, (_, i) => system.ref(Counter, `${prefix}${i}`).query((s) => s.count)));
  return counts.reduce((a, b) => a + b, 0);
}

export interface CallsFigure {
  readonly callers: number;
  readonly callsEach: number;
  readonly callsPerSec: number;
  readonly p50: number;
  readonly p99: number;
  readonly failures: Record<string, number>;
  readonly appliedOnce: boolean;
}

export async function calls(callers: number, each: number, actors: number): Promise<CallsFigure> {
  const path = mkdtempSync(join(tmpdir(), 'dgen-bench-mp-'));
  const kids: ChildProcess[] = [];
  try {
    kids.push(await child('serve', path));
    const callerKids = await Promise.all(Array.from({ length: callers }, () => child('caller', path, String(each), String(actors), 'c')));
    kids.push(...callerKids);
    const t0 = now();
    const reports = await Promise.all(callerKids.map((c) => (c.send({ go: true }), c.next())));
    const ms = now() - t0;
    const failures: Record<string, number> = {};
    for (const r of reports) for (const [code, k] of Object.entries(r.failures as Record<string, number>)) failures[code] = (failures[code] ?? 0) + k;
    const check = await createSystem({ backend: lmdb({ path }), closeBackend: true });
    const total = await sumCounts(check, 'c', actors);
    await check.close();
    return {
      callers,
      callsEach: each,
      callsPerSec: round(((callers * each) / ms) * 1_000),
      p50: Math.max(...reports.map((r) => r.p50 as number)),
      p99: Math.max(...reports.map((r) => r.p99 as number)),
      failures,
      appliedOnce: total === callers * each,
    };
  } finally {
    await Promise.all(kids.map(stop));
    rmSync(path, { recursive: true, force: true });
  }
}

export interface PipelineFigure {
  readonly producers: number;
  readonly inflight: number;
  readonly consumers: number;
  readonly actors: number;
  readonly windowMs: number;
  readonly messages: number;
  readonly enqueuedPerSec: number;
  readonly endToEndPerSec: number;
  readonly backlogAtStop: number;
  /** Over the whole run, all processes: transactions committed, LMDB write transactions (fsyncs) they took, and their rate. */
  readonly commits: number;
  readonly writeTransactions: number;
  readonly writeTransactionsPerSec: number;
}

export async function pipeline(producers: number, inflight: number, consumers: number, actors: number, seconds: number): Promise<PipelineFigure> {
  const path = mkdtempSync(join(tmpdir(), 'dgen-bench-mp-'));
  const kids: ChildProcess[] = [];
  try {
    const consumerKids = await Promise.all(Array.from({ length: consumers }, () => child('serve', path)));
    kids.push(...consumerKids);
    const producerKids = await Promise.all(Array.from({ length: producers }, () => child('producer', path, String(inflight), String(actors))));
    kids.push(...producerKids);
    const check = await createSystem({ backend: lmdb({ path }), closeBackend: true });
    try {
      const t0 = now();
      for (const p of producerKids) p.send({ go: true });
      await sleep(seconds * 1_000);
      const reports = await Promise.all(producerKids.map((p) => (p.send({ halt: true }), p.next())));
      const stopped = now();
      const messages = reports.reduce((a, r) => a + (r.sent as number), 0);
      const processedAtStop = await sumCounts(check, 'p', actors);
      let processed = processedAtStop;
      while (processed < messages) {
        await sleep(50);
        processed = await sumCounts(check, 'p', actors);
      }
      const end = now();
      const stats = await Promise.all([...consumerKids, ...producerKids].map((k) => (k.send({ stats: true }), k.next())));
      const commits = stats.reduce((a, x) => a + (x.commits as number), 0);
      const writeTransactions = stats.reduce((a, x) => a + (x.writeTransactions as number), 0);
      return {
        commits,
        writeTransactions,
        writeTransactionsPerSec: round((writeTransactions / (end - t0)) * 1_000),
        producers,
        inflight,
        consumers,
        actors,
        windowMs: round(stopped - t0),
        messages,
        enqueuedPerSec: round((messages / (stopped - t0)) * 1_000),
        endToEndPerSec: round((messages / (end - t0)) * 1_000),
        backlogAtStop: messages - processedAtStop,
      };
    } finally {
      await check.close();
    }
  } finally {
    await Promise.all(kids.map(stop));
    rmSync(path, { recursive: true, force: true });
  }
}

/**
 * The physical limit of a message's writes on this engine: per message a queue entry (100 B) and
 * its marker (70 B) set in one batch, then in the next batch the entry cleared and the actor's
 * state (40 B) and version (30 B) keys set; batches of 256 messages, one transaction (one fsync)
 * each, one after another. Messages per second.
 */
export async function bareLimit(backend: Backend, messages: number, actors: number): Promise<number> {
  const BATCH = 256;
  const key = (kind: string, i: number) => Buffer.from(`${kind}/${String(i).padStart(10, '0')}`);
  const t0 = now();
  for (let i = 0; i < messages; i += BATCH) {
    const n = Math.min(BATCH, messages - i);
    await backend.transact((tx) => {
      for (let j = i; j < i + n; j++) {
        tx.set(key('q', j), Buffer.alloc(100));
        tx.set(key('m', j), Buffer.alloc(70));
      }
    });
    await backend.transact((tx) => {
      for (let j = i; j < i + n; j++) {
        tx.clear(key('q', j));
        tx.set(key('s', j % actors), Buffer.alloc(40));
        tx.set(key('v', j % actors), Buffer.alloc(30));
      }
    });
  }
  return round((messages / (now() - t0)) * 1_000);
}

async function main(): Promise<void> {
  const callSpecs = (arg('calls') ?? '1x10000,4x10000,1x50000').split(',').filter((s) => s !== '');
  const producers = Number(arg('producers') ?? '4');
  const inflight = Number(arg('inflight') ?? '50');
  const consumers = Number(arg('consumers') ?? '2');
  const actors = Number(arg('actors') ?? '1000');
  const seconds = Number(arg('seconds') ?? '5');
  const log = (s: string) => process.stderr.write(`${s}\n`);
  log(`dgen across processes on LMDB (fsync on) — ${cpus().length} cores, ${cpus()[0]?.model ?? '?'}, load average ${loadavg()[0]!.toFixed(2)}`);

  const barePath = mkdtempSync(join(tmpdir(), 'dgen-bench-mp-bare-'));
  const bareDb = lmdb({ path: barePath });
  const bare = await bareLimit(bareDb, 50_000, actors);
  await bareDb.close();
  rmSync(barePath, { recursive: true, force: true });
  log(`bare engine: a message's writes in batches of 256, one fsync each: ${bare.toLocaleString('en-US')} msg/s`);

  const callFigures: CallsFigure[] = [];
  for (const spec of callSpecs) {
    const [c, n] = spec.split('x').map(Number);
    const f = await calls(c!, n!, 100);
    callFigures.push(f);
    log(
      `calls: ${c} caller process(es) × ${n!.toLocaleString('en-US')} concurrent → 100 actors served by another process: ${f.callsPerSec.toLocaleString('en-US')} calls/s, p50 ${f.p50} ms, p99 ${f.p99} ms, failures ${JSON.stringify(f.failures)}, each applied once: ${f.appliedOnce}`,
    );
  }

  const p = seconds > 0 ? await pipeline(producers, inflight, consumers, actors, seconds) : undefined;
  if (p !== undefined) {
    log(
      `pipeline: ${producers} producer processes × ${inflight} in flight → ${actors} actors, ${consumers} consumer processes, together for ${seconds} s: ${p.endToEndPerSec.toLocaleString('en-US')} msg/s end to end (${round(p.endToEndPerSec / bare)}× bare), enqueued ${p.enqueuedPerSec.toLocaleString('en-US')} msg/s, backlog at stop ${p.backlogAtStop}; ${p.commits.toLocaleString('en-US')} commits in ${p.writeTransactions.toLocaleString('en-US')} LMDB write transactions (${round(p.commits / p.writeTransactions)} a write transaction, ${p.writeTransactionsPerSec} write transactions/s across the processes)`,
    );
  }
  process.stdout.write(`${JSON.stringify({ date: new Date().toISOString(), loadavg: loadavg(), cores: cpus().length, bare, calls: callFigures, pipeline: p }, null, 2)}\n`);
}

// Run as a script (the parent, or a child in its role); imported by the bench's multi-process section, it runs nothing.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === SELF) {
  const [role, ...rest] = process.argv.slice(2);
  if (role === 'serve') await serveRole(rest[0]!);
  else if (role === 'caller') await callerRole(rest[0]!, Number(rest[1]), Number(rest[2]), rest[3]!);
  else if (role === 'producer') await producerRole(rest[0]!, Number(rest[1]), Number(rest[2]));
  else await main();
}
