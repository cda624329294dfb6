/**
 * A rolling deploy across OS processes on LMDB: a version-1 host and a version-1 producer run; a
 * version-2 host starts; the version-1 host is SIGKILLed; a version-2 producer joins. Every
 * message is applied exactly once, the version-1 payloads upcast, and the state migrated.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createSystem } from '../../src/index.js';
import { readDefinitionVersion } from '../../src/evolution/stored-version.js';
import { Layout } from '../../src/store/keys.js';
import { WalletV2 } from '../fixtures/wallet.js';
import { cleanedUp, spawnScript, type Child } from './spawn.js';

const worker = fileURLToPath(new URL('./evolution-worker.ts', import.meta.url));
const { children, systems, tempDir } = cleanedUp('dgen-evolution-');
function start(...args: string[]): Child {
  const c = spawnScript(worker, ...args);
  children.push(c);
  return c;
}

describe('a rolling deploy of a new definition version across processes', () => {
  it('v1 host and producer, v2 host started, v1 host killed, v2 producer: every message applied once, state migrated', async () => {
    const path = tempDir();
    const v1Host = start('host', path, '1', 'old');
    await v1Host.line(() => true);
    const v1Producer = start('produce', path, '1', 'w', '600');
    await v1Producer.line<{ sent?: number }>((l) => (l.sent ?? 0) >= 100);
    const system = await createSystem({ path });
    systems.push(system);
    while (((await system.admin.state('wallet', 'w')) as { log: string[] } | undefined)?.log.length === undefined) await new Promise((r) => setTimeout(r, 20)); // version 1 wrote it
    const v2Host = start('host', path, '2', 'new');
    await v2Host.line(() => true);
    await v1Producer.line<{ sent?: number }>((l) => (l.sent ?? 0) >= 300);
    v1Host.kill();
    expect(await v1Host.exited).toBeNull();
    const v2Producer = start('produce', path, '2', 'w', '200');
    expect(await v1Producer.exited).toBe(0);
    expect(await v2Producer.exited).toBe(0);

    const ref = system.ref(WalletV2, 'w');
    const deadline = Date.now() + 60_000;
    while ((await system.admin.queue(WalletV2, 'w')).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const state = await ref.query();
    expect(state.balance).toEqual({ amount: 800, currency: 'EUR' });
    expect(state.log).toHaveLength(800);
    // Version 1 wrote first; from the first entry version 2 wrote, only version 2 did.
    const first = state.log.findIndex((e) => e.startsWith('v2'));
    expect(first).toBeGreaterThan(0);
    expect(state.log.slice(first).every((e) => e.startsWith('v2 deposit 1 EUR'))).toBe(true);
    expect(await system.admin.deadLetters(WalletV2, 'w')).toEqual([]);
    const keys = new Layout().actor('wallet', 'w');
    expect(await system.backend.transact((tx) => readDefinitionVersion(tx, keys))).toBe(2);
  }, 120_000);
});
