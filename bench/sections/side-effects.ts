/**
 * 9. Side effects: what a call costs when it is idempotent, retried with its key, or answered by a
 * locked thunk, each beside a plain call to an idle actor served in the same process, measured in
 * the same run on the same engine (the baseline `bare`, which here is dgen's own plain call).
 *
 * - idempotent call: a fresh key per call (the key is checked and remembered, the reply also kept);
 * - retried idempotent call: the same key again (nothing is sent; the kept reply is read);
 * - thunk reply: the reducer locks, a no-op thunk answers the call (enqueue, lock, claim, release:
 *   four commits instead of one, as a locking message never takes the inline path).
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { createSystem, defineActor } from '../../src/index.js';
import { distribution, now, type Distribution, type Timing } from '../lib/measure.js';
import { row, type Row, type SectionContext } from '../lib/report.js';

const Shop = defineActor({
  name: 'bench.shop',
  initialState: () => ({ count: 0, paid: 0 }),
  thunks: {
    async pay(amount: number) {
      return {
        recipe: (d) => {
          d.paid += amount;
        },
        reply: amount,
      };
    },
  },
  reducers: {
    add(state, by: number, ctx) {
      state.count += by;
      return ctx.reply(state.count);
    },
    pay(state, amount: number, ctx) {
      state.count += 1;
      return ctx.lock('pay', amount);
    },
  },
});

/** Latencies (ms) of `op` run one at a time, after a warm-up. */
async function latencies(timing: Timing, op: (i: number) => Promise<unknown>): Promise<Distribution> {
  const samples: number[] = [];
  const from = now() + timing.warmMs;
  const until = from + timing.runMs;
  for (let i = 0; ; i++) {
    await yieldToLoop();
    const t0 = now();
    if (t0 >= until) break;
    await op(i);
    if (t0 >= from) samples.push(now() - t0);
  }
  return distribution(samples);
}

export async function sideEffectsSection(ctx: SectionContext): Promise<Row[]> {
  const { timing, engine } = ctx;
  const db = await engine.store().open();
  try {
    const system = await createSystem({ backend: db });
    system.serve(Shop);
    const ref = system.ref(Shop, 'idle');
    await ref.call.add(1);
    const run = Date.now().toString(36);
    ctx.progress('side effects: plain call');
    const plain = await latencies(timing, () => ref.call.add(1));
    ctx.progress('side effects: idempotent call');
    const keyed = await latencies(timing, (i) => ref.call.add(1, { idempotencyKey: `${run}-${i}` }));
    ctx.progress('side effects: retried idempotent call');
    await ref.call.add(1, { idempotencyKey: `${run}-retried` });
    const retried = await latencies(timing, () => ref.call.add(1, { idempotencyKey: `${run}-retried` }));
    ctx.progress('side effects: call answered by a thunk');
    const thunk = await latencies(timing, () => ref.call.pay(1));
    await system.close();
    const rows: Row[] = [];
    const add = (label: string, d: Distribution) => {
      for (const q of ['p50', 'p99'] as const) {
        rows.push(row({ section: '9. side effects', case: label, engine: engine.name, metric: `call ${q}`, unit: 'ms', better: 'lower', dgen: d[q], baselines: { bare: plain[q] }, detail: q === 'p50' ? { calls: d.n, plainCalls: plain.n } : undefined }));
      }
    };
    add('idempotent call (fresh key) vs plain call', keyed);
    add('retried idempotent call (kept reply) vs plain call', retried);
    add('call answered by a thunk (lock, claim, release) vs plain call', thunk);
    return rows;
  } finally {
    await db.close();
  }
}
