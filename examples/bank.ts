/**
 * Accounts that move money with actor-to-actor sends, and email statements through a locked
 * thunk against a (fake, local) mail server that counts requests and honours idempotency keys.
 *
 *   npx tsx examples/bank.ts
 *
 * Runs on the embedded LMDB default (./.dgen); every run adds to the same accounts.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSystem, defineActor, type Reply } from '../src/index.js';

/** A mail server on loopback: counts requests, and sends each idempotency key only once. */
const delivered = new Set<string>();
let requests = 0;
const mail = createServer((req, res) => {
  requests++;
  delivered.add(String(req.headers['idempotency-key']));
  req.resume().on('end', () => res.end('ok'));
}).listen(0, '127.0.0.1');
await new Promise((r) => mail.once('listening', r));
const mailUrl = `http://127.0.0.1:${(mail.address() as AddressInfo).port}/send`;

export const Account = defineActor({
  name: 'account',
  initialState: () => ({ balance: 0, statementsSent: 0 }),
  thunks: {
    // Runs outside any transaction; may run again after a crash, always with the same key.
    async sendStatement({ to }: { to: string }, { state, key, signal }) {
      const res = await fetch(mailUrl, { method: 'POST', headers: { 'idempotency-key': key }, body: JSON.stringify({ to, balance: state.balance }), signal });
      if (!res.ok) throw new Error(`mail server answered ${res.status}`);
      return (draft) => {
        draft.statementsSent += 1;
      };
    },
  },
  reducers: {
    deposit(state, amount: number) {
      state.balance += amount;
    },
    // Refers to Account itself (ctx.send), so its reply type is spelled out.
    transfer(state, t: { to: string; amount: number }, ctx): Reply<number> {
      if (t.amount > state.balance) throw Object.assign(new Error(`insufficient funds: ${state.balance} < ${t.amount}`), { code: 'insufficient_funds' });
      state.balance -= t.amount;
      ctx.send(Account, t.to).deposit(t.amount); // enqueued if and only if this change commits
      return ctx.reply(state.balance);
    },
    emailStatement(_state, to: string, ctx) {
      ctx.lock('sendStatement', { to }); // pauses this account until the mail is sent
    },
  },
});

const system = await createSystem();
system.serve(Account);
const alice = system.ref(Account, 'alice');
const bob = system.ref(Account, 'bob');

await alice.dispatch.deposit(100);
console.log(`alice transfers 30 to bob, alice has ${await alice.call.transfer({ to: 'bob', amount: 30 })} left`);
try {
  await bob.call.transfer({ to: 'alice', amount: 1_000_000 });
} catch (e) {
  console.log(`bob's overdraft was refused: ${(e as Error).message} (code ${(e as { code?: string }).code})`);
}
await alice.call.emailStatement('alice@example.com');
const [a, b] = await Promise.all([alice.query(), bob.query((s) => s.balance)]);
console.log(`balances: alice ${a.balance}, bob ${b}; statements sent to alice: ${a.statementsSent}`);
console.log(`mail server: ${requests} request(s), ${delivered.size} distinct idempotency key(s)`);
console.log(`dead letters of bob: ${(await system.admin.deadLetters(Account, 'bob')).length}`);

await system.close();
mail.close();
