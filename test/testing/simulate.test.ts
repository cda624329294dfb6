/**
 * simulate(): the bank example under the simulation's faults. With the planted bug (a transfer
 * that credits from an after-commit effect) a seed fails, printing the line that replays it and
 * the trace of the accounts involved; with ctx.send the same seeds pass.
 */
import { describe, expect, it } from 'vitest';
import { defineActor, isDgenError } from '../../src/index.js';
import { SimulationFailedError, simulate, type SimulationOptions } from '../../src/testing/index.js';
import { defineAccount } from './bank-account.js';

const Account = defineAccount();
const IDS = ['alice', 'bob', 'carol'];

interface Bank {
  deposited: number;
}

function bank(broken: boolean): SimulationOptions<Bank> {
  return {
    // the broken account is built per process: its effect needs that process's system
    definitions: broken ? (proc) => [defineAccount({ brokenTransfer: { system: () => proc.system } })] : [Account],
    model: () => ({ deposited: 0 }),
    thunks: { sendStatement: async () => (draft: { statementsSent: number }) => void (draft.statementsSent += 1) },
    async workload({ random, ref, model }) {
      for (let i = 0; i < 25; i++) {
        const from = random.pick(IDS);
        const account = ref(Account, from);
        if (random.chance(0.35)) {
          const amount = random.int(1, 50);
          await account.dispatch.deposit(amount);
          model.deposited += amount;
        } else if (random.chance(0.9)) {
          const to = random.pick(IDS.filter((id) => id !== from));
          const t = { to, amount: random.int(1, 30) };
          if (random.chance(0.5)) await account.dispatch.transfer(t);
          else await account.call.transfer(t).catch((e: unknown) => { if (!isDgenError(e, 'insufficient_funds')) throw e; });
        } else await account.dispatch.emailStatement(`${from}@example.com`);
      }
    },
    async invariants({ state, model }) {
      const balances = await Promise.all(IDS.map(async (id) => (await state(Account, id)).balance));
      expect(balances.every((b) => b >= 0), `balances ${balances.join(', ')}`).toBe(true);
      expect(balances.reduce((a, b) => a + b, 0), `money is conserved: alice, bob, carol hold ${balances.join(', ')}`).toBe(model.deposited);
    },
  };
}

describe('simulate', () => {
  it('passes the bank with transfers through ctx.send, under every fault', async () => {
    const result = await simulate({ ...bank(false), seeds: 30 });
    expect(result).toMatchObject({ ok: true, failures: [] });
    expect(result.seeds).toHaveLength(30);
    expect(result.crashes).toBeGreaterThan(0);
  });

  it('catches the planted bug: a transfer credited from an after-commit effect loses money when its process crashes', async () => {
    const result = await simulate({ ...bank(true), seeds: 30, throwOnFailure: false });
    expect(result.ok).toBe(false);
    const [first] = result.failures;
    expect(first!.violations.join('\n')).toMatch(/money is conserved/);
    expect(first!.replay).toBe(`simulate({ …, seeds: [${first!.seed}] }), or DGEN_SIMULATE_SEEDS=${first!.seed} with the same test`);
    expect(first!.trace.join('\n')).toMatch(/CRASHED/);
    // the failing seed replays alone, and passes without the bug
    await expect(simulate({ ...bank(true), seeds: [first!.seed] })).rejects.toThrow(SimulationFailedError);
    expect((await simulate({ ...bank(false), seeds: [first!.seed] })).ok).toBe(true);
  });

  it('replays a seed exactly: same violations, same trace', async () => {
    const failing = (await simulate({ ...bank(true), seeds: 10, throwOnFailure: false })).failures[0]!.seed;
    const [a, b] = [await simulate({ ...bank(true), seeds: [failing], throwOnFailure: false }), await simulate({ ...bank(true), seeds: [failing], throwOnFailure: false })];
    expect(a.failures).toHaveLength(1);
    expect(b.failures).toEqual(a.failures);
    expect(b.crashes).toBe(a.crashes);
  });

  it('runs the seeds DGEN_SIMULATE_SEEDS names, and refuses a malformed list', async () => {
    process.env.DGEN_SIMULATE_SEEDS = '4, 9';
    try {
      expect((await simulate({ ...bank(false), seeds: 100 })).seeds).toEqual([4, 9]);
      process.env.DGEN_SIMULATE_SEEDS = 'four';
      await expect(simulate({ ...bank(false) })).rejects.toMatchObject({ code: 'invalid_options' });
    } finally {
      delete process.env.DGEN_SIMULATE_SEEDS;
    }
  });

  it('fires timers due within the horizon before the invariants, and leaves a periodic timer pending', async () => {
    const Beat = defineActor({
      name: 'beat',
      initialState: () => ({ beats: 0 }),
      reducers: {
        start(_s, _: void, ctx) { ctx.schedule({ delay: 5 * 60_000, key: 'beat' }).beat(); },
        beat(s, _: void, ctx) { s.beats += 1; ctx.schedule({ delay: 5 * 60_000, key: 'beat' }).beat(); },
      },
    });
    const beats: number[] = [];
    const options: SimulationOptions<Record<string, never>> = {
      definitions: [Beat],
      seeds: 2,
      producers: 1,
      workload: async ({ ref }) => ref(Beat, 'b').dispatch.start(),
      async invariants({ state, system }) {
        beats.push((await state(Beat, 'b')).beats);
        expect(await system.admin.timers(Beat, 'b')).toHaveLength(1);
      },
    };
    expect((await simulate(options)).ok).toBe(true);
    expect((await simulate({ ...options, timerHorizonMs: 21 * 60_000 })).ok).toBe(true);
    expect(beats).toEqual([0, 0, 4, 4]);
  });

  it('switches faults off one by one', async () => {
    const calm = await simulate({ ...bank(true), seeds: 10, faults: { crashes: false, restarts: false, partitions: false }, throwOnFailure: false });
    expect(calm.crashes).toBe(0);
    // without crashes only the engine's faults can lose the effect (its dispatch failing after the debit committed)
    for (const f of calm.failures) expect(f.trace.join('\n')).not.toMatch(/CRASHED/);
  });

  it('passes the broken bank without faults: the bug needs a crash to show', async () => {
    expect((await simulate({ ...bank(true), seeds: 10, faults: false })).ok).toBe(true);
  });

  it('checks afterEveryCommit while the faults go on: a state that is wrong for a while, right at the end', async () => {
    const Gauge = defineActor({ name: 'gauge', initialState: () => ({ n: 0 }), reducers: { swing(s) { s.n -= 5; }, back(s) { s.n += 5; } } });
    const options: SimulationOptions<Record<string, never>> = {
      definitions: [Gauge],
      seeds: 3,
      async workload({ ref }) {
        await ref(Gauge, 'g').dispatch.swing();
        await ref(Gauge, 'g').dispatch.back(undefined, { delay: 1_000 }); // negative for a virtual second
      },
      async invariants({ state }) {
        expect((await state(Gauge, 'g')).n).toBe(0);
      },
    };
    expect((await simulate(options)).ok).toBe(true);
    const result = await simulate({
      ...options,
      throwOnFailure: false,
      afterEveryCommit: async ({ state }, { instances }) => ((await state(Gauge, 'g')).n < 0 && instances.includes('g') ? ['gauge g went below 0'] : []),
    });
    expect(result.failures.map((f) => f.seed)).toEqual([1, 2, 3]);
    expect(result.failures[0]!.violations).toEqual([expect.stringMatching(/^after a commit of [cp]\d#\d+ \[g\]: gauge g went below 0$/)]);
  });
});
