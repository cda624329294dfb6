/**
 * `fakeThunk(Def, name, run)`: a thunk fake typed from the thunk it replaces, so its arguments,
 * context and recipe need no annotations.
 */
import type { ActorDefinition, Reducers, RunOf, Thunks } from '../define/actor.js';
import { UnknownThunkError } from '../errors.js';
import type { ThunkFake } from './test-system.js';

/**
 * A fake for thunk `name` of `definition`, typed as the thunk's own run function: pass it in
 * `createTestSystem({ thunks })` or `simulate({ thunks })` under the same name. Throws
 * `unknown_thunk` when the definition has no such thunk.
 *
 * @example
 * ```ts
 * const mails: string[] = [];
 * const t = await createTestSystem({
 *   thunks: {
 *     sendStatement: fakeThunk(Account, 'sendStatement', async ({ to }, { state }) => {
 *       mails.push(`${to}: ${state.balance}`);
 *       return (draft) => { draft.statementsSent += 1; };
 *     }),
 *   },
 * });
 * ```
 */
export function fakeThunk<S, R extends Reducers<S>, T extends Thunks<S>, K extends keyof T & string>(definition: ActorDefinition<S, R, T>, name: K, run: RunOf<T[K]>): ThunkFake {
  if (!Object.hasOwn(definition?.thunks ?? {}, name)) throw new UnknownThunkError(String(definition?.name), name);
  return run as unknown as ThunkFake;
}
