/**
 * A calling process for the load section: opens the store the parent names and, when told to go,
 * issues `n` concurrent calls with the default deadlines (30 s call timeout), round-robin over
 * `actors` bench Counters named `TAG-i` (served by another process), then reports throughput,
 * p50 / p99 and failures by code. Talks to the parent over IPC. Run as compiled JavaScript.
 *
 *   node load-caller.js N ACTORS TAG lmdb PATH sync|nosync
 *   node load-caller.js N ACTORS TAG foundationdb CLUSTER_FILE PREFIX_JSON
 */
import { createSystem, isDgenError } from '../../src/index.js';
import { openChildStore } from './child-store.js';
import { Counter } from './actors.js';
import { distribution, now } from './measure.js';

const [n, actors, tag, kind, where, extra] = process.argv.slice(2);
const count = Number(n);

/** What one caller process reports after its burst. */
export interface CallerReport {
  readonly ms: number;
  readonly p50: number;
  readonly p99: number;
  readonly failures: Record<string, number>;
}

const system = await createSystem({ backend: await openChildStore(kind, where, extra), closeBackend: true });
process.on('message', async (m: { go?: boolean; stop?: boolean }) => {
  if (m.stop === true) return void system.close().then(() => process.exit(0));
  const latencies = new Float64Array(count);
  const failures: Record<string, number> = {};
  const t0 = now();
  const ops: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const settle = () => void (latencies[i] = now() - t0);
    ops.push(
      system
        .ref(Counter, `${tag}-${i % Number(actors)}`)
        .call.addGet(1)
        .then(settle, (e: unknown) => {
          settle();
          const code = isDgenError(e) ? e.code : String(e);
          failures[code] = (failures[code] ?? 0) + 1;
        }),
    );
  }
  await Promise.all(ops);
  const d = distribution(Array.from(latencies));
  const report: CallerReport = { ms: now() - t0, p50: d.p50, p99: d.p99, failures };
  process.send!(report);
});
process.send!({ ready: true });
