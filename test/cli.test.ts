import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/ops/cli.js';
import { createSystem } from '../src/index.js';
import { Counter } from './fixtures/actors.js';

let path: string;

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main([...argv, '--path', path], (l) => (out += l), (l) => (err += l));
  return { code, out, err };
}

beforeAll(async () => {
  path = mkdtempSync(join(tmpdir(), 'dgen-cli-'));
  const system = await createSystem({ path });
  system.serve(Counter);
  await system.ref(Counter, 'a').call.add(5);
  await system.ref(Counter, 'b').call.fail('bad day').catch(() => {});
  await system.close();
});
afterAll(() => rmSync(path, { recursive: true, force: true }));

describe('dgen CLI', () => {
  it('lists instances and prints state as JSON', async () => {
    expect(JSON.parse((await run('instances', 'counter')).out)).toEqual(['a', 'b']);
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
    expect(await run('state', 'counter')).toMatchObject({ code: 2, err: expect.stringContaining("'state' takes 2 argument(s), got 1") });
    expect(await run('destroy', 'counter', 'a')).toMatchObject({ code: 2, err: expect.stringContaining('--yes') });
    expect(await main(['instances', 'counter', '--path', join(path, 'missing')], () => {}, () => {})).toBe(2);
  });

  it('answers a dgen error with exit code 1 and its code', async () => {
    expect(await run('requeue', 'counter', 'b', 'not-a-position')).toMatchObject({ code: 1, err: expect.stringContaining('error [invalid_position]') });
    expect(await run('state', 'counter', '')).toMatchObject({ code: 1, err: expect.stringContaining('error [invalid_id]') });
  });
});
