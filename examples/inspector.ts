/**
 * The web inspector embedded in an app: a few counters on the embedded LMDB default, one of them
 * with a dead letter, served while the inspector shows them live.
 *
 *   npx tsx examples/inspector.ts        prints the inspector's URL; open it, then Ctrl-C to stop
 */
import { createSystem, defineActor } from '../src/index.js';

const Counter = defineActor({
  name: 'counter',
  initialState: () => ({ count: 0, history: [] as number[] }),
  reducers: {
    increment(state, by: number = 1) {
      if (by > 100) throw Object.assign(new RangeError(`${by} is too much at once`), { code: 'too_much' });
      state.count += by;
      state.history.push(by);
    },
  },
});

const system = await createSystem({ path: process.env.DGEN_PATH ?? '.dgen' });
system.serve(Counter);
for (const id of ['tenant-1', 'tenant-2', 'tenant-3']) await system.ref(Counter, id).dispatch.increment(2);
await system.ref(Counter, 'tenant-1').dispatch.increment(1_000); // a dead letter, to requeue or delete from the page

const inspector = await system.inspector({ port: Number(process.env.PORT ?? 4400) });
console.log(`dgen inspector: ${inspector.url}`);
const ticking = setInterval(() => void system.ref(Counter, 'tenant-2').dispatch.increment(1), 2_000); // watch it live

system.closeOnSignals();
process.once('SIGINT', () => {
  clearInterval(ticking);
  void inspector.close();
});
