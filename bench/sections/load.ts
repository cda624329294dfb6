/**
 * 7. Load: bursts of 1, 10, 100, 1,000, 10,000 and 50,000 concurrent calls and dispatches, issued
 * at once, to 100 and to 1,000 actors, (a) in a process that also serves the actors and (b) from a
 * process that does not, the actors being served by a child process (LMDB and FoundationDB only:
 * the memory engine lives in one process). For each burst: throughput (operations ÷ time until the
 * last one settled), p50 / p99 latency from issue to settlement, failures by error code. A dispatch
 * settles once enqueued; a call once its reply arrived. Then the memory one pending call holds.
 *
 * Then, on engines a child process can open (LMDB, FoundationDB), bursts with the default deadlines
 * (30 s call timeout) from caller processes to 100 actors served by another process: 1 × 50,000
 * and 4 × 10,000 concurrent calls (the goals of issue 22), checking that each call was applied
 * exactly once (`--load-callers=1x50000,4x10000`; `--load-callers=` skips them).
 *
 * Baselines: the bare engine writing the same number of keys in transactions of 1,000 keys, one
 * after another (the physical limit of the writes alone), and, in `detail.vsPeak`, the ratio of the
 * burst's throughput to the best throughput of its own sweep (the goal: ≥ 0.8 at 50,000).
 *
 *   npm run bench -- --sections=load --load-sizes=1,100,10000 --load-actors=100
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createSystem, isDgenError, type Backend, type System } from '../../src/index.js';
import { Counter } from '../lib/actors.js';
import type { Store } from '../lib/engine.js';
import { distribution, now, round, sleep } from '../lib/measure.js';
import { row, type Row, type SectionContext } from '../lib/report.js';
import type { CallerReport } from '../lib/load-caller.js';

const SIZES = [1, 10, 100, 1_000, 10_000, 50_000];
/** Caller processes × concurrent calls each, with the default deadlines, to 100 actors served by another process. */
const CALLER_BURSTS = '1x50000,4x10000';
/** Actors the caller processes call. */
const CALLED_ACTORS = 100;
const ACTORS = [100, 1_000];
/** No call or enqueue may time out before the burst settles: outcomes, not deadlines, are measured. */
const CALL_TIMEOUT_MS = 300_000;

function listArg(name: string, fallback: number[]): number[] {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit === undefined ? fallback : hit.slice(name.length + 3).split(',').map(Number);
}

type Verb = 'call' | 'dispatch';
type Mode = 'serving process' | 'other process';

interface Burst {
  readonly n: number;
  readonly opsPerSec: number;
  readonly p50: number;
  readonly p99: number;
  readonly failures: Record<string, number>;
}

/** Issues `n` operations at once, round-robin over `actors` instances, and waits for every one. */
export async function burst(system: System, verb: Verb, n: number, actors: number, tag: string): Promise<Burst> {
  const latencies = new Float64Array(n);
  const failures: Record<string, number> = {};
  const t0 = now();
  const ops: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const ref = system.ref(Counter, `${tag}-${i % actors}`);
    const op = verb === 'call' ? ref.call.addGet(1, { timeout: CALL_TIMEOUT_MS }) : ref.dispatch.add(1);
    ops.push(
      op.then(
        () => void (latencies[i] = now() - t0),
        (e: unknown) => {
          latencies[i] = now() - t0;
          const code = isDgenError(e) ? e.code : String(e);
          failures[code] = (failures[code] ?? 0) + 1;
        },
      ),
    );
  }
  await Promise.all(ops);
  const ms = now() - t0;
  const d = distribution(Array.from(latencies));
  return { n, opsPerSec: (n / ms) * 1_000, p50: d.p50, p99: d.p99, failures };
}

/**
 * A child process serving the bench Counter on `store` (see bench/lib/load-child.ts).
 * DGEN_BENCH_PROFILE=DIR: it writes a CPU profile there (`npx tsx bench/profile-summary.ts DIR/*.cpuprofile`).
 */
export async function startServer(store: Store): Promise<ChildProcess> {
  const script = fileURLToPath(new URL('../lib/load-child.js', import.meta.url));
  const profile = process.env.DGEN_BENCH_PROFILE;
  const execArgv = profile !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [];
  const child = spawn(process.execPath, [...execArgv, script, ...store.child!], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`load-child exited with ${code}`)));
    createInterface({ input: child.stdout! }).once('line', () => resolve());
  });
  return child;
}

export async function stopServer(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(5_000)]);
  child.kill('SIGKILL');
}

/** A caller process (bench/lib/load-caller.ts) on `store`, ready to issue `n` calls; `report()` resolves with its figures. */
async function startCaller(store: Store, n: number, actors: number, tag: string): Promise<{ child: ChildProcess; report(): Promise<CallerReport> }> {
  const script = fileURLToPath(new URL('../lib/load-caller.js', import.meta.url));
  const profile = process.env.DGEN_BENCH_PROFILE;
  const execArgv = profile !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [];
  const child = fork(script, [String(n), String(actors), tag, ...store.child!], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const messages: unknown[] = [];
  const waiting: Array<(m: unknown) => void> = [];
  child.on('message', (m) => (waiting.length > 0 ? waiting.shift()!(m) : messages.push(m)));
  const next = () => (messages.length > 0 ? Promise.resolve(messages.shift()) : new Promise<unknown>((r) => waiting.push(r)));
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`load-caller exited with ${code}`))));
  await Promise.race([next(), exited]);
  return { child, report: () => Promise.race([next() as Promise<CallerReport>, exited]) };
}

async function stopCaller(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.send({ stop: true });
  await Promise.race([exited, sleep(10_000)]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

interface CallersFigure {
  readonly opsPerSec: number;
  readonly p50: number;
  readonly p99: number;
  readonly failures: Record<string, number>;
  /** Sum of the actors' counts once every call was processed: `callers × each` when each was applied exactly once. */
  readonly applied: number;
}

/**
 * `callers` processes each issue `each` concurrent calls with the default deadlines, at once, to
 * {@link CALLED_ACTORS} actors served by another process, on a fresh store. Throughput: all calls
 * ÷ the time from the go until the last caller reported; p50 / p99: the worst caller's.
 */
async function fromCallerProcesses(ctx: SectionContext, callers: number, each: number): Promise<CallersFigure> {
  const store = ctx.engine.store();
  const server = await startServer(store);
  const kids: ChildProcess[] = [];
  try {
    const started = await Promise.all(Array.from({ length: callers }, () => startCaller(store, each, CALLED_ACTORS, 'callers')));
    kids.push(...started.map((c) => c.child));
    const t0 = now();
    const reports = await Promise.all(started.map((c) => (c.child.send({ go: true }), c.report())));
    const ms = now() - t0;
    const failures: Record<string, number> = {};
    for (const r of reports) for (const [code, k] of Object.entries(r.failures)) failures[code] = (failures[code] ?? 0) + k;
    const applied = await appliedCount(store, 'callers', CALLED_ACTORS, callers * each);
    return {
      opsPerSec: ((callers * each) / ms) * 1_000,
      p50: Math.max(...reports.map((r) => r.p50)),
      p99: Math.max(...reports.map((r) => r.p99)),
      failures,
      applied,
    };
  } finally {
    await Promise.all(kids.map(stopCaller));
    await stopServer(server);
  }
}

/**
 * The sum of the counts of actors `TAG-0…` once it reached `expected` or stopped growing for 10 s
 * (calls that failed with `call_timeout` are still processed after their caller gave up).
 */
async function appliedCount(store: Store, tag: string, actors: number, expected: number): Promise<number> {
  const system = await createSystem({ backend: await store.open(), closeBackend: true });
  try {
    const sum = async () => (await Promise.all(Array.from({ length: actors }, (_, i) => system.ref(Counter, `${tag}-${i}`).query((s) => s.count)))).reduce((a, b) => a + b, 0);
    let last = await sum();
    let stable = now();
    while (last < expected && now() - stable < 10_000) {
      await sleep(250);
      const next = await sum();
      if (next !== last) stable = now();
      last = next;
    }
    return last;
  } finally {
    await system.close();
  }
}

/** One sweep of burst sizes for a verb, a number of actors and a mode, on a fresh store. */
async function sweep(ctx: SectionContext, verb: Verb, actors: number, mode: Mode, sizes: number[]): Promise<Burst[]> {
  const store = ctx.engine.store();
  const backend = await store.open();
  const child = mode === 'other process' ? await startServer(store) : undefined;
  const system = await createSystem({ backend, closeBackend: true });
  if (child === undefined) system.serve(Counter);
  const out: Burst[] = [];
  try {
    for (const n of sizes) {
      const b = await burst(system, verb, n, actors, verb); // the same actors at every size: warm after the first burst
      ctx.progress(`load ${verb} ×${n} → ${actors} actors, ${mode}: ${Math.round(b.opsPerSec)} ops/s, p50 ${round(b.p50)} ms, p99 ${round(b.p99)} ms, failures ${JSON.stringify(b.failures)}`);
      out.push(b);
    }
  } finally {
    await system.close();
    if (child !== undefined) await stopServer(child);
  }
  return out;
}

/** The bare engine writing `n` 16-byte keys in transactions of 1,000, one after another: writes per second. */
async function bareWrites(backend: Backend, n: number): Promise<number> {
  const t0 = now();
  for (let i = 0; i < n; i += 1_000) {
    await backend.transact((tx) => {
      for (let j = i; j < Math.min(n, i + 1_000); j++) tx.set(Buffer.from(`bare/${String(j).padStart(11, '0')}`), Buffer.alloc(48));
    });
  }
  return (n / (now() - t0)) * 1_000;
}

/** JS heap bytes one pending call holds: 10,000 calls to an actor nobody serves, measured once their enqueues committed. */
async function bytesPerPendingCall(ctx: SectionContext): Promise<{ perCall: number; bare: number }> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const n = 10_000;
  const system = await createSystem({ backend: await ctx.engine.store().open(), closeBackend: true });
  const ref = system.ref(Counter, 'pending');
  await ref.dispatch.add(0); // warm: the ref, its sender and the engine's first write
  gc();
  const before = process.memoryUsage().heapUsed;
  const calls = Array.from({ length: n }, () => ref.call.addGet(1, { timeout: 5_000 }).catch((e: unknown) => e));
  await sleep(2_000); // the enqueues commit; the calls then only wait
  gc();
  const perCall = (process.memoryUsage().heapUsed - before) / n;
  await Promise.all(calls);
  await system.close();
  // The bare minimum of any waiting call: a pending promise, its resolver in a Map, a timer.
  gc();
  const bareBefore = process.memoryUsage().heapUsed;
  const waiting = new Map<number, (v: unknown) => void>();
  const timers: NodeJS.Timeout[] = [];
  const promises = Array.from({ length: n }, (_, i) => new Promise((resolve) => (waiting.set(i, resolve), timers.push(setTimeout(resolve, 5_000)))));
  gc();
  const bare = (process.memoryUsage().heapUsed - bareBefore) / n;
  for (const t of timers) clearTimeout(t);
  for (const r of waiting.values()) r(undefined);
  await Promise.all(promises);
  return { perCall, bare };
}

export async function loadSection(ctx: SectionContext): Promise<Row[]> {
  const sizes = listArg('load-sizes', SIZES);
  const actorCounts = listArg('load-actors', ACTORS);
  const engine = ctx.engine.name;
  const rows: Row[] = [];
  const bareStore = await ctx.engine.store().open();
  const bare = await bareWrites(bareStore, 10_000);
  await bareStore.close();
  const probe = ctx.engine.store();
  const modes: Mode[] = probe.child === undefined ? ['serving process'] : ['serving process', 'other process'];
  for (const mode of modes) {
    for (const actors of actorCounts) {
      for (const verb of ['dispatch', 'call'] as const) {
        const results = await sweep(ctx, verb, actors, mode, sizes);
        const peak = Math.max(...results.map((r) => r.opsPerSec));
        for (const b of results) {
          const failed = Object.values(b.failures).reduce((a, x) => a + x, 0);
          rows.push(
            row({
              section: 'load',
              case: `${verb} ×${b.n.toLocaleString('en-US')} → ${actors} actors, ${mode}`,
              engine,
              metric: 'throughput',
              unit: 'ops/s',
              better: 'higher',
              dgen: b.opsPerSec,
              baselines: { bare },
              detail: { p50Ms: b.p50, p99Ms: b.p99, failures: b.failures, vsPeak: round(b.opsPerSec / peak) },
              note: `p50 ${round(b.p50)} ms, p99 ${round(b.p99)} ms, ${failed === 0 ? 'no failures' : `failures ${JSON.stringify(b.failures)}`}, ${round(b.opsPerSec / peak)}× sweep peak`,
            }),
          );
        }
      }
    }
  }
  if (probe.child !== undefined) {
    const specs = (process.argv.find((a) => a.startsWith('--load-callers='))?.slice('--load-callers='.length) ?? CALLER_BURSTS).split(',').filter((x) => x !== '');
    for (const spec of specs) {
      const [callers, each] = spec.split('x').map(Number) as [number, number];
      const f = await fromCallerProcesses(ctx, callers, each);
      const failed = Object.values(f.failures).reduce((a, x) => a + x, 0);
      const once = f.applied === callers * each ? 'each applied once' : `applied ${f.applied} times for ${callers * each} calls`;
      ctx.progress(`load ${callers} caller process(es) × ${each} calls → ${CALLED_ACTORS} actors, default deadlines: ${Math.round(f.opsPerSec)} calls/s, p50 ${round(f.p50)} ms, p99 ${round(f.p99)} ms, failures ${JSON.stringify(f.failures)}, ${once}`);
      rows.push(
        row({
          section: 'load',
          case: `${callers} caller process${callers === 1 ? '' : 'es'} × ${each.toLocaleString('en-US')} concurrent calls → ${CALLED_ACTORS} actors served by another process, default deadlines`,
          engine,
          metric: 'throughput',
          unit: 'calls/s',
          better: 'higher',
          dgen: f.opsPerSec,
          baselines: { bare },
          detail: { p50Ms: f.p50, p99Ms: f.p99, failures: f.failures, applied: f.applied, calls: callers * each },
          note: `p50 ${round(f.p50)} ms, p99 ${round(f.p99)} ms, ${failed === 0 ? 'all answered' : `failures ${JSON.stringify(f.failures)}`}, ${once}`,
        }),
      );
    }
  }
  const memory = await bytesPerPendingCall(ctx);
  rows.push(
    row({
      section: 'load',
      case: 'memory per pending call (10,000 calls waiting)',
      engine,
      metric: 'JS heap',
      unit: 'bytes',
      better: 'lower',
      dgen: memory.perCall,
      baselines: { bare: memory.bare },
      note: 'bare: a pending promise, its resolver in a Map and a timer',
    }),
  );
  return rows;
}
