import { createSystem, defineActor, memory } from '../../src/index.js';
const A = defineActor({
  name: 'p', initialState: () => ({ n: 0 }),
  reducers: {
    add(s, v: number) { s.n += v; },
    poison(s) { (s as unknown as Record<string, unknown>)['k'.repeat(12000)] = 1; },
  },
});
const engine = memory();
const s = await createSystem({ backend: engine });
const p = await createSystem({ backend: engine, closeBackend: false });
const r = p.ref(A, 'x');
await r.dispatch.add(1);
s.serve(A);
await new Promise((res) => setTimeout(res, 100));
await r.dispatch.poison();
await r.dispatch.add(2);
await r.dispatch.add(3);
await new Promise((res) => setTimeout(res, 1500));
console.log('state', await r.query((st) => st.n));
console.log('dead', (await p.admin.deadLetters(A, 'x')).map((d) => ('action' in d.message ? d.message.action : '?') + ': ' + d.error.message.slice(0, 40)));
await p.close(); await s.close();
