/**
 * The counter from the README, on the embedded LMDB default (./.dgen).
 *
 *   npx tsx examples/counter.ts          increments twice, prints the count (it grows by 2 each run)
 *   npx tsx examples/counter.ts --crash  enqueues two increments, then dies by SIGKILL before processing them;
 *                                        the next run processes them: nothing acknowledged is lost
 */
import { createSystem, defineActor } from '../src/index.js';

export const Counter = defineActor({
  name: 'counter',
  initialState: () => ({ count: 0 }),
  reducers: {
    increment(state, by: number = 1) {
      state.count += by;
    },
    take(state, n: number, ctx) {
      state.count -= n;
      return ctx.reply(state.count);
    },
    reset(state, _, ctx) {
      state.count = 0;
      ctx.after((s) => console.log(`reset committed, count is ${s.count}`));
    },
  },
});

const system = await createSystem({ path: process.env.DGEN_PATH ?? '.dgen' });
const counter = system.ref(Counter, 'tenant-42');
console.log(`count at start: ${await counter.query((s) => s.count)}`);

await counter.dispatch.increment();
await counter.dispatch.increment();
console.log('two increments durably enqueued');
if (process.argv.includes('--crash')) process.kill(process.pid, 'SIGKILL');

system.serve(Counter);
const left = await counter.call.take(0); // a call: answered after every earlier message was processed
console.log(`count now: ${left}`);
await system.close();
