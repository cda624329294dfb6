/**
 * A process of the chaos test (test/process/chaos.test.ts), killed and restarted at random:
 *
 * - `consume PATH NAME`: serves the counter until killed;
 * - `produce PATH PLAN`: PLAN (JSON) names the producer, the increment ids it still has to get
 *   acknowledged, the calls it still owes, how many of its increments were acknowledged before,
 *   and the time by which to have sent everything (it paces itself). Increments carry the
 *   idempotency key `p<producer>-<id>`, so a restarted producer re-sends the unacknowledged ones
 *   and each still counts once. Lines: `{"a":"ranges"}` once increments are acknowledged,
 *   `{"c":reply,"lo":n,"i":k}` for a call's reply (lo: increments of this producer acknowledged
 *   before the call was issued, so the reply cannot be lower; i: issue order; ms: its latency),
 *   `{"failed":"error"}` for a call that failed (it is made again), `{"done":true}`.
 */
import { createSystem } from '../../src/index.js';
import { chunkOf, ChaosCounter, fromRanges, toRanges } from './chaos-actor.js';

const [mode, path, arg] = process.argv.slice(2);
const system = await createSystem({ path: path! });
const say = (line: unknown) => process.stdout.write(JSON.stringify(line) + '\n');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Plan {
  readonly producer: number;
  readonly ids: string;
  readonly calls: number;
  readonly acked: number;
  readonly until: number;
}

const CHUNK = 100;
const CALL_TIMEOUT_MS = 20_000;

if (mode === 'consume') {
  system.serve(ChaosCounter, { consumerName: `${arg}-${process.pid}`, pollMs: 200 });
  say({ ready: true });
  setInterval(() => {}, 1 << 30);
} else if (mode === 'produce') {
  const plan = JSON.parse(arg!) as Plan;
  const ref = system.ref(ChaosCounter, 'shared');
  const ids = fromRanges(plan.ids);
  const chunks = Math.ceil(ids.length / CHUNK);
  const started = Date.now();
  let acked = plan.acked;
  let callsDone = 0;
  let issued = 0;
  const calls = new Set<Promise<void>>();
  const call = () => {
    const lo = acked;
    const i = issued++;
    const sent = Date.now();
    const p: Promise<void> = ref.call
      .read(undefined, { timeout: CALL_TIMEOUT_MS })
      .then((c) => {
        callsDone++;
        say({ c, lo, i, ms: Date.now() - sent });
      })
      .catch((e: unknown) => void say({ failed: String(e), ms: Date.now() - sent }))
      .finally(() => calls.delete(p));
    calls.add(p);
  };
  say({ ready: true });
  for (let c = 0; c < chunks; c++) {
    // Paced: chunk c goes out at its share of the time left, so the load lasts the whole run.
    const due = started + ((plan.until - started) * c) / chunks;
    if (due > Date.now()) await sleep(due - Date.now());
    // This chunk's share of the calls goes out first: every increment acknowledged so far precedes them in the queue.
    const owed = Math.round((plan.calls * (c + 1)) / chunks) - issued;
    for (let k = 0; k < owed; k++) call();
    const part = ids.slice(c * CHUNK, (c + 1) * CHUNK);
    await Promise.all(part.map((id) => ref.dispatch.increment(chunkOf(plan.producer, id), { idempotencyKey: `p${plan.producer}-${id}` })));
    acked += part.length;
    say({ a: toRanges(part) });
  }
  // Calls that failed (timeouts) are made again until every one owed was answered.
  while (callsDone < plan.calls) {
    while (calls.size < 20 && callsDone + calls.size < plan.calls) call();
    await Promise.race([...calls, sleep(100)]);
  }
  await Promise.all(calls);
  say({ done: true });
  await system.close();
  process.exit(0);
} else throw new Error(`unknown mode ${mode}`);
