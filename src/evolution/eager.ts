/**
 * Eager migration for operators (`dgen migrate <actor>`, `system.admin.migrate`): walks the stored
 * instances of a definition a page at a time, in id order, and brings each one up to the
 * definition's version in its own transaction, written like a batch (incremental patches, a new
 * state version and history entry, so caches and observers elsewhere see it). A dry run computes
 * the same and writes nothing. Instances already at the version are left alone, so a walk that
 * stopped can be run again, or resumed after the last id it reported.
 * @internal
 */
import type { Transaction } from '../backend/contract.js';
import type { ActorDefinition } from '../define/actor.js';
import type { Runtime } from '../runtime/runtime.js';
import { StateStore } from '../state/store.js';
import { writeBlob } from '../store/blob.js';
import { encodeHistory } from '../store/history.js';
import type { ActorKeys } from '../store/keys.js';
import type { StoredError } from '../store/queue.js';
import { decodeVersion, encodeVersion, type StateVersion } from '../store/version.js';
import type { Patch } from '../util/immer.js';
import { randomHex } from '../util/random-hex.js';
import { DefinitionOutdatedError } from './errors.js';
import { evolve, versionOf } from './migrate-state.js';
import { readDefinitionVersion, writeDefinitionVersion } from './stored-version.js';

/** Patches kept in the history entry of an eager migration, as a batch keeps its own (past that, observers reload). */
const HISTORY_BYTES = 16_384;

/**
 * Options of one page of an eager migration.
 *
 * @example
 * ```ts
 * const preview = await system.admin.migrate(Account, { dryRun: true, limit: 500 });
 * ```
 */
export interface MigrateOptions {
  /** Compute every migration and report failures, writing nothing. */
  readonly dryRun?: boolean;
  /** Start after this instance id (the `next` of the previous page). */
  readonly after?: string;
  /** Instances per page. Default 100. */
  readonly limit?: number;
}

/**
 * One page of an eager migration.
 *
 * @example
 * ```ts
 * let after: string | undefined;
 * do {
 *   const page = await system.admin.migrate(Account, { after });
 *   for (const f of page.failed) console.error(f.id, f.error.code, f.error.message);
 *   after = page.next;
 * } while (after !== undefined);
 * ```
 */
export interface MigratePage {
  readonly dryRun: boolean;
  /** The definition version instances were brought to. */
  readonly version: number;
  /** Ids migrated (or that would be, in a dry run). */
  readonly migrated: readonly string[];
  /** How many were already at the version, or have no state yet (nothing to do). */
  readonly current: number;
  /** Instances a migration failed on, or written by a newer definition (`definition_outdated`); left unchanged. */
  readonly failed: ReadonlyArray<{ readonly id: string; readonly error: StoredError }>;
  /** The id to pass as `after` for the next page; undefined when this page was the last. */
  readonly next: string | undefined;
}

type One = { readonly kind: 'migrated' } | { readonly kind: 'current' } | { readonly kind: 'failed'; readonly error: StoredError };

/** Migrates one page of the stored instances of `def`. */
export async function migratePage<S>(rt: Runtime, def: ActorDefinition<S>, options: MigrateOptions = {}): Promise<MigratePage> {
  const limit = options.limit ?? 100;
  const dryRun = options.dryRun === true;
  const ids = await pageOfIds(rt, def.name, options.after, limit);
  const migrated: string[] = [];
  const failed: Array<{ id: string; error: StoredError }> = [];
  let current = 0;
  for (const id of ids) {
    const r = await migrateOne(rt, def, id, dryRun);
    if (r.kind === 'migrated') migrated.push(id);
    else if (r.kind === 'current') current++;
    else failed.push({ id, error: r.error });
  }
  return { dryRun, version: versionOf(def), migrated, current, failed, next: ids.length === limit ? ids[ids.length - 1] : undefined };
}

/** The ids of instances with stored state, after `after`, in order. */
async function pageOfIds(rt: Runtime, name: string, after: string | undefined, limit: number): Promise<string[]> {
  const index = rt.layout.index(name);
  const { end } = index.range();
  const begin = after === undefined ? index.range().begin : index.range([after]).end;
  const page = await rt.backend.transact((tx) => tx.getRange(begin, end, { limit, snapshot: true }), { idempotent: true });
  return page.map((kv) => String(index.unpack(kv.key)[0]));
}

/**
 * Migrates one instance in one transaction. Reading the version keys makes it conflict with any
 * batch committed meanwhile, so it never overwrites one; a retried attempt finds the work done.
 */
async function migrateOne<S>(rt: Runtime, def: ActorDefinition<S>, id: string, dryRun: boolean): Promise<One> {
  const keys = rt.layout.actor(def.name, id);
  const store = new StateStore(keys.state);
  return rt.backend.transact(async (tx): Promise<One> => {
    const [version, stored] = await Promise.all([tx.get(keys.version).then(decodeVersion), readDefinitionVersion(tx, keys)]);
    if (version.n === 0 || stored === versionOf(def)) return { kind: 'current' };
    if (stored > versionOf(def)) return { kind: 'failed', error: storedError(new DefinitionOutdatedError(def.name, id, versionOf(def), stored)) };
    const base = (await store.load(tx)).state as S;
    const evolved = evolve(def, base, stored, true, id);
    if (evolved.failure !== undefined) return { kind: 'failed', error: storedError(evolved.failure) };
    if (!dryRun) writeMigrated(tx, keys, store, version, base, evolved.state, evolved.patches, versionOf(def));
    return { kind: 'migrated' };
  });
}

/**
 * Writes a migrated state as a batch writes a state: its changed keys, the next state version (so
 * consumers holding the old state in cache reload it), a history entry (so observers elsewhere
 * apply the same patches), and the definition version.
 */
function writeMigrated(tx: Transaction, keys: ActorKeys, store: StateStore, version: StateVersion, base: unknown, state: unknown, patches: Patch[], definitionVersion: number): void {
  const next: StateVersion = { n: version.n + 1, batch: randomHex(16) };
  store.writeChanges(tx, base, state, patches);
  tx.set(keys.version, encodeVersion(next));
  writeDefinitionVersion(tx, keys, definitionVersion);
  writeBlob(tx, keys.history, [next.n], encodeHistory(next.batch, patches, HISTORY_BYTES));
}

/** An error as operators read it in a report. */
function storedError(e: Error & { code?: string }): StoredError {
  return { name: e.name, message: e.message, code: e.code };
}
