/**
 * `ref.state$`: committed states of one instance, in order. In a process whose consumer commits
 * them they come straight from that consumer; elsewhere a watch on the version key wakes the
 * observer, which reads the recent history of patches and replays them, so every committed state
 * is seen even when several commits happen between two wake-ups. An observer more than
 * HISTORY_KEEP batches behind reloads the whole state (and skips the states in between).
 * @internal
 */
import { applyPatches } from '../util/immer.js';
import { Observable } from 'rxjs';
import type { ActorDefinition } from '../define/actor.js';
import type { Transaction, Watch } from '../backend/contract.js';
import { groupBlobs } from '../store/blob.js';
import type { ActorKeys } from '../store/keys.js';
import type { Runtime } from '../runtime/runtime.js';
import { watchLoop } from '../runtime/watch-loop.js';
import { decodeHistory } from '../store/history.js';
import { StateStore } from '../state/store.js';
import { decodeVersion } from '../store/version.js';

interface Versioned<S> {
  readonly version: number;
  readonly state: S;
}

export function observeState<S>(rt: Runtime, def: ActorDefinition<S>, id: string, keys: ActorKeys): Observable<S> {
  return new Observable<S>((subscriber) => {
    let current: Versioned<S> | undefined;
    const emit = (next: Versioned<S>) => {
      if (current !== undefined && next.version <= current.version) return;
      const changed = current === undefined || current.state !== next.state;
      current = next;
      if (changed) subscriber.next(next.state);
    };
    const local = rt.commits$.subscribe((c) => {
      if (c.name === def.name && c.id === id && current !== undefined && c.version === current.version + 1) emit(c as Versioned<S>);
    });
    const stopWatching = watchLoop(rt, subscriber, async () => {
      const from = current;
      const read = await rt.backend.transact((tx) => catchUp(tx, def, keys, from));
      for (const s of read.states) emit(s);
      return read.watch;
    });
    return () => {
      stopWatching();
      local.unsubscribe();
    };
  });
}

/** The states committed after `from`, and a watch for the next commit, read in one transaction. */
async function catchUp<S>(tx: Transaction, def: ActorDefinition<S>, keys: ActorKeys, from: Versioned<S> | undefined): Promise<{ states: Versioned<S>[]; watch: Watch }> {
  const version = decodeVersion(await tx.get(keys.version)).n;
  const watch = tx.watch(keys.version);
  if (from !== undefined && from.version === version) return { states: [], watch };
  const replayed = from === undefined ? undefined : await replay(tx, keys, from, version);
  if (replayed !== undefined) return { states: replayed, watch };
  const state = version === 0 ? def.initialState() : ((await new StateStore(keys.state).load(tx)).state as S);
  return { states: [{ version, state }], watch };
}

/**
 * Replays the history entries (from.version, to]; undefined when some were pruned or too large
 * to keep (null). The entry of version 1 holds the patches from `initialState()`, which every
 * observer starts from.
 */
async function replay<S>(tx: Transaction, keys: ActorKeys, from: Versioned<S>, to: number): Promise<Versioned<S>[] | undefined> {
  if (to < from.version) return undefined;
  const kvs = await tx.getRange(keys.history.pack([from.version + 1]), keys.history.range([to]).end);
  const blobs = groupBlobs(keys.history, kvs, 1);
  if (blobs.length !== to - from.version) return undefined;
  const out: Versioned<S>[] = [];
  let state = from.state;
  for (const [i, blob] of blobs.entries()) {
    if (blob.bytes === undefined || blob.items[0] !== from.version + 1 + i) return undefined;
    const { patches } = decodeHistory(blob.bytes);
    if (patches === null) return undefined;
    state = applyPatches(state as object, patches) as S;
    out.push({ version: from.version + 1 + i, state });
  }
  return out;
}
