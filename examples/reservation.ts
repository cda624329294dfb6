/**
 * A seat reservation that lapses: holding a seat sets a timer in the same transaction; confirming
 * cancels it; if nobody confirms, the timer's message releases the seat. The timer is durable:
 * kill the process while a hold is pending and the next run releases the seat when it is due.
 *
 *   npx tsx examples/reservation.ts            holds two seats for 2 s, confirms one, waits: the other lapses
 */
import { createSystem, defineActor, memory } from '../src/index.js';

interface Seat {
  holder: string | null;
  confirmed: boolean;
  history: string[];
}

export const SeatActor = defineActor({
  name: 'seat',
  initialState: (): Seat => ({ holder: null, confirmed: false, history: [] }),
  reducers: {
    hold(state, p: { who: string; forMs: number }, ctx) {
      if (state.holder !== null) throw Object.assign(new Error(`seat already held by ${state.holder}`), { code: 'seat_taken' });
      state.holder = p.who;
      state.history.push(`${new Date(ctx.now()).toISOString()} held by ${p.who}`);
      // Committed with the hold, or not at all; holding again under the same key would replace it.
      ctx.schedule({ delay: p.forMs, key: 'lapse' }).lapse(p.who);
    },
    confirm(state, who: string, ctx) {
      if (state.holder !== who) return ctx.reply(false);
      state.confirmed = true;
      ctx.cancel('lapse');
      state.history.push(`${new Date(ctx.now()).toISOString()} confirmed by ${who}`);
      return ctx.reply(true);
    },
    lapse(state, who: string, ctx) {
      // A confirm may have been processed after the timer fired: the state decides.
      if (state.confirmed || state.holder !== who) return;
      state.holder = null;
      state.history.push(`${new Date(ctx.now()).toISOString()} lapsed for ${who} (ctx.now() is the due time)`);
    },
  },
});

const system = await createSystem({ backend: process.env.DGEN_PATH === undefined ? memory() : undefined, path: process.env.DGEN_PATH });
system.serve(SeatActor);
const [a, b] = [system.ref(SeatActor, 'row1-seat4'), system.ref(SeatActor, 'row1-seat5')];
await a.call.hold({ who: 'ada', forMs: 2_000 });
await b.call.hold({ who: 'bob', forMs: 2_000 });
console.log('pending timers of row1-seat5:', await system.admin.timers(SeatActor, 'row1-seat5'));
console.log('ada confirms:', await a.call.confirm('ada'));
await new Promise((r) => setTimeout(r, 2_500));
console.log('row1-seat4:', await a.query());
console.log('row1-seat5:', await b.query());
await system.close();
