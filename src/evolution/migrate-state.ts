/**
 * Lazy migration: the state a batch starts from, brought up to the definition's version by
 * running the missing migrations in order under immer. Their patches join the batch's, so the
 * migration is written in the batch's transaction, key by key like any change.
 * @internal
 */
import type { ActorDefinition } from '../define/actor.js';
import { produceWithPatches, type Draft, type Patch } from '../util/immer.js';
import { validateValue } from '../state/codec.js';
import { MigrationFailedError } from './errors.js';

/** A state ready for this definition's reducers. */
export interface Evolved<S> {
  /** The state to apply messages to: the stored one, migrated. */
  readonly state: S;
  /** The migrations' patches, from the stored state to `state`. */
  readonly patches: Patch[];
  /** The definition version to record with the batch's write, when it changes. */
  readonly write: number | undefined;
  /** Set when a migration threw: `state` is the stored one, and nothing may be written for it. */
  readonly failure?: MigrationFailedError;
}

/** Is the instance stored by a newer definition than `def`? Then `def` never processes nor writes it. */
export function isOutdated(def: { readonly version?: number }, stored: number): boolean {
  return stored > versionOf(def);
}

/**
 * Brings `base`, stored by definition version `stored` (`hasState` false when nothing is stored
 * yet), up to `def`'s version. Never throws: a failing migration is reported in `failure`.
 */
export function evolve<S>(def: ActorDefinition<S>, base: S, stored: number, hasState: boolean, id: string): Evolved<S> {
  const version = versionOf(def);
  if (stored === version) return { state: base, patches: [], write: undefined };
  if (!hasState || stored > version) return { state: base, patches: [], write: hasState ? undefined : version };
  let state = base;
  const patches: Patch[] = [];
  for (let v = stored + 1; v <= version; v++) {
    const migration = def.evolution?.migrations[v] as ((draft: Draft<S>) => void) | undefined;
    if (migration === undefined) continue; // versions before the first migration changed no shape
    try {
      const [next, more] = produceWithPatches(state, (draft: Draft<S>) => void migration(draft)) as [S, Patch[], Patch[]];
      for (const p of more) if (p.op !== 'remove') validateValue(p.value, `state (migration ${v})`);
      state = next;
      patches.push(...more);
    } catch (e) {
      return { state: base, patches: [], write: undefined, failure: new MigrationFailedError(def.name, id, v, e) };
    }
  }
  return { state, patches, write: version };
}

/** A definition's version (1 for one made before versions existed). */
export function versionOf(def: { readonly version?: number }): number {
  return def.version ?? 1;
}
