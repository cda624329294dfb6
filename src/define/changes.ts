/**
 * Whether a definition writes a change feed, and how long the feed keeps its entries. Only
 * definitions that ask for it pay for it: the batches of every other definition write nothing more.
 */
import { InvalidDefinitionError } from '../errors.js';

/**
 * How long a change feed keeps its entries: the oldest go once either bound is passed.
 *
 * @example
 * ```ts
 * defineActor({ name: 'order', changes: { retention: { ms: 3 * 86_400_000, count: 1_000_000 } }, initialState, reducers });
 * ```
 */
export interface ChangeRetention {
  /** Entries older than this many milliseconds are pruned. Default 7 days (when `count` is absent too). */
  readonly ms?: number;
  /** At most this many entries (batches) are kept, the newest. */
  readonly count?: number;
}

/**
 * The `changes` field of `defineActor`: `true` for the default retention (7 days), or the retention.
 *
 * @example
 * ```ts
 * const Player = defineActor({ name: 'player', changes: { retention: { count: 100_000 } }, initialState: { score: 0 }, reducers: { … } });
 * ```
 */
export type ChangesConfig = boolean | { readonly retention?: ChangeRetention };

/** The feed settings of a definition, resolved. @internal */
export interface ChangeFeedSettings {
  readonly retention: { readonly ms: number | undefined; readonly count: number | undefined };
}

/** Default retention: a week. @internal */
export const DEFAULT_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

/** Checks and resolves `defineActor({ changes })`; undefined when the definition writes no feed. @internal */
export function resolveChanges(actor: string, config: unknown): ChangeFeedSettings | undefined {
  if (config === undefined || config === false) return undefined;
  if (config === true) return Object.freeze({ retention: Object.freeze({ ms: DEFAULT_RETENTION_MS, count: undefined }) });
  const bad = (what: string) => new InvalidDefinitionError(`defineActor('${actor}'): changes${what}.`);
  if (config === null || typeof config !== 'object' || Array.isArray(config)) throw bad(' must be true, false or { retention: { ms?, count? } }');
  const extra = Object.keys(config).find((k) => k !== 'retention');
  if (extra !== undefined) throw bad(` has an unknown field '${extra}' (expected retention)`);
  const retention = (config as { retention?: unknown }).retention ?? {};
  if (retention === null || typeof retention !== 'object') throw bad('.retention must be { ms?, count? }');
  const { ms, count, ...rest } = retention as Record<string, unknown>;
  if (Object.keys(rest).length > 0) throw bad(`.retention has an unknown field '${Object.keys(rest)[0]}' (expected ms and count)`);
  if (ms !== undefined && !(typeof ms === 'number' && ms > 0 && Number.isFinite(ms))) throw bad('.retention.ms must be a positive number of milliseconds');
  if (count !== undefined && !(Number.isInteger(count) && (count as number) > 0)) throw bad('.retention.count must be a positive integer');
  const resolved = { ms: ms === undefined && count === undefined ? DEFAULT_RETENTION_MS : (ms as number | undefined), count: count as number | undefined };
  return Object.freeze({ retention: Object.freeze(resolved) });
}
