/**
 * LMDB only: what an embedded, durable, multi-process store adds to the contract. Data survives a
 * reopen and a killed process; two OS processes on one path stay serializable; a watch sees a
 * commit made by another process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { lmdb } from '../../src/backend/lmdb.js';
import { engines } from './engines.js';
import { durabilityKeys as keys } from './fixtures/keys.js';
import { b, text } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const worker = join(here, 'fixtures', 'lmdb-worker.ts');
const dir = mkdtempSync(join(tmpdir(), 'dgen-lmdb-durability-'));
let n = 0;
const freshPath = () => join(dir, String(++n));

function start(...args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', worker, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Resolves when the process exits with 0; rejects with its stderr otherwise. */
function finished(p: ChildProcess): Promise<void> {
  let err = '';
  p.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    p.on('error', reject);
    p.on('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`worker exited with ${code ?? signal}: ${err}`))));
  });
}

/** Resolves when the process prints `line`. */
function printed(p: ChildProcess, line: string): Promise<void> {
  let out = '';
  return new Promise((resolve, reject) => {
    p.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.split('\n').includes(line)) resolve();
    });
    p.on('exit', (code) => reject(new Error(`worker exited with ${code} before printing ${line}`)));
  });
}

const enabled = engines.some((e) => e.name === 'lmdb' && e.skip === undefined);

describe.skipIf(!enabled)('lmdb: durability and multi-process', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('data survives closing and reopening the same path; stamps and read versions keep increasing', async () => {
    const path = freshPath();
    const first = await lmdb({ path });
    const { stamp } = await first.transact((tx) => {
      tx.set(keys.watched, b('kept'));
      tx.add(keys.counter, 41);
      return { stamp: tx.getVersionstamp() };
    });
    const before = await stamp;
    const rvBefore = await first.transact((tx) => tx.getReadVersion());
    await first.close();

    const again = await lmdb({ path });
    try {
      const [v, c, rv] = await again.transact(async (tx) => [await tx.get(keys.watched), await tx.get(keys.counter), await tx.getReadVersion()] as const);
      expect(text(v)).toBe('kept');
      expect(c!.readBigInt64LE(0)).toBe(41n);
      expect(rv).toBeGreaterThanOrEqual(rvBefore);
      const { stamp: next } = await again.transact((tx) => {
        tx.set(keys.item(0), b('x'));
        return { stamp: tx.getVersionstamp() };
      });
      expect(Buffer.compare(await next, before)).toBe(1);
    } finally {
      await again.close();
    }
  });

  it('a commit survives the process being killed right after it', async () => {
    const path = freshPath();
    const p = start('commit-and-wait', path, '50');
    const done = finished(p).catch(() => {});
    await printed(p, 'committed');
    p.kill('SIGKILL');
    await done;
    const db = await lmdb({ path });
    try {
      const rows = await db.transact((tx) => tx.getRange(keys.items.begin, keys.items.end));
      expect(rows).toHaveLength(50);
      expect(text(rows[0]!.value)).toBe('item 0');
    } finally {
      await db.close();
    }
  });

  it('two processes doing 500 read-modify-write increments each on one path end at exactly 1,000', async () => {
    const path = freshPath();
    const init = await lmdb({ path });
    await init.close();
    await Promise.all([finished(start('increment', path, '500')), finished(start('increment', path, '500'))]);
    const db = await lmdb({ path });
    try {
      expect(text(await db.transact((tx) => tx.get(keys.counter)))).toBe('1000');
    } finally {
      await db.close();
    }
  });

  it('versionstamped keys from two processes are unique and keep each process’s commit order', async () => {
    const path = freshPath();
    const init = await lmdb({ path });
    await init.close();
    await Promise.all([finished(start('enqueue', path, '150', 'a')), finished(start('enqueue', path, '150', 'b'))]);
    const db = await lmdb({ path });
    try {
      const rows = await db.transact((tx) => tx.getRange(keys.queue.range().begin, keys.queue.range().end));
      expect(rows).toHaveLength(300);
      const stamps = rows.map((r) => Buffer.from(r.key).subarray(keys.queue.prefix.length).toString('hex'));
      expect(new Set(stamps).size).toBe(300);
      for (const tag of ['a', 'b']) {
        const seq = rows.map((r) => text(r.value)!).filter((v) => v.startsWith(`${tag}:`)).map((v) => Number(v.slice(2)));
        expect(seq).toEqual(Array.from({ length: 150 }, (_, i) => i));
      }
    } finally {
      await db.close();
    }
  });

  it('a watch fires in this process after another process commits a change', async () => {
    const path = freshPath();
    const db = await lmdb({ path });
    try {
      await db.transact((tx) => tx.set(keys.watched, b('before')));
      const { w } = await db.transact(async (tx) => {
        await tx.get(keys.watched, { snapshot: true });
        return { w: tx.watch(keys.watched) };
      });
      const started = performance.now();
      await finished(start('set', path, 'from another process'));
      const delay = engines.find((e) => e.name === 'lmdb')?.watchDelayMs ?? 100;
      const fired = await Promise.race([w.promise, new Promise<'late'>((r) => setTimeout(() => r('late'), delay + 2_000))]);
      expect(fired).toBe(true);
      expect(performance.now() - started).toBeLessThan(10_000);
      expect(text(await db.transact((tx) => tx.get(keys.watched)))).toBe('from another process');
    } finally {
      await db.close();
    }
  });
});

if (!enabled) {
  describe('lmdb: durability and multi-process', () => {
    it.skip('skipped: the lmdb engine is not in this run (DGEN_ENGINES)', () => {});
  });
}
