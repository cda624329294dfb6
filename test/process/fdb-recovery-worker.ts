/**
 * A process of the FoundationDB recovery test (test/process/fdb-recovery.test.ts), on the cluster
 * of CLUSTER_FILE:
 *
 * - `consume CLUSTER_FILE NAME`: serves RecoveryLog until killed; prints `{"ready":true}`;
 * - `produce CLUSTER_FILE P ACTORS COUNT MS`: sends COUNT messages tagged `p<P>-<i>` (one in ten a
 *   call, the rest dispatches, no idempotency key: exactly once is dgen's job) to ACTORS actors,
 *   paced over MS, 20 in flight at most; prints `{"sent":n}` as they resolve, then
 *   `{"done":true,"failed":[…],"slowest":{dispatch,call}}` with every operation that rejected (code,
 *   stored claim, tag) and the longest a dispatch and a call took, in ms.
 *
 * Both print `{"fatal":…}` and exit 1 on an uncaught exception or unhandled rejection.
 */
import { createSystem, foundationdb, isDgenError } from '../../src/index.js';
import { actorOf, RecoveryLog } from './fdb-recovery-actor.js';

const [mode, clusterFile, a, b, c, d] = process.argv.slice(2);
const say = (line: unknown) => process.stdout.write(JSON.stringify(line) + '\n');
for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
  process.on(event, (e: unknown) => {
    say({ fatal: `${event}: ${e instanceof Error ? e.stack : String(e)}` });
    process.exit(1);
  });
}
const system = await createSystem({ backend: foundationdb({ clusterFile: clusterFile! }) });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (mode === 'consume') {
  system.serve(RecoveryLog, { consumerName: `${a}-${process.pid}` });
  say({ ready: true });
  setInterval(() => {}, 1 << 30);
} else if (mode === 'produce') {
  const [producer, actors, count, ms] = [Number(a), Number(b), Number(c), Number(d)];
  const failed: unknown[] = [];
  let sent = 0;
  const slowest = { dispatch: 0, call: 0 };
  const started = Date.now();
  const inFlight = new Set<Promise<void>>();
  say({ ready: true });
  for (let i = 0; i < count; i++) {
    const due = started + (ms * i) / count;
    if (due > Date.now()) await sleep(due - Date.now());
    while (inFlight.size >= 20) await Promise.race(inFlight);
    const tag = `p${producer}-${i}`;
    const ref = system.ref(RecoveryLog, actorOf(i, actors));
    const issued = Date.now();
    const verb = i % 10 === 0 ? 'call' : 'dispatch';
    const op = verb === 'call' ? ref.call.ask(tag, { timeout: 120_000 }).then(() => undefined) : ref.dispatch.add(tag);
    const p: Promise<void> = op
      .then(() => {
        slowest[verb] = Math.max(slowest[verb], Date.now() - issued);
        if (++sent % 100 === 0) say({ sent });
      })
      .catch((e: unknown) => void failed.push({ tag, code: isDgenError(e) ? e.code : String(e), stored: (e as { stored?: unknown }).stored }))
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  await Promise.all(inFlight);
  say({ done: true, sent, failed, slowest });
  await system.close();
  process.exit(0);
} else throw new Error(`unknown mode ${mode}`);
