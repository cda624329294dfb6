/**
 * Riding through a store recovery, in virtual time on the memory engine: commits stalled past
 * their timeout (applied later, or not), attempts that time out, and a store that stays away past
 * the operation's deadline. Every message is applied exactly once, and every failure says truly
 * whether its message was stored.
 */
import { describe, expect, it } from 'vitest';
import { createSystem, defineActor, memory, StoreUnavailableError, TimedOutError, type MemoryBackend, type System, type SystemEvent } from '../../src/index.js';
import { VirtualClock } from '../../src/testing/clock.js';

const Log = defineActor({
  name: 'log',
  initialState: () => ({ tags: [] as string[] }),
  reducers: {
    add(state, tag: string) {
      state.tags.push(tag);
    },
    ask(state, tag: string, ctx) {
      state.tags.push(tag);
      return ctx.reply(state.tags.length);
    },
  },
});

/** Runs `scenario` in virtual time with a fresh memory engine and system (whose store is away while `away.down`). */
async function inVirtualTime<T>(scenario: (db: MemoryBackend, system: System, clock: VirtualClock) => Promise<T>, storeDeadlineMs?: number, away?: { down: boolean }): Promise<T> {
  let seed = 1;
  const clock = new VirtualClock(Date.UTC(2030, 0, 1), () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646);
  return clock.run(async () => {
    const db = memory({ seed: 7 });
    // Every transaction of a store that is away times out at once.
    const backend: MemoryBackend = away === undefined ? db : Object.create(db, { transact: { value: (fn: never, o: never) => (away.down ? Promise.reject(new TimedOutError()) : db.transact(fn, o)) } });
    const system = await createSystem({ backend, ...(storeDeadlineMs === undefined ? {} : { storeDeadlineMs }) });
    try {
      return await scenario(db, system, clock);
    } finally {
      db.faults.clear();
      await system.close();
    }
  }, 600_000);
}

/** How many times each tag was applied. */
async function applied(system: System, id: string): Promise<Map<string, number>> {
  const { tags } = await system.ref(Log, id).query();
  const counts = new Map<string, number>();
  for (const t of tags) counts.set(t, (counts.get(t) ?? 0) + 1);
  return counts;
}

/** Serves Log until instance `id` holds `n` tags (or 60 virtual seconds pass). */
async function drain(system: System, clock: VirtualClock, id: string, n: number): Promise<void> {
  const serving = system.serve(Log);
  for (let i = 0; i < 600 && (await system.ref(Log, id).query()).tags.length < n; i++) await clock.sleep(100);
  await clock.sleep(20_000); // a commit still in flight would land by now
  await serving.stop();
}

describe('through a store recovery', () => {
  it('a dispatch whose commit stalls past its timeout and then lands is applied once, not twice', async () => {
    const counts = await inVirtualTime(async (db, system, clock) => {
      db.faults.set({ stallMs: 12_000 }); // past the 5 s attempt and its 5 s grace: commit_unknown_result while the commit is in flight
      db.faults.injectNext('stall');
      await system.ref(Log, 'a').dispatch.add('m1');
      expect(db.faults.injected.stall).toBe(1);
      await drain(system, clock, 'a', 1);
      return applied(system, 'a');
    });
    expect(counts).toEqual(new Map([['m1', 1]]));
  });

  it('dispatches and calls wait through a recovery (commits stalled, timed out, applied or not) and apply exactly once', async () => {
    const { counts, replies } = await inVirtualTime(async (db, system, clock) => {
      const serving = system.serve(Log);
      db.faults.set({ stall: 0.4, stallMs: 11_000, unknownResultNotApplied: 0.1, commitDelayMs: [0, 7_000] });
      const ref = system.ref(Log, 'b');
      const sends = Array.from({ length: 20 }, (_, i) => ref.dispatch.add(`d${i}`));
      const calls = Array.from({ length: 5 }, (_, i) => ref.call.ask(`c${i}`, { timeout: 120_000 }));
      await clock.sleep(15_000);
      db.faults.clear(); // the cluster recovered
      await Promise.all(sends);
      const replies = await Promise.all(calls);
      await serving.stop();
      await drain(system, clock, 'b', 25);
      return { counts: await applied(system, 'b'), replies };
    });
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(counts.size).toBe(25);
    expect(new Set(replies).size).toBe(5);
  });

  it('past storeDeadlineMs a dispatch fails with store_unavailable, stored: false, when no attempt can have landed', async () => {
    const outcome = await inVirtualTime(async (db, system, clock) => {
      db.faults.set({ commitDelayMs: 6_000 }); // every attempt times out; an aborted delayed commit never lands
      const error = await system.ref(Log, 'c').dispatch.add('lost').catch((e: unknown) => e);
      db.faults.clear();
      await drain(system, clock, 'c', 0);
      return { error, counts: await applied(system, 'c') };
    }, 3_000);
    expect(outcome.error).toBeInstanceOf(StoreUnavailableError);
    expect(outcome.error).toMatchObject({ code: 'store_unavailable', stored: false, retryable: true });
    expect((outcome.error as StoreUnavailableError).messageId).toMatch(/^[0-9a-f]{32}$/);
    expect(outcome.counts.size).toBe(0);
  });

  it("past storeDeadlineMs after an ambiguous commit: stored: 'unknown', and the message is applied at most once", async () => {
    const outcome = await inVirtualTime(async (db, system, clock) => {
      db.faults.set({ stall: 1, stallMs: 30_000 });
      const error = await system.ref(Log, 'd').call.ask('maybe').catch((e: unknown) => e);
      db.faults.clear();
      await clock.sleep(60_000);
      await drain(system, clock, 'd', 1);
      return { error, counts: await applied(system, 'd') };
    }, 15_000);
    expect(outcome.error).toMatchObject({ code: 'store_unavailable', stored: 'unknown' });
    expect(outcome.counts).toEqual(new Map([['maybe', 1]]));
  });

  it('consumers, the reply listener and state$ wait through a store that is away for 20 s, with no consumer error (store-retrying events instead); then calls and dispatches resolve', async () => {
    const away = { down: false };
    const outcome = await inVirtualTime(
      async (_db, system, clock) => {
        const errors: SystemEvent[] = [];
        let retrying = 0;
        system.events$.subscribe((e) => {
          if (e.type === 'consumer-error') errors.push(e);
          if (e.type === 'store-retrying') retrying++;
        });
        const serving = system.serve(Log);
        const ref = system.ref(Log, 'e');
        const seen: number[] = [];
        const sub = ref.state$.subscribe((s) => seen.push(s.tags.length));
        await ref.dispatch.add('before');
        away.down = true;
        const during = ref.dispatch.add('during');
        const asked = ref.call.ask('asked', { timeout: 120_000 });
        await clock.sleep(20_000);
        away.down = false;
        await during;
        const reply = await asked;
        for (let i = 0; i < 100 && seen.at(-1) !== 3; i++) await clock.sleep(100);
        sub.unsubscribe();
        await serving.stop();
        return { errors, retrying, reply, last: seen.at(-1), counts: await applied(system, 'e') };
      },
      undefined,
      away,
    );
    expect(outcome.errors).toEqual([]);
    // Reported, but at most once a second: 20 s away, a few dozen transactions retrying.
    expect(outcome.retrying).toBeGreaterThan(0);
    expect(outcome.retrying).toBeLessThanOrEqual(21);
    expect(outcome.reply).toBe(3);
    expect(outcome.last).toBe(3);
    expect(outcome.counts).toEqual(new Map([['before', 1], ['during', 1], ['asked', 1]]));
  });
});
