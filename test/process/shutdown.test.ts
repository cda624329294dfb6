/**
 * Shutdown as a process sees it: close() rejects the calls still waiting, nothing of the system
 * keeps the process alive, and closeOnSignals() turns SIGTERM / SIGINT into a clean close.
 */
import { describe, expect, it } from 'vitest';
import { createSystem, lmdb } from '../../src/index.js';
import { Layout } from '../../src/store/keys.js';
import { readLease } from '../../src/store/lease.js';
import { Counter } from '../fixtures/actors.js';
import { cleanedUp, spawnWorker, type Child } from './spawn.js';

const { children, tempDir } = cleanedUp('dgen-shutdown-');
function start(...args: string[]): Child {
  const c = spawnWorker(...args);
  children.push(c);
  return c;
}

/** Resolves with the exit of `child`, or rejects when it is still running after `ms`. */
function exitWithin(child: Child, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the process was still running ${ms} ms later`)), ms);
    void child.exited.then((code) => {
      clearTimeout(timer);
      resolve({ code, signal: child.process.signalCode });
    });
  });
}

describe('shutdown', () => {
  it('close() rejects every pending call with system_closed within 1 s; the messages stay queued; the process exits by itself', async () => {
    const path = tempDir();
    const child = start('pending-calls', path, 'far', '5');
    const { outcomes } = await child.line<{ outcomes: Array<{ code: string; ms: number }> }>((l) => l.outcomes !== undefined);
    expect(outcomes.map((o) => o.code)).toEqual(Array(5).fill('system_closed'));
    for (const o of outcomes) expect(o.ms).toBeLessThan(1_000);
    // Well under the 30 s default call timeout: no call timer or watch outlives close().
    expect(await exitWithin(child, 15_000)).toEqual({ code: 0, signal: null });

    const system = await createSystem({ backend: lmdb({ path }) });
    try {
      expect(await system.admin.queue(Counter, 'far')).toHaveLength(5);
    } finally {
      await system.close();
    }
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('closeOnSignals(): %s closes the system, releases the leases and ends the process with the signal', async (signal) => {
    const path = tempDir();
    const child = start('serve-until-signal', path, 'c1');
    await child.line<{ ready?: boolean }>((l) => l.ready === true);
    const system = await createSystem({ backend: lmdb({ path }) });
    try {
      const ref = system.ref(Counter, 'signalled');
      await Promise.all(Array.from({ length: 20 }, () => ref.dispatch.increment()));
      await child.line<{ count?: number }>((l) => l.count === 20);
      child.process.kill(signal);
      expect(await exitWithin(child, 15_000)).toEqual({ code: null, signal });
      const keys = new Layout().actor('counter', 'signalled');
      const lease = await system.backend.transact((tx) => readLease(tx, keys, true));
      expect(lease).toMatchObject({ owner: 'c1', expires: 0 }); // released, not left to expire
      expect(await ref.query((s) => s.count)).toBe(20);
    } finally {
      await system.close();
    }
  });
});
