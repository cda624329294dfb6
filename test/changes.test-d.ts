import type { Observable } from 'rxjs';
import { describe, expectTypeOf, it } from 'vitest';
import { createSystem, defineActor, memory, type Change, type ChangeWithState, type ListenerTx } from '../src/index.js';
import { Board, Player } from './changes/fixtures.js';

describe('types of the change feed and listeners', () => {
  it('infers the state and the action names of a feed from the definition', async () => {
    const system = await createSystem({ backend: memory() });
    expectTypeOf(system.changes(Player)).toEqualTypeOf<Observable<Change<{ score: number; name: string }, 'score' | 'rename' | 'big'>>>();
    const withState = system.changes(Player, { from: 'start', includeState: true });
    expectTypeOf(withState).toEqualTypeOf<Observable<ChangeWithState<{ score: number; name: string }, 'score' | 'rename' | 'big'>>>();
    withState.subscribe((c) => {
      expectTypeOf(c.state.score).toEqualTypeOf<number>();
      expectTypeOf(c.messages[0]!.action).toEqualTypeOf<'score' | 'rename' | 'big'>();
      expectTypeOf(c.cursor).toEqualTypeOf<string>();
    });
    // @ts-expect-error includeState is a boolean
    system.changes(Player, { includeState: 'yes' });
  });

  it('types a listener: its actions, its change, and typed sends through tx', async () => {
    const system = await createSystem({ backend: memory() });
    system.listen({
      name: 'board',
      on: Player,
      actions: ['score'],
      handler: (change, tx) => {
        expectTypeOf(change.state).toEqualTypeOf<{ score: number; name: string } | undefined>();
        expectTypeOf(tx).toEqualTypeOf<ListenerTx>();
        tx.send(Board, 'all').add({ player: change.id, points: 1 });
        // @ts-expect-error the payload of Board.add is typed
        tx.send(Board, 'all').add({ player: change.id });
        // @ts-expect-error Board has no action 'remove'
        tx.send(Board, 'all').remove();
      },
    });
    // @ts-expect-error 'scor' is not an action of Player
    system.listen({ name: 'x', on: Player, actions: ['scor'], handler: () => {} });
    // @ts-expect-error onFailure is 'halt' or 'dead-letter'
    system.listen({ name: 'x', on: Player, onFailure: 'retry', handler: () => {} });
  });

  it('types the changes option of defineActor', () => {
    defineActor({ name: 'a', changes: { retention: { ms: 60_000, count: 10 } }, initialState: 0, reducers: { x() {} } });
    defineActor({ name: 'b', changes: true, initialState: 0, reducers: { x() {} } });
    // @ts-expect-error retention.ms is a number
    defineActor({ name: 'c', changes: { retention: { ms: '1d' } }, initialState: 0, reducers: { x() {} } });
  });
});
