/**
 * A small driver of dgen's processing path for V8's sampling profiler. Only the measured phase is
 * profiled (through node:inspector, as `node --cpu-prof` would for the whole process):
 *
 *   npx tsx bench/profile.ts [workload] [engine] [seconds] [out.cpuprofile]
 *   npx tsx bench/profile-summary.ts out*.cpuprofile
 *
 * (`backlog` writes one profile per drained queue, out.0.cpuprofile, out.1.cpuprofile, …)
 *
 * workload: `backlog` (a consumer drains queues of 20,000 messages; default), `steady` (100
 * producers and the consumer of one actor in one process) or `many` (random messages over the
 * 100,000 stored actors of the many-actors benchmark) or `call` (calls one after another to an
 * idle actor served in the same process). engine: memory (default), lmdb,
 * lmdb-nosync. Keep the profile out of the repository.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSystem, lmdb, memory, type Backend } from '../src/index.js';
import { Counter } from './lib/actors.js';
import { now } from './lib/measure.js';
import { observeCommits, pump } from './lib/pump.js';
import { actorOf, createActors } from './sections/many-actors.js';

const [workload = 'backlog', engine = 'memory', secondsArg = '5', out = join(tmpdir(), `dgen-${workload}-${engine}.cpuprofile`)] = process.argv.slice(2);
const seconds = Number(secondsArg);
const dir = mkdtempSync(join(tmpdir(), 'dgen-profile-'));
const db: Backend = engine === 'memory' ? memory() : lmdb({ path: dir, noSync: engine === 'lmdb-nosync' });

const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 200 });
const profiles: object[] = [];
const startProfile = () => session.post('Profiler.start');
const stopProfile = async () => void profiles.push((await session.post('Profiler.stop')).profile);

/** Milliseconds spent draining (backlog) or in the load (steady, many). */
let measuredMs = 0;

async function backlog(): Promise<number> {
  let processed = 0;
  const until = now() + seconds * 1_000;
  for (let round = 0; now() < until; round++) {
    const producer = await createSystem({ backend: db });
    const ref = producer.ref(Counter, `b${round}`);
    await Promise.all(Array.from({ length: 20_000 }, () => ref.dispatch.add(1)));
    await producer.close();
    const system = await createSystem({ backend: db });
    const o = observeCommits();
    await startProfile(); // the drains only
    const d0 = now();
    system.serve(Counter, { ids: [`b${round}`] });
    while (o.processed() < 20_000) await o.signal.wait(20);
    measuredMs += now() - d0;
    await stopProfile();
    o.stop();
    processed += 20_000;
    await system.close();
  }
  return processed;
}

async function steady(many: boolean): Promise<number> {
  if (many) await createActors(db);
  const system = await createSystem({ backend: db });
  const o = observeCommits();
  system.serve(Counter);
  await startProfile();
  const l0 = now();
  const r = await pump({
    producers: 100,
    cap: 5_000,
    timing: { warmMs: 0, runMs: seconds * 1_000 },
    send: (_, i) => system.ref(Counter, many ? actorOf(i) : 'steady').dispatch.add(1),
    processed: o.processed,
    progress: o.signal,
  });
  measuredMs += now() - l0;
  await stopProfile();
  o.stop();
  await system.close();
  return r.processed;
}

async function calls(): Promise<number> {
  const system = await createSystem({ backend: db });
  system.serve(Counter, { ids: ['idle'] });
  const ref = system.ref(Counter, 'idle');
  await ref.call.addGet(1);
  await startProfile();
  const l0 = now();
  let n = 0;
  while (now() - l0 < seconds * 1_000) {
    await ref.call.addGet(1);
    n++;
  }
  measuredMs += now() - l0;
  await stopProfile();
  await system.close();
  return n;
}

const s0 = db.stats();
const run = { backlog, steady: () => steady(false), many: () => steady(true), call: calls }[workload];
if (run === undefined) throw new Error(`unknown workload ${workload}: backlog, steady, many or call`);
const n = await run();
const files = profiles.map((_, i) => (profiles.length === 1 ? out : out.replace(/(\.cpuprofile)?$/, `.${i}.cpuprofile`)));
profiles.forEach((p, i) => writeFileSync(files[i]!, JSON.stringify(p)));
const s1 = db.stats();
process.stderr.write(
  `${workload} on ${engine}: ${n} messages, ${Math.round(n / (measuredMs / 1_000))} msg/s while profiled; ` +
    `${s1.commits - s0.commits} commits, ${s1.conflicts - s0.conflicts} conflicts; profile in ${files.join(' ')}\n`,
);
await db.close();
rmSync(dir, { recursive: true, force: true });
