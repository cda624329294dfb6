/**
 * The inspector started from the CLI (`dgen inspect`) and mounted under an application's own
 * HTTP server: the URL and its token, the token file, definitions from --import, the base path.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInspectorHandler, createSystem } from '../../src/index.js';
import { main } from '../../src/ops/cli.js';
import { Flaky } from './actors.js';

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dgen-inspect-serve-'));
  const system = await createSystem({ path: join(dir, 'db') });
  system.serve(Flaky);
  await system.ref(Flaky, 'f1').call.bump();
  await system.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `dgen inspect` until the test is done with it; resolves with its URL. */
async function inspect(...flags: string[]): Promise<{ url: URL; stop: () => Promise<number> }> {
  const controller = new AbortController();
  let resolveUrl!: (url: string) => void;
  const printed = new Promise<string>((r) => (resolveUrl = r));
  const errors: string[] = [];
  const exit = main(['inspect', '--path', join(dir, 'db'), '--port', '0', ...flags], (l) => resolveUrl(/dgen inspector: (\S+)/.exec(l)![1]!), (l) => errors.push(l), controller.signal);
  const url = await Promise.race([printed, exit.then((code) => Promise.reject(new Error(`exited ${code}: ${errors.join('\n')}`)))]);
  return { url: new URL(url), stop: () => (controller.abort(), exit) };
}

describe('dgen inspect', () => {
  it('has its own help, and is listed in the general one', async () => {
    const out: string[] = [];
    expect(await main(['help', 'inspect'], (l) => out.push(l))).toBe(0);
    expect(out.join('\n')).toContain('usage: dgen inspect');
    expect(await main(['--help'], (l) => out.push(l))).toBe(0);
    expect(out.at(-1)).toMatch(/\n  inspect +serve the web inspector/);
  });

  it('prints a loopback URL with a random token; the token opens the page, its absence does not', async () => {
    const { url, stop } = await inspect();
    try {
      expect(url.hostname).toBe('127.0.0.1');
      expect(url.searchParams.get('token')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect((await fetch(url)).status).toBe(200);
      expect((await fetch(new URL('/', url))).status).toBe(401);
    } finally {
      expect(await stop()).toBe(0);
    }
  });

  it('takes its token from --token-file, and dispatches with the definitions of --import', async () => {
    const file = join(dir, 'token');
    writeFileSync(file, 'a-long-chosen-token-0123456789\n');
    const { url, stop } = await inspect('--token-file', file, '--import', resolve('test/inspect/actors.ts'));
    try {
      expect(url.searchParams.get('token')).toBe('a-long-chosen-token-0123456789');
      const res = await fetch(new URL('/api/actors/flaky/instances/f1/dispatch', url), { method: 'POST', headers: { 'x-dgen-token': 'a-long-chosen-token-0123456789' }, body: JSON.stringify({ action: 'put', payload: 'k' }) });
      expect(await res.json()).toEqual({ messageId: expect.stringMatching(/^[0-9a-f]{32}$/) });
      const queue = await (await fetch(new URL('/api/actors/flaky/instances/f1/queue', url), { headers: { 'x-dgen-token': 'a-long-chosen-token-0123456789' } })).json();
      expect(queue).toMatchObject({ entries: [{ message: { action: 'put', payload: 'k' } }], next: null });
    } finally {
      expect(await stop()).toBe(0);
    }
  });
});

describe('createInspectorHandler under an application server', () => {
  it('answers below its base path and leaves every other request to the application', async () => {
    const system = await createSystem({ path: join(dir, 'db') });
    const token = 'mounted-token-0123456789';
    const inspector = createInspectorHandler(system.admin, { token, basePath: '/ops/inspect' });
    const server = createServer(async (req, res) => {
      if (!(await inspector(req, res))) res.end('app');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect(await (await fetch(`${base}/elsewhere`)).text()).toBe('app');
      expect(await (await fetch(`${base}/ops/inspectors`)).text()).toBe('app');
      const page = await fetch(`${base}/ops/inspect/?token=${token}`);
      expect(await page.text()).toContain('data-base="/ops/inspect"');
      const ids = await fetch(`${base}/ops/inspect/api/actors/flaky/instances?prefix=f`, { headers: { 'x-dgen-token': token } });
      expect(await ids.json()).toEqual({ ids: ['f1'], next: null });
    } finally {
      server.close();
      server.closeAllConnections();
      await system.close();
    }
  });
});
