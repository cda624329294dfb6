/**
 * Type checks of the installed package: compiled with `skipLibCheck: false` against `dgen` as an
 * app installs it. Each `@ts-expect-error` line must be an error, every other line must compile.
 */
import { createSystem, defineActor, memory, type ActionsOf, type RefOf, type StateOf } from 'dgen';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const same = <A, B>(ok: Equal<A, B>): Equal<A, B> => ok;

export const Audit = defineActor({
  name: 'audit',
  initialState: () => ({ notes: [] as string[] }),
  reducers: {
    note(state, text: string) {
      state.notes.push(text);
    },
  },
});

export const Counter = defineActor({
  name: 'counter',
  initialState: () => ({ count: 0, sent: 0 }),
  thunks: {
    async email(_args: { to: string }, { state, key, fencingToken }) {
      same<typeof state, { count: number; sent: number }>(true);
      same<typeof key, string>(true);
      same<typeof fencingToken, number>(true);
      return {
        recipe: (draft) => {
          draft.sent += 1;
        },
        reply: key.length,
      };
    },
  },
  reducers: {
    increment(state, by: number = 1) {
      state.count += by;
    },
    add(state, by: number, ctx) {
      state.count += by;
      return ctx.reply(state.count);
    },
    clear(state) {
      state.count = 0;
    },
    reset(state, _, ctx) {
      state.count = 0;
      ctx.after((s) => {
        same<typeof s, { count: number; sent: number }>(true);
      });
    },
    tell(state, text: string, ctx) {
      ctx.send(Audit, 'log').note(text);
      // @ts-expect-error Audit has no action 'notes'
      ctx.send(Audit, 'log').notes(text);
      // @ts-expect-error note takes a string
      ctx.send(Audit, 'log').note(state.count);
      // @ts-expect-error note needs its payload
      ctx.send(Audit, 'log').note();
    },
    notify(_state, to: string, ctx) {
      // @ts-expect-error no thunk named emial
      ctx.lock('emial', { to });
      // @ts-expect-error the thunk's args are { to: string }
      ctx.lock('email', { to: 1 });
      return ctx.lock('email', { to });
    },
  },
});

export async function use(): Promise<void> {
  const system = await createSystem({ backend: memory() });
  const counter: RefOf<typeof Counter> = system.ref(Counter, 'a');

  // payloads: optional, required, none, none with ctx
  await counter.dispatch.increment();
  await counter.dispatch.increment(2);
  await counter.dispatch.add(1);
  await counter.dispatch.clear();
  await counter.dispatch.reset();
  await counter.dispatch.increment(2, { idempotencyKey: 'k' });
  // @ts-expect-error payload must be a number
  await counter.dispatch.add('two');
  // @ts-expect-error payload is required
  await counter.dispatch.add();
  // @ts-expect-error clear takes no payload
  await counter.dispatch.clear(1);
  // @ts-expect-error reset takes no payload
  await counter.dispatch.reset(1);
  // @ts-expect-error no action named incremnt
  await counter.dispatch.incremnt(1);
  // @ts-expect-error no action named incremnt
  await counter.call.incremnt(1);

  // replies
  same<Awaited<ReturnType<typeof counter.call.add>>, number>(true);
  same<Awaited<ReturnType<typeof counter.call.increment>>, void>(true);
  same<Awaited<ReturnType<typeof counter.call.notify>>, number>(true); // the thunk's reply
  await counter.call.notify('a@example.com', { idempotencyKey: 'n-1' });
  const total: number = await counter.call.add(1, { timeout: 1_000 });
  // @ts-expect-error the reply is a number
  const wrong: string = await counter.call.add(1);

  // queries and state$
  same<Awaited<ReturnType<typeof counter.query<number>>>, number>(true);
  const count: number = await counter.query((s) => s.count);
  // @ts-expect-error no field 'cuont'
  await counter.query((s) => s.cuont);
  counter.state$.subscribe((s) => same<typeof s, StateOf<typeof Counter>>(true));

  // helpers
  same<ActionsOf<typeof Counter>, 'increment' | 'add' | 'clear' | 'reset' | 'tell' | 'notify'>(true);
  // @ts-expect-error a ref of another definition
  const audit: RefOf<typeof Audit> = counter;

  system.serve(Counter, { pollMs: 500 });
  void [total, wrong, count, audit];
  await system.close();
}
