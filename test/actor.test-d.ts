import { describe, expectTypeOf, it } from 'vitest';
import { defineActor, type Reply, type ThunkContext } from '../src/index.js';

const Inventory = defineActor({
  name: 'inventory',
  initialState: () => ({ stock: new Map<string, number>(), audits: 0 }),
  thunks: {
    async runAudit(args: { reason: string }, ctx) {
      expectTypeOf(ctx).toEqualTypeOf<ThunkContext<{ stock: Map<string, number>; audits: number }>>();
      expectTypeOf(ctx.signal).toEqualTypeOf<AbortSignal>();
      void args.reason;
      return (draft) => {
        draft.audits += 1;
      };
    },
  },
  reducers: {
    restock(state, item: { sku: string; qty: number }) {
      state.stock.set(item.sku, (state.stock.get(item.sku) ?? 0) + item.qty);
    },
    audit(_state, reason: string, ctx) {
      ctx.lock('runAudit', { reason });
    },
    notify(_state, sku: string, ctx) {
      ctx.send(Other, 'warehouse').ping(sku);
      // @ts-expect-error the target has no such action
      ctx.send(Other, 'warehouse').pong();
      // @ts-expect-error wrong payload type for the target's action
      ctx.send(Other, 'warehouse').ping(1);
    },
    count(state, sku: string, ctx): Reply<number> {
      return ctx.reply(state.stock.get(sku) ?? 0);
    },
  },
});

const Other = defineActor({
  name: 'other',
  initialState: 0,
  reducers: {
    ping(state, sku: string) {
      void sku;
      return state + 1;
    },
  },
});

describe('defineActor types', () => {
  it('keeps the reducers and thunks as declared', () => {
    expectTypeOf(Inventory.name).toEqualTypeOf<string>();
    expectTypeOf(Inventory.initialState).returns.toEqualTypeOf<{ stock: Map<string, number>; audits: number }>();
    expectTypeOf(Inventory.thunks.runAudit).parameter(0).toEqualTypeOf<{ reason: string }>();
  });

  it('accepts a reducer that returns a whole new state', () => {
    expectTypeOf(Other.initialState).returns.toEqualTypeOf<number>();
  });

  it('rejects options of the wrong type', () => {
    defineActor({
      name: 'typed-options',
      initialState: 0,
      reducers: { a() {} },
      // @ts-expect-error not a failure policy
      options: { failurePolicy: 'retry' },
    });
  });
});
