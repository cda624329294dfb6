import { describe, expectTypeOf, it } from 'vitest';
import { createSystem, defineActor, memory, type ActionsOf, type ActorRef, type RefOf, type StateOf } from '../src/index.js';
import { Counter } from './fixtures/actors.js';

const Lamp = defineActor({
  name: 'lamp',
  initialState: () => ({ on: false, at: 0 }),
  reducers: {
    toggle(state, _, ctx) {
      state.on = !state.on;
      state.at = ctx.now();
      return ctx.reply(state.on);
    },
    set(state, on: boolean) {
      state.on = on;
    },
  },
});

describe('type helpers', () => {
  it('RefOf is the type system.ref returns', async () => {
    const system = await createSystem({ backend: memory() });
    const ref: RefOf<typeof Counter> = system.ref(Counter, 'a');
    expectTypeOf(ref).toEqualTypeOf<ActorRef<StateOf<typeof Counter>, typeof Counter.reducers>>();
    expectTypeOf(ref.call.add).returns.toEqualTypeOf<Promise<number>>();
    // @ts-expect-error a ref of another definition
    const wrong: RefOf<typeof Lamp> = system.ref(Counter, 'a');
    void wrong;
  });

  it('ActionsOf is the union of action names', () => {
    expectTypeOf<ActionsOf<typeof Lamp>>().toEqualTypeOf<'toggle' | 'set'>();
    // @ts-expect-error not an action of Lamp
    const typo: ActionsOf<typeof Lamp> = 'togle';
    void typo;
  });

  it('StateOf is the state type', () => {
    expectTypeOf<StateOf<typeof Lamp>>().toEqualTypeOf<{ on: boolean; at: number }>();
  });
});

describe('a reducer with ctx and no payload', () => {
  it('needs no annotation on its placeholder parameter', async () => {
    const system = await createSystem({ backend: memory() });
    const lamp = system.ref(Lamp, 'hall');
    expectTypeOf(lamp.call.toggle).toBeCallableWith();
    expectTypeOf(lamp.call.toggle).toBeCallableWith(undefined, { timeout: 1_000 });
    expectTypeOf(lamp.call.toggle).returns.toEqualTypeOf<Promise<boolean>>();
    expectTypeOf(lamp.dispatch.toggle).toBeCallableWith();
    // @ts-expect-error it takes no payload
    void lamp.dispatch.toggle(true);
    // @ts-expect-error set still needs its payload
    void lamp.dispatch.set();
  });
});
