/** Actors of the inspector's tests: one whose messages fail until it is enabled, one whose thunk never ends. */
import { defineActor } from '../../src/index.js';

export const Flaky = defineActor({
  name: 'flaky',
  initialState: () => ({ total: 0, enabled: false, items: {} as Record<string, { n: number }> }),
  reducers: {
    apply(state, n: number) {
      if (!state.enabled) throw Object.assign(new Error('not enabled yet'), { code: 'not_enabled' });
      state.total += n;
    },
    enable(state) {
      state.enabled = true;
    },
    bump(state) {
      state.total += 1;
    },
    put(state, key: string) {
      state.items[key] = { n: Object.keys(state.items).length };
    },
  },
});

let started!: () => void;
/** Resolves once the thunk of {@link Locker} runs: a consumer stopped after that abandons it (before, the stop could race its start). */
export const lockerStarted = new Promise<void>((resolve) => (started = resolve));

/** Its thunk waits until aborted, so a consumer stopped meanwhile leaves the lock behind. */
export const Locker = defineActor({
  name: 'locker',
  initialState: () => ({ held: 0 }),
  thunks: {
    async wait(_args: Record<string, never>, { signal }) {
      started();
      if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      throw new Error('abandoned');
    },
  },
  reducers: {
    hold(state, _: void, ctx) {
      state.held += 1;
      ctx.lock('wait', {});
    },
  },
});
