/**
 * The account of examples/bank.ts, as a test defines it: its mail thunk calls whatever `mailer`
 * the test passes (a fake), and `brokenTransfer` plants a bug: the money is credited from an
 * after-commit effect instead of `ctx.send`, so a crash between the commit and the effect loses it.
 */
import { defineActor, type Reply, type System } from '../../src/index.js';

export interface Mailer {
  send(to: string, balance: number, idempotencyKey: string): Promise<void>;
}

export interface AccountState {
  balance: number;
  statementsSent: number;
}

export function defineAccount(options: { mailer?: Mailer; brokenTransfer?: { system: () => System } } = {}) {
  const { mailer, brokenTransfer } = options;
  const Account = defineActor({
    name: 'account',
    initialState: (): AccountState => ({ balance: 0, statementsSent: 0 }),
    thunks: {
      async sendStatement({ to }: { to: string }, { state, key }) {
        await mailer?.send(to, state.balance, key);
        return (draft) => {
          draft.statementsSent += 1;
        };
      },
    },
    reducers: {
      deposit(state, amount: number) {
        state.balance += amount;
      },
      transfer(state, t: { to: string; amount: number }, ctx): Reply<number> {
        if (t.amount > state.balance) throw Object.assign(new Error(`insufficient funds: ${state.balance} < ${t.amount}`), { code: 'insufficient_funds' });
        state.balance -= t.amount;
        if (brokenTransfer === undefined) ctx.send(Account, t.to).deposit(t.amount); // enqueued if and only if this change commits
        else ctx.after(() => brokenTransfer.system().ref(Account, t.to).dispatch.deposit(t.amount)); // the planted bug
        return ctx.reply(state.balance);
      },
      emailStatement(_state, to: string, ctx) {
        ctx.lock('sendStatement', { to });
      },
    },
  });
  return Account;
}
