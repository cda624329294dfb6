/**
 * dgen benchmarks: dispatch, processing, call latency, write amplification, cold start, many
 * actors, load (bursts of concurrent operations), timers, sequential round trips to the store and several processes on one store, on every engine available, each figure beside its baselines (the bare engine doing the
 * same reads and writes, a naive JSON-blob actor, an in-memory Redux store).
 *
 *   npm run bench                                  # everything, about 4 minutes on 2 cores without FoundationDB,
 *                                                  # about 15 more with it (lmdb-nosync: dispatch, processing, latency only)
 *   npm run bench -- --engines=memory,lmdb         # some engines (memory, lmdb, lmdb-nosync, foundationdb)
 *   npm run bench -- --sections=dispatch,latency   # some sections (dispatch, processing, latency, amplification,
 *                                                  # cold-start, many-actors, load, timers, round-trips, multi-process, changes, telemetry)
 *   npm run bench -- --seconds=2                   # longer measurement windows (default 1)
 *   npm run bench -- --sections=load --load-sizes=1,1000,50000 --load-actors=100
 *                                                  # bursts of concurrent calls and dispatches (see sections/load.ts)
 *   npm run bench -- --sections=multi-process --engines=lmdb   # caller, producer and consumer processes (about 1 min)
 *
 * Prints one JSON document to stdout (`npm run -s bench > report.json` keeps npm's banner out of
 * it) and a table to stderr. FoundationDB is measured on the cluster of FDB_CLUSTER_FILE, or, when
 * that is unset and `fdbserver` is on PATH, on a throwaway local server the run starts and stops
 * (tools/fdb-server.ts, shared with the tests); it is reported as skipped otherwise.
 *
 * `npm run bench` compiles src/ and bench/ with tsc (into node_modules/.cache/dgen-bench) and runs
 * the JavaScript, as users run dgen's build: through tsx, esbuild's keepNames helper (`__name`)
 * wraps every closure dgen creates per message and costs several percent of the processing path.
 */
import { cpus, release, totalmem, type as osType } from 'node:os';
import { amplificationSection } from './sections/amplification.js';
import { coldStartSection } from './sections/cold-start.js';
import { dispatchSection } from './sections/dispatch.js';
import { latencySection } from './sections/latency.js';
import { loadSection } from './sections/load.js';
import { manyActorsSection } from './sections/many-actors.js';
import { lmdbProcessesSection } from './sections/lmdb-processes.js';
import { multiProcessSection } from './sections/multi-process.js';
import { processingSection } from './sections/processing.js';
import { roundTripsSection } from './sections/round-trips.js';
import { sideEffectsSection } from './sections/side-effects.js';
import { timersSection } from './sections/timers.js';
import { inspectorSection } from './sections/inspector.js';
import { changesSection } from './sections/changes.js';
import { telemetrySection } from './sections/telemetry.js';
import { benchEngines } from './lib/engine.js';
import { round } from './lib/measure.js';
import { table, type Row, type Section } from './lib/report.js';

const SECTIONS: ReadonlyArray<readonly [string, Section]> = [
  ['dispatch', dispatchSection],
  ['processing', processingSection],
  ['latency', latencySection],
  ['amplification', amplificationSection],
  ['cold-start', coldStartSection],
  ['many-actors', manyActorsSection],
  ['load', loadSection],
  ['timers', timersSection],
  ['round-trips', roundTripsSection],
  ['multi-process', multiProcessSection],
  ['inspector', inspectorSection],
  ['side-effects', sideEffectsSection],
  ['lmdb-processes', lmdbProcessesSection],
  ['changes', changesSection],
  ['telemetry', telemetrySection],
];

function arg(name: string): string | undefined {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit?.slice(name.length + 3);
}

async function main(): Promise<void> {
  const seconds = Number(arg('seconds') ?? '1');
  if (!(seconds > 0)) throw new Error('--seconds must be a positive number');
  const timing = { warmMs: Math.round(250 * seconds), runMs: Math.round(1_000 * seconds) };
  const onlySections = arg('sections')?.split(',');
  const sections = SECTIONS.filter(([name]) => onlySections === undefined || onlySections.includes(name));
  const { engines, skipped } = await benchEngines(arg('engines')?.split(','));

  const cpu = cpus();
  const machine = {
    cpu: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    memoryGiB: round(totalmem() / 2 ** 30),
    node: process.version,
    os: `${osType()} ${release()} (${process.platform}/${process.arch})`,
  };
  const log = (s: string) => process.stderr.write(`${s}\n`);
  log(`dgen benchmarks — ${machine.cores} cores, ${machine.cpu}, Node ${machine.node}, ${machine.os}`);
  for (const e of engines) log(`engine ${e.name}: ${e.durability}`);
  for (const s of skipped) log(`engine ${s.engine} skipped: ${s.reason}`);

  const started = performance.now();
  const rows: Row[] = [];
  const shared = new Map<string, number>();
  for (const engine of engines) {
    try {
      for (const [name, section] of sections) {
        if (onlySections === undefined && engine.sections !== undefined && !engine.sections.includes(name)) continue;
        const t0 = performance.now();
        const ctx = { engine, timing, shared, progress: (m: string) => log(`  [${engine.name}] ${m}`) };
        const got = await section(ctx);
        rows.push(...got);
        log(`  [${engine.name}] ${name} done in ${((performance.now() - t0) / 1_000).toFixed(1)} s`);
      }
    } finally {
      await engine.cleanup();
    }
  }
  rows.sort((a, b) => a.section.localeCompare(b.section)); // stable: engines stay in run order
  const elapsed = (performance.now() - started) / 1_000;
  log(table(rows));
  log(`\ntotal ${elapsed.toFixed(0)} s`);
  const report = {
    benchmark: 'dgen',
    date: new Date().toISOString(),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    machine,
    engines: engines.map((e) => ({ name: e.name, durability: e.durability })),
    skipped,
    timing: { warmupMs: timing.warmMs, windowMs: timing.runMs },
    baselines: {
      bare: 'the same engine performing exactly the reads and writes dgen performed (recorded, then replayed with no dgen code), with the same concurrency',
      naive: 'a durable actor storing its state as one JSON document (chunked over 90 KB): one read-modify-write transaction per message',
      redux: 'an in-memory Redux-style store (reducer returning a new state): the upper bound with nothing durable',
    },
    ratio: 'dgen ÷ baseline',
    seconds: round(elapsed),
    results: rows,
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

await main();
