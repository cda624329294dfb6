/**
 * `system.changes(Def)`: the committed changes of every instance of a definition, in commit order,
 * resumable from a cursor. A reader pages through the feed with snapshot reads (it never conflicts
 * with a writer), and when it has caught up it waits on the feed's count key, which every batch
 * bumps: the store's watch wakes it, as `state$` is woken, with no polling.
 * @internal
 */
import { Observable } from 'rxjs';
import type { Transaction, Watch } from '../backend/contract.js';
import type { ActorDefinition } from '../define/actor.js';
import type { Runtime } from '../runtime/runtime.js';
import { watchLoop } from '../runtime/watch-loop.js';
import { StateStore } from '../state/store.js';
import { applyPatches } from '../util/immer.js';
import { decodeVersion } from '../store/version.js';
import type { Change } from './change.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { CursorExpiredError } from './errors.js';
import { feedKeys, type FeedKeys } from './keys.js';
import { isExpired, lastPosition, readLowWater, readPage, type FeedEntry } from './page.js';

/** Entries one read takes. */
const PAGE = 256;
/** States a reader with `includeState` keeps to apply patches to. */
const STATES_KEPT = 10_000;

/** Where a reader starts: after a cursor, at the oldest entry kept, or after the newest. */
export type FeedStart = { readonly kind: 'after'; readonly position: Buffer } | { readonly kind: 'start' } | { readonly kind: 'now' };

export function parseStart(api: string, from: unknown): FeedStart {
  if (from === undefined || from === 'now') return { kind: 'now' };
  if (from === 'start') return { kind: 'start' };
  return { kind: 'after', position: decodeCursor(api, from) };
}

/** A page of changes and, when the reader has caught up, a watch for the next commit. */
interface Page {
  readonly entries: FeedEntry[];
  readonly states: Map<string, { version: number; state: unknown }>;
  readonly watch: Watch | undefined;
  /** The position after which the next page starts (set when starting from 'now'). */
  readonly after: Buffer | undefined;
}

/** Reads the page after `after` in one transaction; throws `cursor_expired` past retention. */
export async function readFeedPage(tx: Transaction, name: string, keys: FeedKeys, start: FeedStart, limit: number): Promise<Omit<Page, 'states'>> {
  let after = start.kind === 'after' ? start.position : undefined;
  if (start.kind === 'now') after = await lastPosition(tx, keys);
  if (start.kind === 'after') {
    const lw = await readLowWater(tx, keys);
    if (isExpired(start.position, lw)) throw new CursorExpiredError(name, encodeCursor(start.position));
  }
  // 'start' and 'now' in an empty feed read from its beginning: nothing is before it
  const entries = start.kind === 'now' && after === undefined ? await readPage(tx, keys, undefined, limit) : await readPage(tx, keys, after, limit);
  const watch = entries.length < limit ? tx.watch(keys.count) : undefined;
  return { entries, watch, after };
}

export function observeChanges<S>(rt: Runtime, def: ActorDefinition<S>, from: FeedStart, includeState: boolean): Observable<Change<S>> {
  const keys = feedKeys(rt.layout, def.name);
  return new Observable<Change<S>>((subscriber) => {
    let start = from;
    const states = new Map<string, { version: number; state: unknown }>();
    return watchLoop(
      rt,
      subscriber,
      async (stopped) => {
        const page = await rt.backend.transact(async (tx) => {
          const p = await readFeedPage(tx, def.name, keys, start, PAGE);
          return { ...p, loaded: includeState ? await loadMissing(tx, rt, def, p.entries, states) : new Map() };
        });
        if (start.kind === 'now') start = page.after === undefined ? { kind: 'start' } : { kind: 'after', position: page.after };
        for (const e of page.entries) {
          if (stopped()) break;
          subscriber.next(toChange(def, e, includeState ? stateAfter(def, e, states, page.loaded) : undefined));
          start = { kind: 'after', position: e.position };
        }
        return page.watch;
      },
      (e) => e instanceof CursorExpiredError,
    );
  });
}

export function toChange<S>(def: ActorDefinition<S>, e: FeedEntry, state: { version: number; state: unknown } | undefined): Change<S> {
  const change = { cursor: encodeCursor(e.position), actor: def.name, id: e.id, version: e.version, at: e.at, patches: e.patches, messages: e.messages };
  return state === undefined ? change : { ...change, state: state.state as S, stateVersion: state.version };
}

/** Can the state after `e` be had from the one kept, by applying its patches? */
function replayable(e: FeedEntry, kept: { version: number } | undefined): boolean {
  return e.patches !== null && (e.version === 1 || kept?.version === e.version - 1);
}

/**
 * Loads, in the page's transaction, the current state of each instance whose state after some
 * entry of the page cannot be replayed from what the reader keeps.
 */
async function loadMissing<S>(tx: Transaction, rt: Runtime, def: ActorDefinition<S>, entries: readonly FeedEntry[], states: Map<string, { version: number }>): Promise<Map<string, { version: number; state: unknown }>> {
  const need = new Set<string>();
  const seen = new Map<string, { version: number } | undefined>();
  for (const e of entries) {
    const kept = seen.has(e.id) ? seen.get(e.id) : states.get(e.id);
    if (!replayable(e, kept)) need.add(e.id);
    seen.set(e.id, { version: e.version });
  }
  const loaded = new Map<string, { version: number; state: unknown }>();
  for (const id of need) {
    const ak = rt.layout.actor(def.name, id);
    const version = decodeVersion(await tx.get(ak.version, { snapshot: true })).n;
    const state = version === 0 ? def.initialState() : (await new StateStore(ak.state).load(tx)).state;
    loaded.set(id, { version, state });
  }
  return loaded;
}

/** The state after entry `e`, from the kept state and its patches, else the state loaded with the page. */
function stateAfter<S>(def: ActorDefinition<S>, e: FeedEntry, states: Map<string, { version: number; state: unknown }>, loaded: Map<string, { version: number; state: unknown }>): { version: number; state: unknown } {
  const kept = states.get(e.id);
  let next: { version: number; state: unknown };
  if (kept !== undefined && kept.version >= e.version) next = kept; // a reload already went past this entry
  else if (replayable(e, kept)) next = { version: e.version, state: applyPatches((e.version === 1 ? def.initialState() : kept!.state) as object, e.patches!) };
  else next = loaded.get(e.id) ?? { version: e.version, state: undefined };
  states.delete(e.id);
  states.set(e.id, next);
  if (states.size > STATES_KEPT) states.delete(states.keys().next().value!);
  return next;
}
