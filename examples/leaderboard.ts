/**
 * A leaderboard over player actors, kept by a durable listener of the players' change feed: the
 * players know nothing of the board, and the board gets every score change exactly once, in
 * commit order, even across crashes and restarts of this program.
 *
 *   npx tsx examples/leaderboard.ts
 *
 * Runs on the embedded LMDB default (./.dgen); every run adds to the same players and board.
 * A second copy started meanwhile stands by: one process at a time runs the listener.
 */
import { createSystem, defineActor } from '../src/index.js';

/** A player: writes a change feed of its batches (kept a day). */
export const Player = defineActor({
  name: 'player',
  changes: { retention: { ms: 24 * 60 * 60 * 1000 } },
  initialState: () => ({ name: '', score: 0 }),
  reducers: {
    join(state, name: string) {
      state.name = name;
    },
    score(state, points: number) {
      state.score += points;
    },
  },
});

/** The board: the five best players and their scores. */
export const Board = defineActor({
  name: 'board',
  initialState: () => ({ top: [] as Array<{ player: string; score: number }> }),
  reducers: {
    report(state, entry: { player: string; score: number }) {
      const rest = state.top.filter((e) => e.player !== entry.player);
      state.top = [...rest, entry].sort((a, b) => b.score - a.score).slice(0, 5);
    },
    /** Answered after every report enqueued before it: the queue is processed in commit order. */
    show(state, _: void, ctx) {
      return ctx.reply(state.top.map((e) => ({ ...e })));
    },
  },
});

const system = await createSystem({ path: process.env.DGEN_PATH ?? '.dgen' });
system.serve(Player);
system.serve(Board);

// The listener: only batches that scored; the new score is in the change's patches. What it sends
// commits with its checkpoint, so the board never misses a change nor applies one twice.
system.listen({
  name: 'leaderboard',
  on: Player,
  actions: ['score'],
  handler: (change, tx) => {
    const score = change.patches?.findLast((p) => p.path[0] === 'score')?.value;
    if (typeof score === 'number') tx.send(Board, 'global').report({ player: change.id, score });
  },
});

// A live view of every change, with the state after it, as a read model would follow it.
const live = system.changes(Player, { includeState: true }).subscribe((c) => {
  console.log(`${c.cursor} ${c.id} v${c.version}: ${c.messages.map((m) => m.action).join(', ')} → score ${c.state.score}`);
});

const names = ['ada', 'grace', 'linus', 'barbara', 'ken', 'margaret', 'dennis'];
for (const name of names) await system.ref(Player, name).dispatch.join(name);
for (let round = 0; round < 20; round++) {
  const name = names[Math.floor(Math.random() * names.length)]!;
  await system.ref(Player, name).call.score(1 + Math.floor(Math.random() * 10)); // answered once processed
}

// Once the listener has caught up with the feed, the board has been sent every score.
while ((await system.admin.listeners()).some((l) => l.name === 'leaderboard' && l.lag.changes > 0)) await new Promise((r) => setTimeout(r, 20));
console.log('\nleaderboard:');
for (const [i, e] of (await system.ref(Board, 'global').call.show()).entries()) console.log(`  ${i + 1}. ${e.player.padEnd(10)} ${e.score}`);
live.unsubscribe();
await system.close();
