import { describe, expect, it } from 'vitest';
import { createSystem, lmdb } from '../../src/index.js';
import { Layout } from '../../src/store/keys.js';
import { readLease } from '../../src/store/lease.js';
import { Counter } from '../fixtures/actors.js';
import { cleanedUp, spawnWorker, type Child } from './spawn.js';

const { children, tempDir } = cleanedUp('dgen-proc-');
function start(...args: string[]): Child {
  const c = spawnWorker(...args);
  children.push(c);
  return c;
}

describe('process crashes on LMDB', () => {
  it('keeps the counter state across a SIGKILL and a restart', async () => {
    const path = tempDir();
    const first = start('seed', path);
    expect(await first.line<{ count?: number }>((l) => l.count !== undefined)).toEqual({ count: 2 });
    first.kill();
    expect(await first.exited).toBeNull();
    const again = start('read', path, 'tenant-42');
    expect(await again.line<{ state?: unknown }>((l) => l.state !== undefined)).toEqual({ state: { count: 2, log: [] } });
  });

  it('3 consumers, 2 producers, 10,000 increments, the active consumer SIGKILLed midway: exactly 10,000', async () => {
    const path = tempDir();
    const consumers = ['c0', 'c1', 'c2'].map((name) => start('consume', path, name));
    await Promise.all(consumers.map((c) => c.line(() => true)));
    const producers = [start('produce', path, 'shared', '5000'), start('produce', path, 'shared', '5000')];

    const backend = await lmdb({ path });
    const system = await createSystem({ backend, closeBackend: false });
    const ref = system.ref(Counter, 'shared');
    const keys = new Layout().actor('counter', 'shared');
    let killed: string | undefined;
    while (killed === undefined) {
      const count = await ref.query((s) => s.count);
      const lease = await backend.transact((tx) => readLease(tx, keys, true));
      if (count >= 2_000 && lease !== undefined) {
        killed = lease.owner;
        consumers[Number(lease.owner.slice(1))]!.kill();
      } else await new Promise((r) => setTimeout(r, 20));
    }
    await Promise.all(producers.map((p) => p.exited));
    const deadline = Date.now() + 60_000;
    while ((await ref.query((s) => s.count)) < 10_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await ref.query((s) => s.count)).toBe(10_000);
    const queued = await backend.transact((tx) => tx.getRange(keys.queue.range().begin, keys.queue.range().end));
    expect(queued).toHaveLength(0);
    await system.close();
    await backend.close();
  }, 90_000);

  it('shows every committed state in order to state$ in another process', async () => {
    const path = tempDir();
    const observer = start('observe', path, 'watched', '50');
    await observer.line<{ count?: number }>((l) => l.count === 0);
    const system = await createSystem({ path });
    system.serve(Counter);
    const ref = system.ref(Counter, 'watched');
    for (let i = 0; i < 50; i++) await ref.call.increment();
    await observer.exited;
    expect(observer.lines).toEqual(Array.from({ length: 51 }, (_, i) => ({ count: i })));
    await system.close();
  });
});
