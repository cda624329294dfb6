/**
 * Type checks of the `dgen/testing` entry point as an app installs it (compiled with
 * `skipLibCheck: false` beside types.ts); testing.js runs it.
 */
import { defineActor } from 'dgen';
import { createTestSystem, reduce, type Reduced, type TestSystem } from 'dgen/testing';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const same = <A, B>(ok: Equal<A, B>): Equal<A, B> => ok;

const Counter = defineActor({
  name: 'counter',
  initialState: () => ({ count: 0 }),
  reducers: {
    add(state, by: number, ctx) {
      state.count += by;
      return ctx.reply(state.count);
    },
  },
});

export async function main(): Promise<void> {
  const r = reduce(Counter, { count: 1 }, 'add', 2);
  same<typeof r, Reduced<{ count: number }, number>>(true);
  // @ts-expect-error the payload is a number
  reduce(Counter, { count: 1 }, 'add', '2');
  const t: TestSystem = await createTestSystem();
  t.serve(Counter);
  await t.ref(Counter, 'a').dispatch.add(1, { delay: 1_000 });
  await t.advance(1_000);
  const count: number = await t.ref(Counter, 'a').query((s) => s.count);
  void count;
  await t.close();
}
