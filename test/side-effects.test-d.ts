import { describe, expectTypeOf, it } from 'vitest';
import { defineActor, type ActorError, type ActorRef, type Locked, type ThunkContext } from '../src/index.js';

type ShopState = { stock: number; held: number; paid: number };

const Shop = defineActor({
  name: 'shop',
  initialState: (): ShopState => ({ stock: 10, held: 0, paid: 0 }),
  thunks: {
    charge: {
      async run({ amount }: { amount: number }, ctx) {
        expectTypeOf(ctx).toEqualTypeOf<ThunkContext<ShopState>>();
        expectTypeOf(ctx.fencingToken).toEqualTypeOf<number>();
        return {
          recipe: (d) => {
            d.paid += amount;
          },
          reply: { receipt: `r-${ctx.key}` },
        };
      },
      onFailure(draft, error, { amount }: { amount: number }) {
        expectTypeOf(error).toEqualTypeOf<ActorError>();
        draft.held -= amount;
      },
    },
    async audit() {
      return (d) => {
        d.held = 0;
      };
    },
    async optional(_note?: string) {},
  },
  reducers: {
    pay(state, amount: number, ctx) {
      state.held += amount;
      return ctx.lock('charge', { amount });
    },
    payQuietly(state, amount: number, ctx) {
      state.held += amount;
      ctx.lock('charge', { amount });
    },
    audit(_state, _: void, ctx) {
      ctx.lock('audit');
      // @ts-expect-error the thunk takes no args
      ctx.lock('audit', 1);
      ctx.lock('optional');
      ctx.lock('optional', 'why');
    },
    typo(_state, _: void, ctx) {
      // @ts-expect-error no thunk of that name
      ctx.lock('chrage', { amount: 1 });
    },
    wrongArgs(_state, _: void, ctx) {
      // @ts-expect-error wrong args for the thunk
      ctx.lock('charge', { amount: '1' });
      // @ts-expect-error args are required
      ctx.lock('charge');
    },
  },
});

declare const shop: ActorRef<ShopState, (typeof Shop)['reducers']>;

describe('typed locks, thunk replies, idempotent calls', () => {
  it('types ctx.lock from the thunks, and its result from the thunk reply', () => {
    expectTypeOf(Shop.reducers.pay).returns.toEqualTypeOf<Locked<{ receipt: string }>>();
  });

  it("types a call answered by a thunk with the thunk's reply", () => {
    expectTypeOf(shop.call.pay).returns.toEqualTypeOf<Promise<{ receipt: string }>>();
    expectTypeOf(shop.call.payQuietly).returns.toEqualTypeOf<Promise<void>>();
  });

  it('takes an idempotency key on call', () => {
    expectTypeOf(shop.call.pay).toBeCallableWith(30, { idempotencyKey: 'order-7' });
    // @ts-expect-error the key is a string
    void shop.call.pay(30, { idempotencyKey: 7 });
  });

  it('says so when thunks come after reducers (TypeScript infers an object literal in order)', () => {
    defineActor({
      name: 'late-thunks',
      initialState: 0,
      reducers: {
        go(_s, _: void, ctx) {
          // @ts-expect-error ctx.lock asks to declare thunks before reducers
          ctx.lock('later');
        },
      },
      thunks: { async later() {} },
    });
  });

  it('takes the state type from initialState only: a reducer returning another type is an error', () => {
    const Typed = defineActor({
      name: 'typed-state',
      initialState: { n: 0 },
      // @ts-expect-error a reducer returns nothing, a reply, a lock or a whole new state of the same type
      reducers: {
        wrong() {
          return 'x';
        },
        ok(state) {
          state.n += 1;
        },
      },
    });
    expectTypeOf(Typed.initialState).returns.toEqualTypeOf<{ n: number }>();
  });

  it('rejects a thunk spec whose onFailure is not a function', () => {
    defineActor({
      name: 'bad-spec',
      initialState: 0,
      thunks: {
        // @ts-expect-error onFailure must be a function
        x: { run: async () => {}, onFailure: 1 },
      },
      reducers: { go() {} },
    });
  });
});
