/** reduce(): one reducer on one state, without a system. */
import { describe, expect, it } from 'vitest';
import { defineActor } from '../../src/index.js';
import { TEST_EPOCH, reduce } from '../../src/testing/index.js';
import { defineAccount } from './bank-account.js';

const Account = defineAccount();

const Timed = defineActor({
  name: 'timed',
  initialState: () => ({ n: 0 }),
  reducers: {
    arm(state, delay: number, ctx) {
      state.n += 1;
      ctx.schedule({ delay, key: 'k' }).fire();
      ctx.schedule({ at: ctx.now() + 5 }).fire();
      ctx.cancel('other');
      ctx.after(() => {});
    },
    fire(state) {
      state.n += 1;
    },
    store(state) {
      (state as Record<string, unknown>).f = () => 1;
    },
  },
});

describe('reduce', () => {
  it('returns the next state, patches, reply and sends of a transfer; the given state is untouched', () => {
    const before = { balance: 100, statementsSent: 0 };
    const r = reduce(Account, before, 'transfer', { to: 'bob', amount: 30 });
    expect(r.state).toEqual({ balance: 70, statementsSent: 0 });
    expect(before.balance).toBe(100);
    expect(r.patches).toEqual([{ op: 'replace', path: ['balance'], value: 70 }]);
    expect(r).toMatchObject({ replied: true, reply: 70, locks: [], schedules: [], effects: 0 });
    expect(r.sends).toEqual([{ to: 'account', id: 'bob', action: 'deposit', payload: 30 }]);
  });

  it('throws what the reducer throws', () => {
    expect(() => reduce(Account, { balance: 10, statementsSent: 0 }, 'transfer', { to: 'bob', amount: 30 })).toThrow(/insufficient funds: 10 < 30/);
  });

  it('reports locks, timers set and cancelled, and after-commit effects', () => {
    expect(reduce(Account, { balance: 0, statementsSent: 0 }, 'emailStatement', 'a@example.com').locks).toEqual([{ thunk: 'sendStatement', args: { to: 'a@example.com' } }]);
    const r = reduce(Timed, { n: 0 }, 'arm', 1_000, { id: 't1', now: 1_000_000 });
    expect(r.schedules).toEqual([
      { op: 'set', to: 'timed', id: 't1', key: 'k', due: 1_001_000, action: 'fire', payload: undefined },
      { op: 'set', to: 'timed', id: 't1', key: undefined, due: 1_000_005, action: 'fire', payload: undefined },
      { op: 'cancel', to: 'timed', id: 't1', key: 'other' },
    ]);
    expect(r.effects).toBe(1);
    expect(reduce(Timed, { n: 0 }, 'arm', 10).schedules[0]).toMatchObject({ due: TEST_EPOCH + 10, id: 'test' });
  });

  it('refuses a state that cannot be stored, as a consumer would', () => {
    expect(() => reduce(Timed, { n: 0 }, 'store')).toThrow(expect.objectContaining({ code: 'unserializable_value' }));
  });
});
