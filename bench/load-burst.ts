/**
 * Bursts of the load section (bench/sections/load.ts) on one engine, outside the bench, to profile
 * them: the same Counter actors, one sweep of sizes for one verb, in the serving process or from
 * another process. With `node --cpu-prof` this process is profiled; DGEN_BENCH_PROFILE=DIR
 * profiles the serving child too. FoundationDB runs on a throwaway local server (bench/lib/engine.ts).
 *
 *   npx tsc -p bench/tsconfig.json && DGEN_BENCH_PROFILE=/tmp/prof node --cpu-prof --cpu-prof-dir=/tmp/prof \
 *     node_modules/.cache/dgen-bench/bench/load-burst.js --engine=foundationdb --mode=other --verb=call --actors=100 --sizes=1000,10000
 *   npx tsx bench/profile-summary.ts /tmp/prof/CPU.*.cpuprofile
 */
import { createSystem } from '../src/index.js';
import { Counter } from './lib/actors.js';
import { benchEngines } from './lib/engine.js';
import { round } from './lib/measure.js';
import { burst, startServer, stopServer } from './sections/load.js';

function arg(name: string, fallback: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit?.slice(name.length + 3) ?? fallback;
}

const verb = arg('verb', 'dispatch') as 'dispatch' | 'call';
const actors = Number(arg('actors', '1000'));
const sizes = arg('sizes', '1,10,100,1000,10000,50000').split(',').map(Number);
const other = arg('mode', 'same') === 'other';
const { engines, skipped } = await benchEngines([arg('engine', 'memory')]);
const engine = engines[0];
if (engine === undefined) throw new Error(`engine not available: ${JSON.stringify(skipped)}`);
try {
  const store = engine.store();
  const child = other ? await startServer(store) : undefined;
  const system = await createSystem({ backend: await store.open(), closeBackend: true });
  if (child === undefined) system.serve(Counter);
  try {
    for (const n of sizes) {
      const b = await burst(system, verb, n, actors, verb);
      process.stderr.write(`${engine.name} ${verb} ×${n} → ${actors}, ${other ? 'other' : 'serving'} process: ${Math.round(b.opsPerSec)} ops/s, p50 ${round(b.p50)} ms, p99 ${round(b.p99)} ms ${JSON.stringify(b.failures)}\n`);
    }
  } finally {
    await system.close();
    if (child !== undefined) await stopServer(child);
  }
} finally {
  await engine.cleanup();
}
