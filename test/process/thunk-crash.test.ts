import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { createSystem } from '../../src/index.js';
import { Mailer } from '../fixtures/mailer.js';
import { spawnWorker, type Child } from './spawn.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

it('re-runs a thunk whose consumer was SIGKILLed during it, and applies its recipe once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dgen-thunk-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  // The mail server: holds the first request (its sender gets killed meanwhile), answers later ones.
  const requests: Array<{ key: string; attempt: string }> = [];
  let first!: () => void;
  const firstArrived = new Promise<void>((r) => (first = r));
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests.push({ key: String(req.headers['idempotency-key']), attempt: String(req.headers.attempt) });
    req.resume();
    if (requests.length === 1) first();
    else res.end('ok');
  }).listen(0, '127.0.0.1');
  cleanups.push(() => server.close());
  await new Promise((r) => server.once('listening', r));
  process.env.MAIL_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

  const child: Child = spawnWorker('mail', dir, 'someone@example.com');
  cleanups.push(() => child.kill());
  await firstArrived; // the thunk is running in the child
  child.kill();
  await child.exited;

  const system = await createSystem({ path: dir });
  cleanups.push(() => void system.close());
  const locked = await system.admin.lock(Mailer, 'box');
  expect(locked).toMatchObject({ thunk: 'deliver', attempt: 1 });
  system.serve(Mailer); // takes over once the dead consumer's lease expires
  const deadline = Date.now() + 10_000;
  while ((await system.ref(Mailer, 'box').query((s) => s.sent)) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));

  expect(await system.ref(Mailer, 'box').query((s) => s.sent)).toBe(1);
  expect(requests.map((r) => r.attempt)).toEqual(['1', '2']);
  expect(new Set(requests.map((r) => r.key)).size).toBe(1);
  expect(await system.admin.lock(Mailer, 'box')).toBeUndefined();
  await system.close();
});
