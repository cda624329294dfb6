import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lmdb } from '../../src/backend/lmdb.js';
import { b, engineCases } from './engine-cases.js';

const dir = mkdtempSync(join(tmpdir(), 'dgen-lmdb-unit-'));
let n = 0;
const fresh = () => join(dir, `db${++n}`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

engineCases('lmdb', () => lmdb({ path: fresh(), noSync: true }));

describe('lmdb engine', () => {
  it('refuses a path that is a file with a typed error', () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    expect(() => lmdb({ path: file })).toThrow(expect.objectContaining({ code: 'open_failed' }));
  });

  it('keeps data, versions and stamps across a reopen', async () => {
    const path = fresh();
    const first = lmdb({ path });
    const { stamp } = await first.transact((tx) => {
      tx.set(b('k'), b('v'));
      return { stamp: tx.getVersionstamp() };
    });
    const s1 = await stamp;
    await first.close();
    expect(first.closed).toBe(true);
    const again = lmdb({ path });
    expect((await again.transact((tx) => tx.get(b('k'))))?.toString()).toBe('v');
    const { stamp: next } = await again.transact((tx) => {
      tx.set(b('k2'), b('v'));
      return { stamp: tx.getVersionstamp() };
    });
    expect(Buffer.compare(await next, s1)).toBe(1);
    await again.close();
  });

  it('serializes two engines on one path (as two processes would be)', async () => {
    const path = fresh();
    const x = lmdb({ path, noSync: true });
    const y = lmdb({ path, noSync: true });
    const inc = (db: typeof x) =>
      db.transact(async (tx) => {
        const v = Number((await tx.get(b('n')))?.toString() ?? '0');
        tx.set(b('n'), b(String(v + 1)));
      }, { maxRetryDelayMs: 5 });
    await Promise.all(Array.from({ length: 50 }, (_, i) => inc(i % 2 ? x : y)));
    expect((await x.transact((tx) => tx.get(b('n'))))?.toString()).toBe('50');
    const w = await x.transact((tx) => tx.watch(b('n')));
    await y.transact((tx) => tx.set(b('n'), b('changed')));
    expect(await w.promise).toBe(true);
    await x.close();
    await y.close();
  });
});
