import { defineActor } from '../../src/index.js';

/**
 * The actor of the FoundationDB recovery test: counts every message it applies under its tag, so
 * a message applied twice (or never) shows by name; `ask` also replies with the count of tags.
 */
export const RecoveryLog = defineActor({
  name: 'recovery-log',
  initialState: () => ({ seen: {} as Record<string, number> }),
  reducers: {
    add(state, tag: string) {
      state.seen[tag] = (state.seen[tag] ?? 0) + 1;
    },
    ask(state, tag: string, ctx) {
      state.seen[tag] = (state.seen[tag] ?? 0) + 1;
      return ctx.reply(Object.keys(state.seen).length);
    },
  },
  options: { leaseMs: 2_000 },
});

/** The actor a producer's message `i` goes to. */
export function actorOf(i: number, actors: number): string {
  return `a${i % actors}`;
}
