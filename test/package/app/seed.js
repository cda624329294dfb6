// Stores a few instances through the installed package, for the CLI tests: node seed.js DIR
import { createSystem, defineActor } from 'dgen';

const Counter = defineActor({
  name: 'counter',
  initialState: () => ({ count: 0 }),
  reducers: {
    add(state, by, ctx) { state.count += by; return ctx.reply(state.count); },
    fail() { throw new TypeError('not today'); },
  },
});
const Idle = defineActor({ name: 'idle', initialState: () => ({}), reducers: { poke() {} } });

const system = await createSystem({ path: process.argv[2] });
system.serve(Counter);
await system.ref(Counter, 'a').call.add(5);
await system.ref(Counter, 'b').call.add(1);
await system.ref(Counter, 'b').call.fail().catch(() => {});
await system.ref(Idle, 'q').dispatch.poke();
await system.close();
