import { describe, expectTypeOf, it } from 'vitest';
import { createSystem, defineActor, memory, type ActorRef, type StateOf, type StoreUnavailableError, type SystemOptions } from '../src/index.js';
import { Counter } from './fixtures/actors.js';

describe('types inferred from reducers', () => {
  it('infers the state type', () => {
    expectTypeOf<StateOf<typeof Counter>>().toEqualTypeOf<{ count: number; log: number[] }>();
  });

  it('types dispatch payloads: required, optional, absent', async () => {
    const system = await createSystem({ backend: memory() });
    const ref = system.ref(Counter, 'a');
    expectTypeOf(ref.dispatch.increment).toBeCallableWith();
    expectTypeOf(ref.dispatch.increment).toBeCallableWith(2);
    expectTypeOf(ref.dispatch.add).toBeCallableWith(1);
    expectTypeOf(ref.dispatch.failAfterChange).toBeCallableWith();
    expectTypeOf(ref.dispatch.stamp).toBeCallableWith();
    // @ts-expect-error wrong payload type
    void ref.dispatch.add('one');
    // @ts-expect-error payload is required
    void ref.dispatch.add();
    // @ts-expect-error no such action
    void ref.dispatch.incremnt(1);
    expectTypeOf(ref.dispatch.increment).returns.toEqualTypeOf<Promise<void>>();
  });

  it('types call replies from ctx.reply', async () => {
    const system = await createSystem({ backend: memory() });
    const ref = system.ref(Counter, 'a');
    expectTypeOf(ref.call.add).returns.toEqualTypeOf<Promise<number>>();
    expectTypeOf(ref.call.increment).returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf(ref.call.stamp).returns.toEqualTypeOf<Promise<{ now: number; random: number; id: string; count: number }>>();
    expectTypeOf(ref.call.add).toBeCallableWith(1, { timeout: 100 });
  });

  it('types query and state$', async () => {
    const system = await createSystem({ backend: memory() });
    const ref: ActorRef<StateOf<typeof Counter>, typeof Counter.reducers> = system.ref(Counter, 'a');
    expectTypeOf(ref.query()).toEqualTypeOf<Promise<{ count: number; log: number[] }>>();
    expectTypeOf(ref.query((s) => s.count)).toEqualTypeOf<Promise<number>>();
    ref.state$.subscribe((s) => expectTypeOf(s.count).toEqualTypeOf<number>());
  });

  it('types the draft and ctx inside reducers', () => {
    defineActor({
      name: 'typed',
      initialState: () => ({ n: 0, tags: new Set<string>() }),
      reducers: {
        bump(state, by: number, ctx) {
          expectTypeOf(state.n).toEqualTypeOf<number>();
          expectTypeOf(ctx.now()).toEqualTypeOf<number>();
          ctx.after((s) => {
            expectTypeOf(s.tags).toEqualTypeOf<Set<string>>();
          });
          state.n += by;
        },
      },
    });
  });
});

describe('store recovery types', () => {
  it('store_unavailable says stored: false or unknown, never true, with the message id', () => {
    expectTypeOf<StoreUnavailableError['stored']>().toEqualTypeOf<false | 'unknown'>();
    expectTypeOf<StoreUnavailableError['messageId']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<SystemOptions['storeDeadlineMs']>().toEqualTypeOf<number | undefined>();
  });
});
