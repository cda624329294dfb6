// Runs dgen/testing from the installed package: node testing.js
import { defineActor } from 'dgen';
import { createTestSystem, reduce } from 'dgen/testing';

const Counter = defineActor({
  name: 'counter',
  initialState: () => ({ count: 0 }),
  reducers: { add(state, by, ctx) { state.count += by; return ctx.reply(state.count); } },
});
const t = await createTestSystem();
t.serve(Counter);
await t.ref(Counter, 'a').dispatch.add(2, { delay: 60_000 });
await t.settle();
const before = await t.ref(Counter, 'a').query((s) => s.count);
await t.advance(60_000);
console.log(JSON.stringify({ reduced: reduce(Counter, { count: 1 }, 'add', 2).reply, before, after: await t.ref(Counter, 'a').query((s) => s.count) }));
await t.close();
