/**
 * Without the `foundationdb` package or the FoundationDB client library, foundationdb() rejects
 * with `foundationdb_unavailable`, and the message says what to install.
 */
import { describe, expect, it, vi } from 'vitest';
import { foundationdb, FoundationDBUnavailableError } from '../../src/backend/foundationdb.js';
import { loadBinding } from '../../src/backend/foundationdb-binding.js';
import { StorageError } from '../../src/backend/errors.js';

async function rejection(p: Promise<unknown>): Promise<Error & { code?: string; retryable?: boolean }> {
  try {
    await p;
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}

describe('foundationdb() without FoundationDB', () => {
  it('a missing package: foundationdb_unavailable, asking for the client package and `npm install foundationdb`', async () => {
    const missing = Object.assign(new Error("Cannot find package 'foundationdb' imported from /app/dist/backend/foundationdb-binding.js"), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    const e = await rejection(loadBinding(() => { throw missing; }));
    expect(e).toBeInstanceOf(FoundationDBUnavailableError);
    expect(e).toBeInstanceOf(StorageError);
    expect(e.code).toBe('foundationdb_unavailable');
    expect(e.retryable).toBe(false);
    expect(e.message).toContain('`foundationdb` package is not installed');
    expect(e.message).toContain('FoundationDB client package');
    expect(e.message).toContain('npm install foundationdb');
    expect(e.message).toContain('docs/foundationdb.md');
    expect(e.cause).toBe(missing);
  });

  it('a missing libfdb_c: foundationdb_unavailable, asking for the client package and a rebuild elsewhere', async () => {
    const dlopen = new Error('libfdb_c.so: cannot open shared object file: No such file or directory');
    const e = await rejection(loadBinding(() => { throw dlopen; }));
    expect(e.code).toBe('foundationdb_unavailable');
    expect(e.message).toContain('libfdb_c.so: cannot open shared object file');
    expect(e.message).toContain('FoundationDB client package');
    expect(e.message).toContain('npm rebuild foundationdb');
  });

  it('on this machine, as installed: the typed error when libfdb_c is missing', async (ctx) => {
    vi.spyOn(console, 'error').mockImplementation(() => {}); // the package explains its missing addon on stderr
    let db;
    try {
      db = await foundationdb();
    } catch (e) {
      expect(e).toBeInstanceOf(FoundationDBUnavailableError);
      expect((e as Error).message).toMatch(/FoundationDB client package/);
      return;
    } finally {
      vi.restoreAllMocks();
    }
    await db.close();
    ctx.skip('the FoundationDB client library is installed here, so foundationdb() opens');
  });

  it('checks its options before loading anything', async () => {
    expect((await rejection(foundationdb({ apiVersion: 100 }))).code).toBe('invalid_operation');
  });
});
