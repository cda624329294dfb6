#!/usr/bin/env node
/**
 * `dgen` (`npx dgen` in an app that installed the package): the operator's command line over
 * `system.admin`, on an LMDB path or a FoundationDB cluster. Prints JSON (or a table with
 * `--format table`) on stdout; errors go to stderr. Exit code 0 on success, 1 on a dgen error
 * (an unknown actor or instance among them: a typo never looks like an empty result), 2 on bad
 * usage.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Admin } from './admin.js';
import type { ActorDefinition } from '../define/actor.js';
import { DgenError } from '../errors.js';
import { createSystem, type System } from '../client/system.js';
import { formatTable } from './table.js';
import { startInspector, type InspectorOptions } from '../inspect/server.js';

/** Bad command-line usage. */
export class CliUsageError extends DgenError {
  constructor(message: string) {
    super('invalid_cli_usage', `${message} (see dgen --help)`);
  }
}

/** The CLI named an actor with no stored instance. */
export class UnknownActorError extends DgenError {
  constructor(actor: string, known: readonly string[]) {
    const list = known.length === 0 ? 'the store holds no actor yet' : `actors with stored instances: ${known.join(', ')}`;
    super('unknown_actor', `No stored instance of actor '${actor}' (${list}).`);
  }
}

/** The CLI named an instance that has nothing stored. */
export class UnknownInstanceError extends DgenError {
  constructor(actor: string, id: string) {
    super('unknown_instance', `Actor '${actor}' has no stored instance '${id}' (list them with: dgen instances ${actor}).`);
  }
}

const OPTIONS_HELP = `options:
  --path DIR            LMDB directory (default ./.dgen)
  --cluster-file FILE   use FoundationDB with this cluster file instead
  --format json|table   output format (default json)
  -h, --help            this help`;

const INSPECT_HELP = `usage: dgen inspect [--path DIR | --cluster-file FILE] [--port N] [--host ADDR] [--token T | --token-file F] [--import MODULE]...

Serves the web inspector until interrupted and prints its URL, which carries a random token.

  --port N              TCP port (default 4400; 0 picks a free one)
  --host ADDR           address to listen on (default 127.0.0.1); another than loopback needs --token or --token-file
  --token T             the token to require (16+ characters of A-Z a-z 0-9 . _ ~ -)
  --token-file F        read the token from file F (first line)
  --import MODULE       a module whose exported definitions the inspector may use to dispatch and to rebuild past states (repeatable)

${OPTIONS_HELP}`;

const MIGRATE_HELP = `usage: dgen migrate <actor> --import MODULE [--dry-run] [--after ID] [--page N] [--path DIR | --cluster-file FILE]

Brings every stored instance of <actor> up to the version of its definition, one transaction per
instance, a page of instances at a time. Prints how many were migrated, how many were already
current, and each failure with its instance id; exits with 1 when any failed.

  --import MODULE       the module exporting the definition of <actor> (repeatable; the newest version found is used)
  --dry-run             run every migration and report failures, writing nothing
  --after ID            resume after instance ID (the 'next' an interrupted run printed)
  --page N              instances per page (default 100)

${OPTIONS_HELP}`;

/** What a command needs to exist before it runs: nothing, a stored actor, or a stored instance. */
type Needs = 'store' | 'actor' | 'instance';

interface Command {
  readonly args: readonly string[];
  readonly summary: string;
  readonly needs: Needs;
  readonly run: (admin: Admin, args: string[]) => Promise<unknown>;
}

const COMMANDS: Record<string, Command> = {
  actors: { args: [], needs: 'store', summary: 'actors with stored instances: instance count, queued messages, dead letters', run: (a) => a.actors() },
  instances: { args: ['actor'], needs: 'actor', summary: 'ids of the instances with state, queued messages or dead letters', run: (a, [actor]) => a.instances(actor!) },
  state: { args: ['actor', 'id'], needs: 'instance', summary: 'the committed state (null when only messages are stored)', run: (a, [actor, id]) => a.state(actor!, id!) },
  queue: { args: ['actor', 'id'], needs: 'instance', summary: 'queued messages, with their positions', run: (a, [actor, id]) => a.queue(actor!, id!) },
  'dead-letters': { args: ['actor', 'id'], needs: 'instance', summary: 'failed messages, with their errors and positions', run: (a, [actor, id]) => a.deadLetters(actor!, id!) },
  delete: { args: ['actor', 'id', 'position'], needs: 'instance', summary: 'remove a queued message without processing it', run: (a, [actor, id, p]) => a.deleteQueued(actor!, id!, p!) },
  'delete-dead-letter': { args: ['actor', 'id', 'position'], needs: 'instance', summary: 'remove a dead letter', run: (a, [actor, id, p]) => a.deleteDeadLetter(actor!, id!, p!) },
  requeue: { args: ['actor', 'id', 'position'], needs: 'instance', summary: 'move a dead letter back to the end of the queue', run: (a, [actor, id, p]) => a.requeue(actor!, id!, p!) },
  lock: { args: ['actor', 'id'], needs: 'instance', summary: 'the lock of a running (or crashed) thunk, null when unlocked', run: (a, [actor, id]) => a.lock(actor!, id!) },
  'release-lock': { args: ['actor', 'id'], needs: 'instance', summary: 'release a stuck lock; its message goes to the dead letters', run: (a, [actor, id]) => a.releaseLock(actor!, id!) },
  resume: { args: ['actor', 'id'], needs: 'instance', summary: 'let a halted actor process its queue again', run: (a, [actor, id]) => a.resume(actor!, id!) },
  destroy: { args: ['actor', 'id'], needs: 'instance', summary: 'delete everything of an instance (needs --yes)', run: (a, [actor, id]) => a.destroy(actor!, id!).then(() => true) },
  timers: { args: ['actor', 'id'], needs: 'instance', summary: 'pending timers, in due order', run: (a, [actor, id]) => a.timers(actor!, id!) },
  listeners: { args: [], needs: 'store', summary: 'durable listeners: cursor, lag (changes, ms), owner, halt, dead letters', run: (a) => a.listeners() },
  'resume-listener': { args: ['name'], needs: 'store', summary: 'let a halted listener retry the change it halted at', run: (a, [name]) => a.resumeListener(name!) },
  'cancel-timer': { args: ['actor', 'id', 'key'], needs: 'instance', summary: 'cancel the pending timer scheduled under <key>', run: (a, [actor, id, key]) => a.cancelTimer(actor!, id!, { key: key! }) },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${`${name} ${c.args.map((a) => `<${a}>`).join(' ')}`.padEnd(38)}${c.summary}`);
  return `usage: dgen <command> [arguments] [--path DIR | --cluster-file FILE] [--format json|table]\n\ncommands:\n${lines.join('\n')}\n  ${'migrate <actor> --import MODULE'.padEnd(38)}migrate stored instances to the definition's version (dgen help migrate)\n  ${'inspect'.padEnd(38)}serve the web inspector (dgen help inspect)\n  ${'help [command]'.padEnd(38)}this help, or one command's\n\n${OPTIONS_HELP}`;
}

function commandUsage(name: string): string {
  const c = COMMANDS[name]!;
  return `usage: dgen ${name} ${c.args.map((a) => `<${a}>`).join(' ')}${name === 'destroy' ? ' --yes' : ''} [options]\n\n${c.summary}.\n\n${OPTIONS_HELP}`;
}

/**
 * Runs one command line; returns the exit code. `dgen inspect` runs until `signal` aborts (or
 * SIGINT / SIGTERM when no signal is given).
 */
export async function main(argv: string[], out: (line: string) => void = console.log, err: (line: string) => void = console.error, signal?: AbortSignal): Promise<number> {
  let system: System | undefined;
  try {
    const { values, positionals } = parse(argv);
    const [name, ...args] = positionals;
    if (name === 'inspect' || (name === 'help' && args[0] === 'inspect')) return await inspect(values, name === 'help' ? [] : args, out, name === 'help', signal);
    if (name === 'migrate' || (name === 'help' && args[0] === 'migrate')) return await migrate(values, name === 'help' ? [] : args, out, name === 'help');
    for (const flag of ['host', 'port', 'token', 'token-file', 'import'] as const) if (values[flag] !== undefined) throw new CliUsageError(`--${flag} is an option of 'dgen inspect' only`);
    for (const flag of ['dry-run', 'after', 'page'] as const) if (values[flag] !== undefined) throw new CliUsageError(`--${flag} is an option of 'dgen migrate' only`);
    if (name === 'help' || (values.help === true && (name === undefined || Object.hasOwn(COMMANDS, name)))) {
      const topic = name === 'help' ? args[0] : name;
      if (topic !== undefined && !Object.hasOwn(COMMANDS, topic)) throw new CliUsageError(`unknown command '${topic}'`);
      out(topic === undefined ? usage() : commandUsage(topic));
      return 0;
    }
    const command = name === undefined || !Object.hasOwn(COMMANDS, name) ? undefined : COMMANDS[name];
    if (command === undefined) throw new CliUsageError(name === undefined ? 'no command given' : `unknown command '${name}'`);
    if (args.length !== command.args.length) throw new CliUsageError(`'${name}' takes ${command.args.length} argument(s) (${command.args.join(', ') || 'none'}), got ${args.length}`);
    if (name === 'destroy' && values.yes !== true) throw new CliUsageError("'destroy' deletes data for good: add --yes");
    const format = values.format ?? 'json';
    if (format !== 'json' && format !== 'table') throw new CliUsageError(`--format must be json or table, got '${format}'`);
    system = await open(values);
    await mustExist(system.admin, command.needs, args);
    const result = await command.run(system.admin, args);
    out(format === 'table' ? formatTable(result) : (JSON.stringify(result, replacer, 2) ?? 'null'));
    return 0;
  } catch (e) {
    if (!(e instanceof DgenError)) {
      err(`error: ${e instanceof Error ? e.message : String(e)}`);
      return 1;
    }
    err(`error [${e.code}]: ${e.message}`);
    return e instanceof CliUsageError ? 2 : 1;
  } finally {
    await system?.close();
  }
}

/** A typo in an actor name or id is an error, never an empty result. */
async function mustExist(admin: Admin, needs: Needs, [actor, id]: string[]): Promise<void> {
  if (needs === 'store') return;
  if (!(await admin.has(actor!))) throw new UnknownActorError(actor!, (await admin.actors()).map((a) => a.name));
  if (needs === 'instance' && !(await admin.has(actor!, id!))) throw new UnknownInstanceError(actor!, id!);
}

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        path: { type: 'string' },
        'cluster-file': { type: 'string' },
        yes: { type: 'boolean' },
        format: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        host: { type: 'string' },
        port: { type: 'string' },
        token: { type: 'string' },
        'token-file': { type: 'string' },
        import: { type: 'string', multiple: true },
        'dry-run': { type: 'boolean' },
        after: { type: 'string' },
        page: { type: 'string' },
      },
    });
  } catch (e) {
    throw new CliUsageError((e as Error).message);
  }
}

async function open(values: { path?: string | undefined; 'cluster-file'?: string | undefined }): Promise<System> {
  if (values.path !== undefined && values['cluster-file'] !== undefined) throw new CliUsageError('give --path or --cluster-file, not both');
  if (values['cluster-file'] !== undefined) {
    const { foundationdb } = await import('../backend/foundationdb.js');
    return createSystem({ backend: foundationdb({ clusterFile: values['cluster-file'] }), closeBackend: true });
  }
  const path = values.path ?? '.dgen';
  if (!existsSync(path)) throw new CliUsageError(`no dgen data at '${path}' (use --path DIR)`);
  return createSystem({ path });
}

/** `dgen inspect`: serves the inspector until stopped. */
async function inspect(values: ReturnType<typeof parse>['values'], args: string[], out: (line: string) => void, help: boolean, signal: AbortSignal | undefined): Promise<number> {
  if (help || values.help === true) {
    out(INSPECT_HELP);
    return 0;
  }
  if (args.length > 0) throw new CliUsageError(`'inspect' takes no arguments, got ${args.length}`);
  const options = await inspectOptions(values);
  const system = await open(values);
  try {
    const inspector = await startInspector(system.admin, { ...options, definitions: await importDefinitions(values.import ?? []) });
    out(`dgen inspector: ${inspector.url}`);
    await untilStopped(signal);
    await inspector.close();
    return 0;
  } finally {
    await system.close();
  }
}

/**
 * `dgen migrate <actor>`: walks every page (see evolution/eager.ts) and prints one report. An
 * interrupted run prints nothing more than what it got to; run it again (migrated instances are
 * skipped as current) or resume with --after.
 */
async function migrate(values: ReturnType<typeof parse>['values'], args: string[], out: (line: string) => void, help: boolean): Promise<number> {
  if (help || values.help === true) {
    out(MIGRATE_HELP);
    return 0;
  }
  for (const flag of ['host', 'port', 'token', 'token-file'] as const) if (values[flag] !== undefined) throw new CliUsageError(`--${flag} is an option of 'dgen inspect' only`);
  if (args.length !== 1) throw new CliUsageError(`'migrate' takes 1 argument (actor), got ${args.length}`);
  const page = values.page === undefined ? 100 : /^\d{1,5}$/.test(values.page) ? Number(values.page) : NaN;
  if (!(page >= 1 && page <= 10_000)) throw new CliUsageError(`--page must be a number from 1 to 10000, got '${values.page}'`);
  const actor = args[0]!;
  // Modules may export several versions of a definition (to keep old ones at hand): the newest is the one to migrate to.
  const defs = (await importDefinitions(values.import ?? [])).filter((d) => d.name === actor) as Array<ActorDefinition<unknown>>;
  const def = defs.sort((a, b) => (b.version ?? 1) - (a.version ?? 1))[0];
  if (def === undefined) throw new CliUsageError(`no definition named '${actor}' in the modules of --import (${(values.import ?? []).join(', ') || 'none given'})`);
  const format = values.format ?? 'json';
  if (format !== 'json' && format !== 'table') throw new CliUsageError(`--format must be json or table, got '${format}'`);
  const system = await open(values);
  try {
    const dryRun = values['dry-run'] === true;
    const report = { actor, version: def.version, dryRun, migrated: 0, current: 0, failed: [] as Array<{ id: string; code: string | undefined; message: string }> };
    let after = values.after;
    do {
      const p = await system.admin.migrate(def, { dryRun, limit: page, ...(after === undefined ? {} : { after }) });
      report.migrated += p.migrated.length;
      report.current += p.current;
      for (const f of p.failed) report.failed.push({ id: f.id, code: f.error.code, message: f.error.message });
      after = p.next;
    } while (after !== undefined);
    out(format === 'table' ? formatTable(report) : JSON.stringify(report, null, 2));
    return report.failed.length > 0 ? 1 : 0;
  } finally {
    await system.close();
  }
}

/** The inspector's options from the flags; checked before the store is opened. */
async function inspectOptions(values: { host?: string | undefined; port?: string | undefined; token?: string | undefined; 'token-file'?: string | undefined }): Promise<InspectorOptions> {
  const port = values.port === undefined ? 4400 : /^\d{1,5}$/.test(values.port) ? Number(values.port) : NaN;
  if (!(port >= 0 && port <= 65_535)) throw new CliUsageError(`--port must be a port number from 0 to 65535, got '${values.port}'`);
  if (values.token !== undefined && values['token-file'] !== undefined) throw new CliUsageError('give --token or --token-file, not both');
  let token = values.token;
  if (values['token-file'] !== undefined) {
    try {
      token = readFileSync(values['token-file'], 'utf8').split('\n')[0]!.trim();
    } catch (e) {
      throw new CliUsageError(`cannot read --token-file '${values['token-file']}': ${(e as Error).message}`);
    }
  }
  const options = { port, ...(values.host === undefined ? {} : { host: values.host }), ...(token === undefined ? {} : { token }) };
  const { tokenFor } = await import('../inspect/token.js');
  tokenFor(options.host ?? '127.0.0.1', options.token); // refuses an exposed host without a chosen token, and a weak token
  return options;
}

/** The actor definitions exported by the modules of --import. */
async function importDefinitions(modules: readonly string[]): Promise<Array<{ readonly name: string }>> {
  const found: Array<{ readonly name: string }> = [];
  for (const m of modules) {
    let exports: Record<string, unknown>;
    try {
      exports = (await import(pathToFileURL(resolve(m)).href)) as Record<string, unknown>;
    } catch (e) {
      throw new CliUsageError(`cannot import --import '${m}': ${(e as Error).message}`);
    }
    for (const v of Object.values(exports)) {
      if (typeof v === 'object' && v !== null && typeof (v as { name?: unknown }).name === 'string' && typeof (v as { reducers?: unknown }).reducers === 'object') found.push(v as { name: string });
    }
  }
  return found;
}

function untilStopped(signal: AbortSignal | undefined): Promise<void> {
  if (signal !== undefined) return signal.aborted ? Promise.resolve() : new Promise((r) => signal.addEventListener('abort', () => r(), { once: true }));
  return new Promise((r) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      r();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** JSON for what the codec stores: bigint, bytes, Map, Set, undefined. */
function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Uint8Array) return { bytes: Buffer.from(value).toString('base64') };
  if (value instanceof Map) return { map: [...value.entries()] };
  if (value instanceof Set) return { set: [...value] };
  return value;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2));
}
