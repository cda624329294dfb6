import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createSystem } from '../../src/index.js';
import { Hold } from '../fixtures/timers.js';

let path: string;

const run = (...argv: string[]) => runCli([...argv, '--path', path]);

beforeAll(async () => {
  path = mkdtempSync(join(tmpdir(), 'dgen-cli-timers-'));
  const system = await createSystem({ path });
  system.serve(Hold);
  await system.ref(Hold, 'h').call.reserve({ item: 'seat-9', delay: 3_600_000 });
  await system.ref(Hold, 'h').dispatch.fired('later', { delay: 7_200_000 });
  await system.close();
});
afterAll(() => rmSync(path, { recursive: true, force: true }));

describe('dgen timers', () => {
  it('lists pending timers in due order and cancels one by its key', async () => {
    const timers = JSON.parse((await run('timers', 'hold', 'h')).out) as Array<{ key?: string; action: string; payload: unknown }>;
    expect(timers.map((t) => [t.key, t.action, t.payload])).toEqual([['expiry', 'expire', 'seat-9'], [undefined, 'fired', 'later']]);
    expect((await run('cancel-timer', 'hold', 'h', 'expiry')).out).toBe('true');
    expect((await run('cancel-timer', 'hold', 'h', 'expiry')).out).toBe('false');
    expect((JSON.parse((await run('timers', 'hold', 'h')).out) as unknown[]).length).toBe(1);
  });

  it('answers bad usage with exit code 2', async () => {
    expect(await run('timers', 'hold')).toMatchObject({ code: 2, err: expect.stringContaining("'timers' takes 2 argument(s) (actor, id), got 1") });
  });
});
