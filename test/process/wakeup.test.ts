/**
 * Cross-process wake-ups on LMDB without polling: a caller in this process and a consumer in
 * another, both with polling turned off. The consumer learns of the call, and the caller of its
 * reply, only through the notify file of the database (see src/backend/lmdb-notify.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createSystem, lmdb, type System } from '../../src/index.js';
import { Counter } from '../fixtures/actors.js';
import { spawnScript, type Child } from './spawn.js';

const script = fileURLToPath(new URL('./wakeup-worker.ts', import.meta.url));
const children: Child[] = [];
const systems: System[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const s of systems.splice(0)) await s.close();
  for (const c of children.splice(0)) c.kill();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A consumer in another process and a caller here, on one database, neither polling. */
async function pair(notify: boolean) {
  const path = mkdtempSync(join(tmpdir(), 'dgen-wakeup-'));
  dirs.push(path);
  const consumer = spawnScript(script, path, notify ? 'notify' : 'no-notify');
  children.push(consumer);
  await consumer.line(() => true);
  const system = await createSystem({ backend: lmdb({ path, watchPollMs: 0, notify }) });
  systems.push(system);
  return system.ref(Counter, 'wakeup');
}

describe('cross-process wake-ups on LMDB', () => {
  it('with polling off, a consumer in another process is woken by each call and each caller by its reply', async () => {
    const counter = await pair(true);
    for (let i = 1; i <= 5; i++) expect(await counter.call.add(1, { timeout: 30_000 })).toBe(i);
    await counter.dispatch.increment(10);
    expect(await counter.call.add(0, { timeout: 30_000 })).toBe(15);
  });

  it('without notifications and without polling, nothing wakes the consumer: the call times out (the case above is not vacuous)', async () => {
    const counter = await pair(false);
    await expect(counter.call.add(1, { timeout: 1_500 })).rejects.toMatchObject({ code: 'call_timeout' });
  });
});
