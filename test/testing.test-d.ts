import { describe, expectTypeOf, it } from 'vitest';
import { reduce, createTestSystem, fakeThunk, simulate, type Reduced, type SimulationResult, type TestSystem } from '../src/testing/index.js';
import { defineAccount, type AccountState } from './testing/bank-account.js';

const Account = defineAccount();

describe('types of dgen/testing', () => {
  it('types reduce() from the definition: actions, payloads, state and reply', () => {
    const r = reduce(Account, { balance: 1, statementsSent: 0 }, 'transfer', { to: 'b', amount: 1 });
    expectTypeOf(r).toEqualTypeOf<Reduced<AccountState, number>>();
    expectTypeOf(r.reply).toEqualTypeOf<number | undefined>();
    expectTypeOf(reduce(Account, { balance: 1, statementsSent: 0 }, 'deposit', 1, { now: new Date() }).reply).toEqualTypeOf<void | undefined>();
    // @ts-expect-error an unknown action
    reduce(Account, { balance: 1, statementsSent: 0 }, 'withdraw', 1);
    // @ts-expect-error a payload of the wrong type
    reduce(Account, { balance: 1, statementsSent: 0 }, 'deposit', '1');
    // @ts-expect-error a state of the wrong shape
    reduce(Account, { balance: '1' }, 'deposit', 1);
  });

  it('types the test system as a System with a clock, settle and advance', async () => {
    const t = await createTestSystem({ thunks: { sendStatement: async ({ to }: { to: string }) => void to } });
    expectTypeOf(t).toEqualTypeOf<TestSystem>();
    expectTypeOf(t.ref(Account, 'a').call.transfer).returns.resolves.toEqualTypeOf<number>();
    expectTypeOf(t.clock.advance).parameters.toEqualTypeOf<[ms: number]>();
    expectTypeOf(t.settle).returns.toEqualTypeOf<Promise<void>>();
    // @ts-expect-error a fake is a function or { run }
    void createTestSystem({ thunks: { sendStatement: 42 } });
    // @ts-expect-error now is a Date or epoch ms
    void createTestSystem({ now: '2030-01-01' });
  });

  it('types simulate(): the model, the workload refs, the final states', () => {
    const run = simulate({
      definitions: [Account],
      model: () => ({ deposited: 0 }),
      async workload({ ref, random, model }) {
        expectTypeOf(model).toEqualTypeOf<{ deposited: number }>();
        expectTypeOf(random.int(1, 2)).toEqualTypeOf<number>();
        expectTypeOf(ref(Account, 'a').call.transfer).returns.resolves.toEqualTypeOf<number>();
        // @ts-expect-error a payload of the wrong type
        await ref(Account, 'a').dispatch.deposit('1');
      },
      async invariants({ state, model }) {
        expectTypeOf(await state(Account, 'a')).toEqualTypeOf<AccountState>();
        return model.deposited < 0 ? ['negative'] : [];
      },
    });
    expectTypeOf(run).toEqualTypeOf<Promise<SimulationResult>>();
    // @ts-expect-error invariants are required
    void simulate({ definitions: [Account], workload: async () => {} });
  });

  it('types a fake from the thunk it replaces', () => {
    fakeThunk(Account, 'sendStatement', async ({ to }, { state, key }) => {
      expectTypeOf(to).toEqualTypeOf<string>();
      expectTypeOf(state).toEqualTypeOf<AccountState>();
      expectTypeOf(key).toEqualTypeOf<string>();
      return (draft) => {
        draft.statementsSent += 1;
      };
    });
    // @ts-expect-error no thunk of that name
    fakeThunk(Account, 'sendMail', async () => {});
    // @ts-expect-error the recipe changes a field the state does not have
    fakeThunk(Account, 'sendStatement', async () => (draft) => void (draft.sent += 1));
  });
});
