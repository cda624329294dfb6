import { defineActor } from '../../src/index.js';

export const Sink = defineActor({
  name: 'sink',
  initialState: { got: 0 },
  reducers: {
    got(state, by: number) {
      state.got += by;
    },
  },
});

/** Forwards what it gets to a sink, fails on demand, and locks a thunk. */
export const Relay = defineActor({
  name: 'relay',
  initialState: { n: 0 },
  thunks: {
    async job(_args: Record<string, never>) {
      return (draft: { n: number }) => {
        draft.n += 100;
      };
    },
  },
  reducers: {
    ping(state, by: number, ctx) {
      state.n += by;
      ctx.send(Sink, 'only').got(by);
      return ctx.reply(state.n);
    },
    boom(_state, _: void) {
      throw new Error('boom');
    },
    work(_state, _: void, ctx) {
      return ctx.lock('job', {});
    },
  },
});
