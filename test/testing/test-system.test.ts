/** createTestSystem: virtual time, settle(), thunk fakes, the System verbs. */
import { afterEach, describe, expect, it } from 'vitest';
import { defineActor, isDgenError, type System } from '../../src/index.js';
import { SettleTimeoutError, TEST_EPOCH, createTestSystem, fakeThunk, type TestSystem } from '../../src/testing/index.js';
import { defineAccount } from './bank-account.js';

const open: System[] = [];
async function testSystem(options?: Parameters<typeof createTestSystem>[0]): Promise<TestSystem> {
  const t = await createTestSystem(options);
  open.push(t);
  return t;
}
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

const Reminder = defineActor({
  name: 'reminder',
  initialState: () => ({ rang: [] as number[], armed: 0 }),
  reducers: {
    arm(state, delay: number, ctx) {
      state.armed += 1;
      ctx.schedule({ delay, key: 'bell' }).ring();
    },
    ring(state, _: void, ctx) {
      state.rang.push(ctx.now());
    },
    // rings every second, five times
    repeat(state, _: void, ctx) {
      state.rang.push(ctx.now());
      if (state.rang.length < 5) ctx.schedule({ delay: 1_000 }).repeat();
    },
    stamp(state, _: void, ctx) {
      state.rang.push(ctx.now());
    },
  },
});

describe('createTestSystem', () => {
  it('runs actors in virtual time: a delayed dispatch fires only once the clock reaches it, with ctx.now() its due time', async () => {
    const t = await testSystem();
    t.serve(Reminder);
    const r = t.ref(Reminder, 'a');
    expect(t.clock.now()).toBe(TEST_EPOCH);
    await r.dispatch.stamp();
    await r.dispatch.ring(undefined, { delay: 5_000 });
    await t.settle();
    expect(await r.query((s) => s.rang)).toEqual([TEST_EPOCH]);
    t.clock.advance(4_999);
    await t.settle();
    expect(await r.query((s) => s.rang)).toEqual([TEST_EPOCH]);
    t.clock.advance(1);
    await t.settle();
    expect(await r.query((s) => s.rang)).toEqual([TEST_EPOCH, TEST_EPOCH + 5_000]);
  });

  it('fires timers set by reducers; a replaced timer fires once; advance() steps through timers set by timers', async () => {
    const t = await testSystem({ now: new Date('2031-06-01T00:00:00Z') });
    const start = Date.UTC(2031, 5, 1);
    t.serve(Reminder);
    const r = t.ref(Reminder, 'a');
    await r.dispatch.arm(10_000);
    await r.dispatch.arm(20_000); // replaces the bell
    await t.advance(60_000);
    expect(await r.query()).toEqual({ rang: [start + 20_000], armed: 2 });
    const b = t.ref(Reminder, 'b');
    await b.dispatch.repeat();
    await t.advance(10_000);
    expect(await b.query((s) => s.rang)).toEqual([0, 1, 2, 3, 4].map((i) => start + 60_000 + i * 1_000));
    expect(t.clock.now()).toBe(start + 70_000);
  });

  it('settles every queue, send between actors and thunk; thunks are replaced without touching the definition', async () => {
    const sent: Array<{ to: string; key: string }> = [];
    const Account = defineAccount({ mailer: { send: async () => expect.unreachable('the real mailer ran') } });
    const t = await testSystem({
      thunks: {
        sendStatement: async ({ to }: { to: string }, { key }) => {
          sent.push({ to, key });
          return (draft: { statementsSent: number }) => void (draft.statementsSent += 1);
        },
      },
    });
    t.serve(Account);
    const alice = t.ref(Account, 'alice');
    void alice.dispatch.deposit(100);
    void alice.dispatch.transfer({ to: 'bob', amount: 30 });
    void alice.dispatch.emailStatement('alice@example.com');
    await t.settle();
    expect(await alice.query()).toEqual({ balance: 70, statementsSent: 1 });
    expect(await t.ref(Account, 'bob').query((s) => s.balance)).toBe(30);
    expect(sent).toEqual([{ to: 'alice@example.com', key: expect.stringMatching(/^account\/alice\//) }]);
    // the admin API takes the definition the test wrote
    expect(await t.admin.deadLetters(Account, 'alice')).toEqual([]);
  });

  it('retries a failing fake as the definition says, faster with actorOptions, and dead-letters it', async () => {
    let runs = 0;
    const Account = defineAccount();
    const t = await testSystem({
      actorOptions: { thunkRetryMs: 1, thunkAttempts: 2 },
      thunks: {
        sendStatement: async () => {
          runs++;
          throw new Error('mail server down');
        },
      },
    });
    t.serve(Account);
    await t.ref(Account, 'alice').dispatch.emailStatement('a@example.com');
    await t.settle();
    expect(runs).toBe(2);
    expect((await t.admin.deadLetters(Account, 'alice')).map((d) => d.error.message)).toEqual([expect.stringContaining('mail server down')]);
  });

  it('fails settle() with settle_timeout naming what is still pending', async () => {
    const Account = defineAccount();
    const t = await testSystem({ thunks: { sendStatement: () => new Promise(() => {}) } });
    t.serve(Account);
    await t.ref(Account, 'alice').dispatch.emailStatement('a@example.com');
    const error = await t.settle({ timeoutMs: 200 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SettleTimeoutError);
    expect(isDgenError(error, 'settle_timeout')).toBe(true);
    expect((error as SettleTimeoutError).pending).toEqual(['account/alice: a thunk holds its lock']);
  });

  it('does not wait for definitions it does not serve', async () => {
    const Account = defineAccount();
    const t = await testSystem();
    await t.ref(Account, 'alice').dispatch.deposit(5);
    await t.settle();
    expect(await t.admin.queue(Account, 'alice')).toHaveLength(1);
  });

  it('answers calls, and keeps one definition per name', async () => {
    const Account = defineAccount();
    const t = await testSystem();
    t.serve(Account);
    await t.ref(Account, 'alice').dispatch.deposit(50);
    expect(await t.ref(Account, 'alice').call.transfer({ to: 'bob', amount: 20 })).toBe(30);
    expect(() => t.ref(defineAccount(), 'x')).toThrow(expect.objectContaining({ code: 'definition_conflict' }));
  });

  it('credits a delayed deposit when its time comes, and mails one statement (docs/testing.md)', async () => {
    const mails: string[] = [];
    const Account = defineAccount();
    const t = await testSystem({
      thunks: {
        sendStatement: fakeThunk(Account, 'sendStatement', async ({ to }) => {
          mails.push(to);
          return (draft) => void (draft.statementsSent += 1);
        }),
      },
    });
    t.serve(Account);
    const alice = t.ref(Account, 'alice');
    await alice.dispatch.deposit(100, { delay: 60 * 60_000 });
    await alice.dispatch.emailStatement('alice@example.com');
    await t.settle();
    expect(await alice.query()).toEqual({ balance: 0, statementsSent: 1 });
    await t.advance(60 * 60_000);
    expect(await alice.query((s) => s.balance)).toBe(100);
    expect(mails).toEqual(['alice@example.com']);
  });

  it('takes a fake typed from its thunk (fakeThunk), and refuses one for a thunk the definition lacks', async () => {
    const Account = defineAccount();
    const mails: string[] = [];
    const t = await testSystem({
      thunks: {
        sendStatement: fakeThunk(Account, 'sendStatement', async ({ to }, { state }) => {
          mails.push(`${to}: ${state.balance}`);
          return (draft) => {
            draft.statementsSent += 1;
          };
        }),
      },
    });
    t.serve(Account);
    await t.ref(Account, 'alice').dispatch.deposit(7);
    await t.ref(Account, 'alice').dispatch.emailStatement('alice@example.com');
    await t.settle();
    expect(mails).toEqual(['alice@example.com: 7']);
    expect(() => fakeThunk(Account, 'sendMail' as never, (async () => {}) as never)).toThrow(expect.objectContaining({ code: 'unknown_thunk' }));
  });
});
