import { defineActor } from '../../src/index.js';

/** A player whose every batch goes to the change feed. */
export const Player = defineActor({
  name: 'player',
  changes: true,
  initialState: () => ({ score: 0, name: '' }),
  reducers: {
    score(state, points: number) {
      state.score += points;
    },
    rename(state, name: string) {
      state.name = name;
    },
    big(state, size: number) {
      state.name = 'x'.repeat(size);
    },
  },
});

/** The aggregate a listener keeps: each player's total, and the changes it applied by cursor. */
export const Board = defineActor({
  name: 'board',
  initialState: () => ({ totals: {} as Record<string, number>, applied: 0 }),
  reducers: {
    add(state, p: { player: string; points: number }) {
      state.totals[p.player] = (state.totals[p.player] ?? 0) + p.points;
      state.applied += 1;
    },
  },
});

/** A definition without a feed. */
export const Plain = defineActor({ name: 'plain', initialState: { n: 0 }, reducers: { inc(s) { s.n += 1; } } });
