/**
 * Holding load on LMDB (fsync on), as deployed: bursts far larger than the engine can run at once
 * are admitted in turn (runtime/admission.ts), and replies to many callers are read in batches by
 * one listener per process (runtime/replies.ts). Every operation succeeds and is applied exactly
 * once; no figure of speed is asserted (bench/sections/load.ts measures it).
 */
import { describe, expect, it } from 'vitest';
import { createSystem, lmdb } from '../../src/index.js';
import { Counter } from '../fixtures/actors.js';
import { cleanedUp, spawnWorker } from './spawn.js';

const { children, systems, tempDir } = cleanedUp('dgen-load-');

/** Waits until `done()` holds, looking every 50 ms, for at most `ms`. */
async function until(done: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`not reached within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('holding load on LMDB', () => {
  it('10,000 concurrent calls from one process to 100 actors served by another: all answered, each applied once', { timeout: 120_000 }, async () => {
    const path = tempDir();
    const worker = spawnWorker('consume', path, 'w0');
    children.push(worker);
    await worker.line(() => true);
    const system = await createSystem({ backend: lmdb({ path }), closeBackend: true });
    systems.push(system);
    const calls = Array.from({ length: 10_000 }, (_, i) => system.ref(Counter, `c${i % 100}`).call.add(1, { timeout: 120_000 }));
    const results = await Promise.allSettled(calls);
    const failures = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as { code?: string });
    expect(failures.map((f) => f.code)).toEqual([]);
    // Exactly once: each actor's replies are 1..100, each once, and its count is 100.
    const byActor = new Map<number, number[]>();
    results.forEach((r, i) => byActor.set(i % 100, [...(byActor.get(i % 100) ?? []), (r as PromiseFulfilledResult<number>).value]));
    for (const replies of byActor.values()) expect(replies.sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    const counts = await Promise.all(Array.from({ length: 100 }, (_, i) => system.ref(Counter, `c${i}`).query((s) => s.count)));
    expect(counts).toEqual(Array.from({ length: 100 }, () => 100));
  });

  it('4 caller processes × 10,000 concurrent calls to 100 actors served by another, with the default deadlines: all answered, each applied once', { timeout: 120_000 }, async () => {
    const path = tempDir();
    const worker = spawnWorker('consume', path, 'w0');
    children.push(worker);
    await worker.line(() => true);
    const callers = Array.from({ length: 4 }, () => spawnWorker('call', path, '10000', '100'));
    children.push(...callers);
    type Report = { replies: Array<number | null>; failures: string[] };
    const reports = await Promise.all(callers.map((c) => c.line<Report>((l) => Array.isArray(l.failures), 110_000)));
    expect(reports.flatMap((r) => r.failures)).toEqual([]);
    // Exactly once: across the four processes each actor replied 1..400, each once.
    const byActor = new Map<number, number[]>();
    for (const r of reports) r.replies.forEach((v, i) => byActor.set(i % 100, [...(byActor.get(i % 100) ?? []), v!]));
    for (const replies of byActor.values()) expect(replies.sort((a, b) => a - b)).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
    const system = await createSystem({ backend: lmdb({ path }), closeBackend: true });
    systems.push(system);
    const counts = await Promise.all(Array.from({ length: 100 }, (_, i) => system.ref(Counter, `c${i}`).query((s) => s.count)));
    expect(counts).toEqual(Array.from({ length: 100 }, () => 400));
  });

  it('50,000 concurrent dispatches to 1,000 actors in a serving process: all acknowledged, each applied once', { timeout: 120_000 }, async () => {
    const system = await createSystem({ backend: lmdb({ path: tempDir() }), closeBackend: true });
    systems.push(system);
    system.serve(Counter);
    const sends = Array.from({ length: 50_000 }, (_, i) => system.ref(Counter, `d${i % 1_000}`).dispatch.increment(1));
    const results = await Promise.allSettled(sends);
    const failures = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as { code?: string });
    expect(failures.map((f) => f.code)).toEqual([]);
    const counts = () => Promise.all(Array.from({ length: 1_000 }, (_, i) => system.ref(Counter, `d${i}`).query((s) => s.count)));
    await until(async () => (await counts()).every((c) => c >= 50), 60_000);
    expect(await counts()).toEqual(Array.from({ length: 1_000 }, () => 50));
  });
});
