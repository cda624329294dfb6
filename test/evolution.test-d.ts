import { describe, expectTypeOf, it } from 'vitest';
import { createSystem, defineActor, type MigratePage, type StateOf, type Upcaster } from '../src/index.js';
import type { Draft } from 'immer';

interface Money {
  amount: number;
  currency: string;
}

const Account = defineActor({
  name: 'account',
  version: 3,
  initialState: () => ({ balance: { amount: 0, currency: 'EUR' } as Money, tags: [] as string[] }),
  migrations: {
    2: (draft) => {
      expectTypeOf(draft).toEqualTypeOf<Draft<{ balance: Money; tags: string[] }>>();
      draft.balance = { amount: (draft as unknown as { balance: number }).balance, currency: 'EUR' };
    },
    3: (draft) => {
      draft.tags = [];
    },
  },
  upcast: {
    deposit: { 1: (amount: number): Money => ({ amount, currency: 'EUR' }), 2: (payload) => payload },
  },
  renamed: { credit: 'deposit' },
  reducers: {
    deposit(state, money: Money) {
      state.balance.amount += money.amount;
    },
    tag(state, tag: string) {
      state.tags.push(tag);
    },
  },
});

describe('evolution options keep the inference of state and payloads', () => {
  it('state comes from initialState, never from the migrations', () => {
    expectTypeOf<StateOf<typeof Account>>().toEqualTypeOf<{ balance: Money; tags: string[] }>();
    expectTypeOf(Account.version).toEqualTypeOf<number>();
  });

  it('payloads and replies are those of the reducers', async () => {
    const system = await createSystem();
    const ref = system.ref(Account, 'a');
    expectTypeOf(ref.dispatch.deposit).parameter(0).toEqualTypeOf<Money>();
    // @ts-expect-error a renamed action is not an action of the new version
    void ref.dispatch.credit;
    expectTypeOf(system.admin.migrate(Account, { dryRun: true })).resolves.toEqualTypeOf<MigratePage>();
    await system.close();
  });

  it('an upcaster may annotate the old payload, or take it as unknown', () => {
    expectTypeOf<(n: number) => Money>().toMatchTypeOf<Upcaster>();
    expectTypeOf<(p: unknown) => unknown>().toMatchTypeOf<Upcaster>();
  });

  it('refuses upcasters of unknown actions and migrations of another shape', () => {
    defineActor({
      name: 'bad',
      version: 2,
      initialState: () => ({ n: 0 }),
      // @ts-expect-error no reducer named 'incremnt'
      upcast: { incremnt: { 1: (p: unknown) => p } },
      reducers: { increment(state, by: number) { state.n += by; } },
    });
    defineActor({
      name: 'bad',
      version: 2,
      initialState: () => ({ n: 0 }),
      migrations: {
        2: (draft) => {
          // @ts-expect-error the draft has the shape of the current state
          draft.count = 1;
        },
      },
      reducers: { increment(state, by: number) { state.n += by; } },
    });
  });
});
