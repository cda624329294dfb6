/**
 * Actor time from an injected clock (runtime/clock.ts), on memory and LMDB: what `ctx.now()`
 * returns, what delays count from, when timers fire. The test toolkit's virtual clock is one.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createSystem, defineActor, type Backend } from '../../src/index.js';
import { CLOCK } from '../../src/runtime/clock.js';
import { ManualClock } from '../../src/testing/test-clock.js';
import { actorEngines } from '../support/actor-engines.js';

const Stamp = defineActor({
  name: 'stamp',
  initialState: () => ({ at: [] as number[] }),
  reducers: {
    stamp(state, _: void, ctx) {
      state.at.push(ctx.now());
    },
    later(state, delay: number, ctx) {
      state.at.push(ctx.now());
      ctx.schedule({ delay }).stamp();
    },
  },
});

/** Polls `read` (real time) until it returns what `done` accepts. */
async function until<T>(read: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  for (let i = 0; ; i++) {
    const v = await read();
    if (done(v) || i > 500) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
}

for (const engine of actorEngines().filter((e) => e.name === 'memory' || e.name === 'lmdb')) {
  describe(`actor time from an injected clock (${engine.name})`, () => {
    afterAll(() => engine.cleanup?.());

    it('stamps messages with the clock, counts delays from it, and fires timers only when it reaches them', async () => {
      const backend: Backend = await engine.open();
      const clock = new ManualClock(Date.UTC(2040, 0, 1));
      const system = await createSystem({ backend, closeBackend: true, [CLOCK]: clock } as Parameters<typeof createSystem>[0]);
      try {
        system.serve(Stamp, { pollMs: 20 });
        const ref = system.ref(Stamp, 'a');
        const t0 = Date.UTC(2040, 0, 1);
        await ref.call.later(60_000);
        await ref.dispatch.stamp(undefined, { delay: 30_000 });
        expect(await ref.query((s) => s.at)).toEqual([t0]);
        expect((await system.admin.timers(Stamp, 'a')).map((t) => t.due).sort()).toEqual([t0 + 30_000, t0 + 60_000]);
        clock.advance(30_000);
        expect(await until(() => ref.query((s) => s.at), (at) => at.length === 2)).toEqual([t0, t0 + 30_000]);
        clock.advance(30_000);
        expect(await until(() => ref.query((s) => s.at), (at) => at.length === 3)).toEqual([t0, t0 + 30_000, t0 + 60_000]);
      } finally {
        await system.close();
      }
    });
  });
}
