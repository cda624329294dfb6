/**
 * The typed failures of evolving definitions.
 */
import { DgenError } from '../errors.js';

/**
 * A migration threw while bringing a stored state up to the definition's version. The stored
 * state is left as it was; the messages of the batch that needed it fail with this error (code
 * `migration_failed`) and follow the actor's failure policy, like a reducer's error.
 *
 * @example
 * ```ts
 * await account.call.deposit(5).catch((e) => { if (isDgenError(e, 'migration_failed')) alert(e.message); });
 * ```
 */
export class MigrationFailedError extends DgenError {
  constructor(actor: string, id: string, version: number, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super('migration_failed', `Actor '${actor}' id '${id}': migration ${version} threw (${why}); the stored state is unchanged. Fix the migration and requeue the dead letters (or resume a halted instance).`, { cause });
  }
}

/**
 * What `dgen migrate` reports for an instance stored by a newer definition than the one it runs
 * with: it is left as it is (code `definition_outdated`).
 *
 * @example
 * ```ts
 * const report = await migrateInstances(system, Account);
 * for (const f of report.failed) if (f.error.code === 'definition_outdated') console.log(`${f.id} is newer`);
 * ```
 */
export class DefinitionOutdatedError extends DgenError {
  constructor(actor: string, id: string, version: number, stored: number) {
    super('definition_outdated', `Actor '${actor}' id '${id}' was written by version ${stored} of its definition; this definition is version ${version}, older, and never writes it. Deploy version ${stored} or later.`);
  }
}
