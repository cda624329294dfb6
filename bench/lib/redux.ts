/**
 * The in-memory upper bound: a Redux-style store (a reducer returning a new state with spreads,
 * no persistence, no queue). What an actor costs when nothing is durable.
 */
export interface Action {
  readonly type: string;
  readonly payload?: unknown;
}

export type PlainReducer<S> = (state: S, action: Action) => S;

/** A minimal Redux `createStore`: dispatch runs the reducer and notifies subscribers. */
export function createStore<S>(reducer: PlainReducer<S>, initial: S) {
  let state = initial;
  const listeners = new Set<(s: S) => void>();
  return {
    getState: () => state,
    dispatch(action: Action): Action {
      state = reducer(state, action);
      for (const l of listeners) l(state);
      return action;
    },
    subscribe(l: (s: S) => void) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
}

/** The counter of the processing benchmarks as a plain reducer. */
export const counterReducer: PlainReducer<{ count: number }> = (state, action) => {
  switch (action.type) {
    case 'add':
      return { ...state, count: state.count + (action.payload as number) };
    default:
      return state;
  }
};
