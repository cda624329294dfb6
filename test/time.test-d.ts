import { describe, expectTypeOf, it } from 'vitest';
import { createSystem, defineActor, memory, type TimerEntry } from '../src/index.js';
import { Counter } from './fixtures/actors.js';
import { Hold } from './fixtures/timers.js';

describe('types of timers', () => {
  it('types delayed dispatch options: delay or at, not both; a call takes neither', async () => {
    const system = await createSystem({ backend: memory() });
    const ref = system.ref(Counter, 'a');
    expectTypeOf(ref.dispatch.increment).toBeCallableWith(1, { delay: 1_000 });
    expectTypeOf(ref.dispatch.increment).toBeCallableWith(1, { at: new Date() });
    expectTypeOf(ref.dispatch.increment).toBeCallableWith(1, { at: Date.now(), idempotencyKey: 'k' });
    expectTypeOf(ref.dispatch.add).toBeCallableWith(1, { delay: 5 });
    // @ts-expect-error delay is a number of milliseconds
    void ref.dispatch.increment(1, { delay: '5s' });
    // @ts-expect-error a call cannot be delayed
    void ref.call.add(1, { delay: 5 });
  });

  it('types ctx.schedule, ctx.cancel and delayed ctx.send in reducers', () => {
    defineActor({
      name: 'typed-timers',
      initialState: () => ({ n: 0 }),
      reducers: {
        tick(state, by: number, ctx) {
          state.n += by;
          ctx.schedule({ delay: 1_000, key: 'tick' }).tick(by);
          ctx.schedule({ at: new Date(ctx.now() + 1_000) }).tick(by);
          ctx.send(Counter, 'c', { delay: 10 }).add(by);
          // @ts-expect-error ctx.send's senders stay typed with a delay
          ctx.send(Counter, 'c', { delay: 10 }).add('one');
          // @ts-expect-error a timing needs delay or at
          ctx.schedule({ key: 'x' });
          // @ts-expect-error a timer key is a string
          ctx.cancel(7);
          ctx.cancel('tick');
          expectTypeOf(ctx.now()).toEqualTypeOf<number>();
        },
      },
    });
  });

  it('types the operator view', async () => {
    const system = await createSystem({ backend: memory() });
    expectTypeOf(system.admin.timers(Hold, 'h')).toEqualTypeOf<Promise<TimerEntry[]>>();
    expectTypeOf(system.admin.cancelTimer).toBeCallableWith(Hold, 'h', { key: 'expiry' });
    expectTypeOf(system.admin.cancelTimer).toBeCallableWith('hold', 'h', { messageId: 'm' });
    expectTypeOf(system.admin.cancelTimer(Hold, 'h', { key: 'k' })).toEqualTypeOf<Promise<boolean>>();
  });
});
