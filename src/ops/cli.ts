#!/usr/bin/env node
/**
 * `dgen`: the operator's command line over `system.admin`, on an LMDB path or a FoundationDB
 * cluster. Prints JSON; exit code 0 on success, 1 on a dgen error, 2 on bad usage.
 */
import { existsSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Admin } from './admin.js';
import { DgenError } from '../errors.js';
import { createSystem, type System } from '../client/system.js';

/** Bad command-line usage. */
export class CliUsageError extends DgenError {
  constructor(message: string) {
    super('invalid_cli_usage', `${message}\n\n${USAGE}`);
  }
}

const USAGE = `usage: dgen <command> [arguments] [--path DIR | --cluster-file FILE]

  instances <actor>                     ids of instances with state or queued messages
  state <actor> <id>                    the committed state
  queue <actor> <id>                    queued messages, with their positions
  dead-letters <actor> <id>             failed messages, with their errors and positions
  delete <actor> <id> <position>        remove a queued message without processing it
  delete-dead-letter <actor> <id> <position>
  requeue <actor> <id> <position>       move a dead letter back to the end of the queue
  lock <actor> <id>                     the lock of a running (or crashed) thunk
  release-lock <actor> <id>             release a stuck lock; its message goes to the dead letters
  resume <actor> <id>                   let a halted actor process its queue again
  destroy <actor> <id> --yes            delete everything of an instance
  timers <actor> <id>                   pending timers, in due order
  cancel-timer <actor> <id> <key>       cancel the pending timer scheduled under <key>

  --path DIR            LMDB directory (default ./.dgen)
  --cluster-file FILE   use FoundationDB with this cluster file instead`;

type Command = (admin: Admin, args: string[]) => Promise<unknown>;

const COMMANDS: Record<string, { readonly arity: number; readonly run: Command }> = {
  instances: { arity: 1, run: (a, [actor]) => a.instances(actor!) },
  state: { arity: 2, run: (a, [actor, id]) => a.state(actor!, id!) },
  queue: { arity: 2, run: (a, [actor, id]) => a.queue(actor!, id!) },
  'dead-letters': { arity: 2, run: (a, [actor, id]) => a.deadLetters(actor!, id!) },
  delete: { arity: 3, run: (a, [actor, id, p]) => a.deleteQueued(actor!, id!, p!) },
  'delete-dead-letter': { arity: 3, run: (a, [actor, id, p]) => a.deleteDeadLetter(actor!, id!, p!) },
  requeue: { arity: 3, run: (a, [actor, id, p]) => a.requeue(actor!, id!, p!) },
  lock: { arity: 2, run: (a, [actor, id]) => a.lock(actor!, id!) },
  'release-lock': { arity: 2, run: (a, [actor, id]) => a.releaseLock(actor!, id!) },
  resume: { arity: 2, run: (a, [actor, id]) => a.resume(actor!, id!) },
  destroy: { arity: 2, run: (a, [actor, id]) => a.destroy(actor!, id!).then(() => true) },
  timers: { arity: 2, run: (a, [actor, id]) => a.timers(actor!, id!) },
  'cancel-timer': { arity: 3, run: (a, [actor, id, key]) => a.cancelTimer(actor!, id!, { key: key! }) },
};

/** Runs one command line; returns the exit code. */
export async function main(argv: string[], out: (line: string) => void = console.log, err: (line: string) => void = console.error): Promise<number> {
  let system: System | undefined;
  try {
    const { values, positionals } = parse(argv);
    const [name, ...args] = positionals;
    const command = name === undefined ? undefined : COMMANDS[name];
    if (command === undefined) throw new CliUsageError(name === undefined ? 'no command given' : `unknown command '${name}'`);
    if (args.length !== command.arity) throw new CliUsageError(`'${name}' takes ${command.arity} argument(s), got ${args.length}`);
    if (name === 'destroy' && values.yes !== true) throw new CliUsageError("'destroy' deletes data for good: add --yes");
    system = await open(values);
    out(JSON.stringify(await command.run(system.admin, args), replacer, 2));
    return 0;
  } catch (e) {
    if (!(e instanceof DgenError)) throw e;
    err(`error [${e.code}]: ${e.message}`);
    return e instanceof CliUsageError ? 2 : 1;
  } finally {
    await system?.close();
  }
}

function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, allowPositionals: true, options: { path: { type: 'string' }, 'cluster-file': { type: 'string' }, yes: { type: 'boolean' } } });
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
