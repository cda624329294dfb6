/**
 * Timers survive the death of the only serving process (LMDB, SIGKILL): a new process fires each
 * exactly once, never before its due time.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createSystem } from '../../src/index.js';
import { Hold } from '../fixtures/timers.js';
import { cleanedUp, spawnScript, type Child } from './spawn.js';

const script = fileURLToPath(new URL('./timer-worker.ts', import.meta.url));
const { children, tempDir } = cleanedUp('dgen-timers-');
function start(...args: string[]): Child {
  const c = spawnScript(script, ...args);
  children.push(c);
  return c;
}

describe('timers across process deaths on LMDB', () => {
  it('fires each timer exactly once in a new process after the only serving one was SIGKILLed before they were due', async () => {
    const path = tempDir();
    const N = 40;
    // Due 4 s after they are set: long enough that the kill comes first even on a busy machine.
    const armer = start('arm', path, String(N), '4000');
    await armer.line<{ armed?: number }>((l) => l.armed === N, 60_000);
    armer.kill();
    await armer.exited;

    const system = await createSystem({ path });
    const pending = (await Promise.all(Array.from({ length: 5 }, (_, i) => system.admin.timers(Hold, `h${i}`)))).flat();
    const fired = await Promise.all(Array.from({ length: 5 }, (_, i) => system.ref(Hold, `h${i}`).query((s) => s.fired.length)));
    // The kill came before any was due, unless the machine stalled for seconds: then some fired in the first process.
    expect(pending.length + fired.reduce((a, b) => a + b, 0)).toBe(N);

    const server = start('serve', path);
    await server.line<{ serving?: boolean }>((l) => l.serving === true);
    const all = async () => (await Promise.all(Array.from({ length: 5 }, (_, i) => system.ref(Hold, `h${i}`).query((s) => s.fired)))).flat();
    const deadline = Date.now() + 60_000;
    while ((await all()).length < N && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 300)); // anything fired twice would show by now
    const firings = await all();
    expect(firings.map((f) => f.tag).sort()).toEqual(Array.from({ length: N }, (_, i) => `t${i}`).sort());
    for (const f of firings) expect(f.processedAt).toBeGreaterThanOrEqual(f.now);
    expect((await Promise.all(Array.from({ length: 5 }, (_, i) => system.admin.timers(Hold, `h${i}`)))).flat()).toEqual([]);
    await system.close();
  }, 120_000);
});
