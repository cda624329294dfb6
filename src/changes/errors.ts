import { DgenError } from '../errors.js';

/**
 * The cursor given to `system.changes(Def, { from })` points before the oldest entry the feed
 * still keeps: the changes right after it were pruned by the definition's retention. Read the
 * state afresh (or start from `'start'`) and follow the feed from there, or keep a longer retention.
 *
 * @example
 * ```ts
 * system.changes(Player, { from: saved }).subscribe({
 *   next: (c) => apply(c),
 *   error: (e) => { if (e instanceof CursorExpiredError) rebuildFromScratch(); },
 * });
 * ```
 */
export class CursorExpiredError extends DgenError {
  constructor(
    readonly actor: string,
    readonly cursor: string,
  ) {
    super('cursor_expired', `The change feed of '${actor}' no longer holds the changes right after cursor ${cursor}: they are older than its retention and were pruned. Rebuild from the current states and follow from 'now', or keep a longer retention (defineActor({ changes: { retention } })).`);
  }
}

/**
 * `system.changes` or `system.listen` was given a definition that writes no change feed.
 *
 * @example
 * ```ts
 * const Player = defineActor({ name: 'player', changes: true, initialState: { score: 0 }, reducers: { … } });
 * ```
 */
export class ChangesNotEnabledError extends DgenError {
  constructor(readonly actor: string) {
    super('changes_not_enabled', `Actor '${actor}' writes no change feed: define it with defineActor({ …, changes: true }) (or changes: { retention }) to follow its changes.`);
  }
}
