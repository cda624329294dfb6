import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/ops/cli.js';
import { runCli } from './support/cli.js';
import { createSystem } from '../src/index.js';
import { Counter } from './fixtures/actors.js';

let path: string;

const run = (...argv: string[]) => runCli([...argv, '--path', path]);

beforeAll(async () => {
  path = mkdtempSync(join(tmpdir(), 'dgen-cli-'));
  const system = await createSystem({ path });
  system.serve(Counter);
  await system.ref(Counter, 'a').call.add(5);
  await system.ref(Counter, 'b').call.fail('bad day').catch(() => {});
  await system.ref(Counter, 'c').call.fail('worse day').catch(() => {}); // dead letters, no state
  await system.close();
});
afterAll(() => rmSync(path, { recursive: true, force: true }));

describe('dgen CLI', () => {
  it('lists instances and prints state as JSON', async () => {
    expect(JSON.parse((await run('instances', 'counter')).out)).toEqual(['a', 'b', 'c']);
    expect(JSON.parse((await run('state', 'counter', 'c')).out)).toEqual({ count: 0, log: [] });
    expect(JSON.parse((await run('state', 'counter', 'a')).out)).toEqual({ count: 5, log: [] });
  });

  it('shows dead letters and deletes one by its position', async () => {
    const letters = JSON.parse((await run('dead-letters', 'counter', 'b')).out) as Array<{ position: string; error: { message: string } }>;
    expect(letters).toHaveLength(1);
    expect(letters[0]!.error.message).toBe('bad day');
    expect((await run('delete-dead-letter', 'counter', 'b', letters[0]!.position)).out).toBe('true');
    expect(JSON.parse((await run('dead-letters', 'counter', 'b')).out)).toEqual([]);
  });

  it('answers bad usage with exit code 2 and a typed message', async () => {
    expect(await run('nope')).toMatchObject({ code: 2, err: expect.stringContaining("error [invalid_cli_usage]: unknown command 'nope'") });
    expect(await run('state', 'counter')).toMatchObject({ code: 2, err: expect.stringContaining("'state' takes 2 argument(s) (actor, id), got 1") });
    expect(await run('destroy', 'counter', 'a')).toMatchObject({ code: 2, err: expect.stringContaining('--yes') });
    expect(await main(['instances', 'counter', '--path', join(path, 'missing')], () => {}, () => {})).toBe(2);
  });

  it('prints help on stdout with exit code 0', async () => {
    for (const argv of [['--help'], ['-h'], ['help']]) {
      let out = '';
      expect(await main(argv, (l) => (out += l), () => {})).toBe(0);
      expect(out).toContain('usage: dgen <command>');
    }
    const help = await run('help', 'dead-letters');
    expect(help).toMatchObject({ code: 0, err: '', out: expect.stringContaining('usage: dgen dead-letters <actor> <id>') });
    expect((await run('--help')).out).toContain('actors ');
    expect(await run('help', 'nope')).toMatchObject({ code: 2, err: expect.stringContaining("unknown command 'nope'") });
  });

  it('lists actors with instance counts, queue depth and dead letters', async () => {
    expect(JSON.parse((await run('actors')).out)).toEqual([{ name: 'counter', instances: 3, queued: 0, deadLetters: 1 }]);
  });

  it('never shows a typo as an empty result: unknown actors and instances are errors', async () => {
    expect(await run('instances', 'countr')).toMatchObject({ code: 1, out: '', err: expect.stringContaining("error [unknown_actor]: No stored instance of actor 'countr' (actors with stored instances: counter)") });
    expect(await run('state', 'counter', 'zz')).toMatchObject({ code: 1, out: '', err: expect.stringContaining("error [unknown_instance]: Actor 'counter' has no stored instance 'zz'") });
    expect(await run('lock', 'counter', 'zz')).toMatchObject({ code: 1, err: expect.stringContaining('unknown_instance') });
  });

  it('prints valid JSON for an absent value, and tables with --format table', async () => {
    expect(await run('lock', 'counter', 'a')).toMatchObject({ code: 0, out: 'null' });
    const table = (await run('actors', '--format', 'table')).out.split('\n');
    expect(table[0]).toMatch(/^name\s+instances\s+queued\s+deadLetters$/);
    expect(table[1]).toMatch(/^counter\s+3\s+0\s+1$/);
    expect((await run('instances', 'counter', '--format', 'table')).out).toBe('a\nb\nc');
    expect(await run('actors', '--format', 'yaml')).toMatchObject({ code: 2, err: expect.stringContaining('--format must be json or table') });
  });

  it('answers a dgen error with exit code 1 and its code', async () => {
    expect(await run('requeue', 'counter', 'b', 'not-a-position')).toMatchObject({ code: 1, err: expect.stringContaining('error [invalid_position]') });
    expect(await run('state', 'counter', '')).toMatchObject({ code: 1, err: expect.stringContaining('error [invalid_id]') });
  });
});
