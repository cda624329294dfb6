/**
 * Performance sanity check: prints commits/s of one-key write transactions per engine (serial and
 * 64 concurrent). Prints, never asserts a speed: the figures depend on the machine and its disk.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { Backend } from '../../src/backend/contract.js';
import { lmdb } from '../../src/backend/lmdb.js';
import { memory } from '../../src/backend/memory.js';

const dir = mkdtempSync(join(tmpdir(), 'dgen-perf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function commitsPerSecond(db: Backend, concurrency: number, ms: number): Promise<number> {
  let n = 0;
  const value = Buffer.from('value');
  const start = performance.now();
  const end = start + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, j) => {
      while (performance.now() < end) {
        const key = Buffer.from(`k${j}:${n % 1000}`);
        await db.transact((tx) => tx.set(key, value));
        n++;
      }
    }),
  );
  return Math.round(n / ((performance.now() - start) / 1000));
}

it('prints commits/s of one-key write transactions', async () => {
  const engines: [string, Backend][] = [
    ['memory', memory()],
    ['lmdb (fsync)', lmdb({ path: join(dir, 'fsync') })],
    ['lmdb (noSync)', lmdb({ path: join(dir, 'nosync'), noSync: true })],
  ];
  const rows: string[] = [];
  for (const [name, db] of engines) {
    const serial = await commitsPerSecond(db, 1, 250);
    const concurrent = await commitsPerSecond(db, 64, 250);
    rows.push(`${name.padEnd(14)} serial ${String(serial).padStart(7)}/s   64 concurrent ${String(concurrent).padStart(7)}/s`);
    expect(db.stats().commits).toBeGreaterThan(0);
    await db.close();
  }
  console.log(`one-key write transactions, commits/s:\n${rows.join('\n')}`);
});
