import type { Patch } from '../util/immer.js';

/**
 * One committed batch of one actor instance, as the change feed delivers it.
 * @typeParam S - the state type of the definition
 * @typeParam A - its action names
 *
 * @example
 * ```ts
 * system.changes(Player, { from: 'start' }).subscribe((c) => console.log(c.cursor, c.id, c.version, c.messages.map((m) => m.action)));
 * ```
 */
export interface Change<S = unknown, A extends string = string> {
  /** Position in the feed (24 hex digits, in commit order): pass it as `from` to resume after this change. */
  readonly cursor: string;
  /** The definition's name. */
  readonly actor: string;
  /** The instance's id. */
  readonly id: string;
  /** The instance's state version this batch wrote (1 for its first batch; one more per batch). */
  readonly version: number;
  /** Wall-clock time of the committing process, in ms since the epoch. */
  readonly at: number;
  /** The immer patches from the previous version, or null when they were too large to keep in the feed (read the state instead). */
  readonly patches: readonly Patch[] | null;
  /**
   * The messages the batch applied, in order. A thunk's completion lists the message that locked
   * again; a message whose reducer threw changed nothing and is not listed.
   */
  readonly messages: ReadonlyArray<{ readonly id: string; readonly action: A }>;
  /** With `includeState`: the instance's state after this batch, as of `stateVersion`. */
  readonly state?: S;
  /**
   * With `includeState`: the version `state` is of. It is `version`, except after a batch whose
   * patches were not kept when the instance had moved on by the time the feed was read: then the
   * newest state (and its version) is given, as `state$` skips ahead after a reload.
   */
  readonly stateVersion?: number;
}

/**
 * A change with its state (`includeState: true`).
 *
 * @example
 * ```ts
 * system.changes(Player, { includeState: true }).subscribe((c: ChangeWithState<StateOf<typeof Player>>) => index.put(c.id, c.state));
 * ```
 */
export type ChangeWithState<S, A extends string = string> = Change<S, A> & { readonly state: S; readonly stateVersion: number };
