/**
 * The evolution options of a definition: its version, the migrations that bring a stored state
 * of an older version up to it, the upcasters that adapt older producers' payloads, and the
 * actions renamed since. Checked when the definition is made, so a gap or a typo fails at start-up
 * and never on a stored instance. How they run is in src/evolution/.
 */
import type { Draft } from '../util/immer.js';
import { InvalidDefinitionError } from '../errors.js';

/**
 * A migration: brings the draft of a state stored by the previous version to the shape of its own
 * version (the key it is stored under), like a reducer. It runs under immer, so only what it
 * changes is written. Read fields of the old shape through a type of your own.
 *
 * @example
 * ```ts
 * migrations: { 2: (draft) => { draft.currency = 'EUR'; } }
 * ```
 */
export type Migration<S> = (draft: Draft<S>) => void;

/**
 * Migrations by the version they lead to: `{ 2: …, 3: … }` turns a version-1 state into a version-3
 * one by running 2 then 3. Every version from 2 to the definition's `version` has one.
 *
 * @example
 * ```ts
 * const migrations: Migrations<{ count: number; unit: string }> = { 2: (d) => { d.unit = 'items'; } };
 * ```
 */
export type Migrations<S> = { readonly [version: number]: Migration<S> };

/**
 * Adapts a payload written by a producer of version `from` (its key) to the shape version
 * `from + 1` expects. The parameter may be annotated with the old payload type.
 *
 * @example
 * ```ts
 * const toObject: Upcaster = (amount: number) => ({ amount, currency: 'EUR' });
 * ```
 */
export type Upcaster = { bivariance(payload: unknown): unknown }['bivariance'];

/**
 * Upcasters of one action by the producer version they adapt from: `{ 1: (p) => …, 2: (p) => … }`
 * turns a version-1 payload into a version-3 one by running 1 then 2.
 *
 * @example
 * ```ts
 * upcast: { deposit: { 1: (amount: number) => ({ amount, currency: 'EUR' }) } }
 * ```
 */
export type Upcasts = { readonly [from: number]: Upcaster };

/**
 * The evolution fields of a definition as `defineActor` stores them (defaults filled in).
 *
 * @example
 * ```ts
 * if (Account.evolution.version > 1) console.log(Object.keys(Account.evolution.migrations)); // ['2', …]
 * ```
 */
export interface Evolution {
  /** The version of this definition: 1 unless given. */
  readonly version: number;
  readonly migrations: Readonly<Record<number, (draft: never) => void>>;
  readonly upcast: Readonly<Record<string, Upcasts>>;
  readonly renamed: Readonly<Record<string, string>>;
}

/** The raw evolution fields of a config, before any check. @internal */
export interface EvolutionInput {
  readonly version?: unknown;
  readonly migrations?: unknown;
  readonly upcast?: unknown;
  readonly renamed?: unknown;
}

/**
 * Checks the evolution fields of definition `actor` and returns them with defaults. Throws
 * {@link InvalidDefinitionError} for a version that is not a positive integer, a migration map
 * with a gap or a key above `version`, an upcaster of an unknown action or a version at or above
 * `version`, and a rename that clashes with the reducers.
 * @internal
 */
export function checkEvolution(actor: string, input: EvolutionInput, reducers: object): Evolution {
  const where = `defineActor('${actor}')`;
  const version = input.version ?? 1;
  if (!isPositiveInteger(version)) throw new InvalidDefinitionError(`${where}: version must be a positive integer (1, 2, …), got ${String(version)}.`);
  const migrations = plainObject(input.migrations ?? {}, `${where}: migrations`, 'an object of functions by version ({ 2: (draft) => … })');
  for (const [key, fn] of Object.entries(migrations)) {
    const v = versionKey(key, `${where}: migrations`);
    if (v < 2 || v > version) throw new InvalidDefinitionError(`${where}: migrations.${key} is outside 2..${version} (a migration is keyed by the version it leads to, at most the definition's version ${version}).`);
    if (typeof fn !== 'function') throw new InvalidDefinitionError(`${where}: migrations.${key} is not a function.`);
  }
  const keys = Object.keys(migrations).map(Number);
  if (keys.length > 0) {
    for (let v = Math.min(...keys); v <= version; v++) {
      if (!Object.hasOwn(migrations, String(v))) throw new InvalidDefinitionError(`${where}: migrations has a gap: no migration ${v} between ${Math.min(...keys)} and version ${version}; add migrations.${v} (an empty one if the shape did not change).`);
    }
  }
  const upcast = plainObject(input.upcast ?? {}, `${where}: upcast`, 'an object { action: { fromVersion: (payload) => payload } }');
  for (const [action, steps] of Object.entries(upcast)) {
    if (!Object.hasOwn(reducers, action)) throw new InvalidDefinitionError(`${where}: upcast.${action} names no reducer (upcasters are keyed by the current action name).`);
    for (const [key, fn] of Object.entries(plainObject(steps, `${where}: upcast.${action}`, 'an object of functions by producer version'))) {
      const v = versionKey(key, `${where}: upcast.${action}`);
      if (v >= version) throw new InvalidDefinitionError(`${where}: upcast.${action}.${key} adapts from version ${v}, which is not older than the definition's version ${version}.`);
      if (typeof fn !== 'function') throw new InvalidDefinitionError(`${where}: upcast.${action}.${key} is not a function.`);
    }
  }
  const renamed = plainObject(input.renamed ?? {}, `${where}: renamed`, "an object { oldAction: 'newAction' }");
  for (const [old, next] of Object.entries(renamed)) {
    if (Object.hasOwn(reducers, old)) throw new InvalidDefinitionError(`${where}: renamed.${old} is still a reducer; remove the reducer or the rename.`);
    if (typeof next !== 'string' || !Object.hasOwn(reducers, next)) throw new InvalidDefinitionError(`${where}: renamed.${old} must name a reducer, got ${JSON.stringify(next)}.`);
  }
  return Object.freeze({
    version,
    migrations: Object.freeze({ ...migrations }) as Evolution['migrations'],
    upcast: Object.freeze({ ...upcast }) as Evolution['upcast'],
    renamed: Object.freeze({ ...renamed }) as Evolution['renamed'],
  });
}

function isPositiveInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;
}

function versionKey(key: string, where: string): number {
  const v = Number(key);
  if (!/^[1-9][0-9]*$/.test(key) || !isPositiveInteger(v)) throw new InvalidDefinitionError(`${where} has the key '${key}', which is not a positive integer version.`);
  return v;
}

function plainObject(value: unknown, where: string, expected: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InvalidDefinitionError(`${where} must be ${expected}.`);
  return value as Record<string, unknown>;
}
