/**
 * Cross-process wake-ups on LMDB without polling: a caller in this process and a consumer in
 * another, both with polling turned off. The consumer learns of the call, and the caller of its
 * reply, only through the notify file of the database (see src/backend/lmdb-notify.ts).
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createSystem, lmdb } from '../../src/index.js';
import { Counter } from '../fixtures/actors.js';
import { cleanedUp, spawnScript } from './spawn.js';

const script = fileURLToPath(new URL('./wakeup-worker.ts', import.meta.url));
const { children, systems, tempDir } = cleanedUp('dgen-wakeup-');

/** A consumer in another process and a caller here, on one database, neither polling. */
async function pair(notify: boolean) {
  const path = tempDir();
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
