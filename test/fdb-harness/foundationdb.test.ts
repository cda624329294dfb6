/**
 * The FoundationDB engine's own behaviour, through the package's real JS layer over the simulated
 * native client: the key prefix, FoundationDB's error codes (injected at commit), the transaction
 * options it hands the client, and what it checks before the client sees a call. What every
 * engine shares is in test/conformance.
 */
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import * as tuple from 'fdb-tuple';
import { createRequire } from 'node:module';
import type { Backend } from '../../src/backend/contract.js';
import type { MemoryBackend } from '../../src/backend/memory.js';
import { LIMITS } from '../../src/backend/contract.js';
import { DEFAULT_PREFIX } from '../../src/store/keys.js';
import { FoundationDBError } from '../../src/backend/foundationdb.js';
import { FdbErrorCode, foundationdbPackageRoot, simulateFoundationDB, type SimulatedFoundationDB } from './index.js';
import { SimulatedTransaction } from './transaction.js';

const b = (s: string) => Buffer.from(s, 'utf8');

async function rejection(p: Promise<unknown>): Promise<Error & { code?: unknown; retryable?: boolean; fdbCode?: number }> {
  try {
    await p;
  } catch (e) {
    return e as Error & { code?: unknown };
  }
  throw new Error('expected a rejection');
}

/** Every key and value of the simulated cluster's store, as the cluster sees them. */
async function rawDump(sim: SimulatedFoundationDB, clusterFile?: string): Promise<[Buffer, string][]> {
  const store = await sim.cluster(clusterFile).backend();
  const rows = await store.transact((tx) => tx.getRange(Buffer.alloc(0), Buffer.from([0xff])));
  return rows.map((r) => [r.key, r.value.toString('utf8')]);
}

describe.skipIf(foundationdbPackageRoot() === undefined)('foundationdb() over the simulated native client', () => {
  // One simulated client for the file, as a process has one FoundationDB client; each case gets
  // a cluster of its own through its own cluster file name.
  const sim = simulateFoundationDB();
  const opened: Backend[] = [];
  let cases = 0;
  const start = () => `case-${++cases}`;
  const open = async (clusterFile: string, options: Parameters<SimulatedFoundationDB['open']>[0] = {}) => {
    const db = await sim.open({ clusterFile, ...options });
    opened.push(db);
    return db;
  };

  afterEach(() => {
    vi.restoreAllMocks();
  });
  afterAll(async () => {
    for (const db of opened) await db.close();
    await sim.shutdown();
  });

  it('runs on the package’s real JS layer, privately: a plain require still gets the real addon', () => {
    const req = createRequire(import.meta.url);
    const root = foundationdbPackageRoot()!;
    expect(typeof (sim.binding.fdb as unknown as { Database: unknown }).Database).toBe('function');
    expect(sim.binding.native).toBe(sim.native);
    vi.spyOn(console, 'error').mockImplementation(() => {}); // the package explains its missing addon on stderr
    let plain: unknown;
    try {
      plain = req('foundationdb');
    } catch {
      plain = undefined; // no libfdb_c here: the real package fails to load its addon, as it should
    }
    expect(plain).not.toBe(sim.binding.fdb);
    expect(Object.keys(req.cache).filter((id) => id.startsWith(root) && req.cache[id]?.exports === sim.binding.fdb)).toEqual([]);
  });

  it('stores keys under its prefix and strips it from what it returns (no prefix by default)', async () => {
    const cluster = start();
    const plain = await open(cluster);
    await plain.transact((tx) => tx.set(b('z'), b('0')));
    const db = await open(cluster, { prefix: DEFAULT_PREFIX });
    await db.transact((tx) => {
      tx.set(b('a'), b('1'));
      tx.set(b('b'), b('2'));
    });
    expect(await rawDump(sim, cluster)).toEqual([
      [Buffer.concat([DEFAULT_PREFIX, b('a')]), '1'],
      [Buffer.concat([DEFAULT_PREFIX, b('b')]), '2'],
      [b('z'), '0'],
    ]);
    const rows = await db.transact((tx) => tx.getRange(b(''), b('\x7f')));
    expect(rows.map((r) => [r.key.toString(), r.value.toString()])).toEqual([
      ['a', '1'],
      ['b', '2'],
    ]);
    expect((await db.transact((tx) => tx.getRange(b('a'), b('z'), { reverse: true, limit: 1 })))[0]!.key.toString()).toBe('b');
  });

  it('keeps two applications with different prefixes (tuple or bytes) apart on one cluster', async () => {
    const cluster = start();
    const one = await open(cluster, { prefix: ['app-one'] });
    const two = await open(cluster, { prefix: Buffer.from('two/') });
    await one.transact((tx) => tx.set(b('k'), b('from one')));
    await two.transact((tx) => tx.set(b('k'), b('from two')));
    await two.transact((tx) => tx.clearRange(b(''), b('\xff')));
    expect((await one.transact((tx) => tx.get(b('k'))))?.toString()).toBe('from one');
    expect(await two.transact((tx) => tx.get(b('k')))).toBeUndefined();
    expect((await rawDump(sim, cluster)).map(([k]) => k)).toEqual([Buffer.concat([tuple.pack(['app-one']), b('k')])]);
  });

  it('places versionstamps at the caller’s offset plus the prefix', async () => {
    const cluster = start();
    const db = await open(cluster, { prefix: ['vs'] });
    const { key, stampOffset } = packStamped();
    let stamp: Promise<Buffer> | undefined;
    await db.transact((tx) => {
      tx.setVersionstampedKey(key, stampOffset, b('v'));
      tx.setVersionstampedValue(b('val'), Buffer.concat([b('<'), Buffer.alloc(10), b('>')]), 1);
      stamp = tx.getVersionstamp();
    });
    const vs = await stamp!;
    const rows = await db.transact((tx) => tx.getRange(b(''), b('\xff')));
    const stamped = rows.find((r) => r.key[0] === 0x02)!;
    expect(stamped.key.subarray(stampOffset, stampOffset + 10)).toEqual(vs);
    expect(rows.find((r) => r.key.toString() === 'val')!.value).toEqual(Buffer.concat([b('<'), vs, b('>')]));
  });

  it('reading what a versionstamped mutation may write fails with accessed_unreadable, as on FoundationDB', async () => {
    const cluster = start();
    const db = await open(cluster);
    const unreadable = async (body: Parameters<Backend['transact']>[0]) => {
      const e = await rejection(db.transact(body));
      expect(e.code).toBe('accessed_unreadable');
      expect(e.message).toContain('versionstamped');
      expect((e.cause as { code?: number } | undefined)?.code).toBe(1036);
    };
    const q = (user: number) => {
      const { data, stampPos } = tuple.packUnboundVersionstamp(['q', { type: 'unbound versionstamp', code: user } as tuple.TupleItem]);
      return { key: data, stampOffset: stampPos };
    };
    const qBegin = tuple.pack(['q']);
    const qEnd = Buffer.concat([qBegin, Buffer.from([0xff])]);
    await db.transact((tx) => tx.set(tuple.pack(['q', 'older']), b('x')));
    // the key with its placeholder stamp (0xff…) and any range reaching the span of possible stamps
    await unreadable(async (tx) => {
      const { key, stampOffset } = q(0);
      tx.setVersionstampedKey(key, stampOffset, b('v'));
      await tx.get(key);
    });
    await unreadable(async (tx) => {
      const { key, stampOffset } = q(0);
      tx.setVersionstampedKey(key, stampOffset, b('v'));
      await tx.getRange(qBegin, qEnd, { reverse: true, limit: 1, snapshot: true });
    });
    // a stamp of version 0: unreadable before any read, readable after one (stamps will exceed the read version)
    const zeroStamp = (key: Buffer, at: number) => Buffer.concat([key.subarray(0, at), Buffer.alloc(10), key.subarray(at + 10)]);
    await unreadable(async (tx) => {
      const { key, stampOffset } = q(0);
      tx.setVersionstampedKey(key, stampOffset, b('v'));
      await tx.get(zeroStamp(key, stampOffset));
    });
    const rows = await db.transact(async (tx) => {
      await tx.getReadVersion();
      const { key, stampOffset } = q(0);
      tx.setVersionstampedKey(key, stampOffset, b('v'));
      expect(await tx.get(zeroStamp(key, stampOffset))).toBeUndefined();
      return tx.getRange(tuple.pack(['q', 'a']), tuple.pack(['q', 'z']), { limit: 1 }); // stops before the stamps
    });
    expect(rows.map((r) => tuple.unpack(r.key))).toEqual([['q', 'older']]);
    // a versionstamped value's key, even after a plain set of it, until the transaction clears it
    await unreadable(async (tx) => {
      tx.setVersionstampedValue(b('vv'), Buffer.alloc(10));
      await tx.get(b('vv'));
    });
    await unreadable(async (tx) => {
      tx.setVersionstampedValue(b('vv'), Buffer.alloc(10));
      tx.set(b('vv'), b('plain'));
      await tx.get(b('vv'));
    });
    // the body caught the read's error: the commit fails all the same, as on FoundationDB 7.3
    await unreadable(async (tx) => {
      tx.setVersionstampedValue(b('vv'), Buffer.alloc(10));
      await tx.get(b('vv')).catch(() => undefined);
    });
    expect(
      await db.transact(async (tx) => {
        tx.setVersionstampedValue(b('vv'), Buffer.alloc(10));
        tx.clear(b('vv'));
        tx.set(b('vv'), b('plain'));
        return (await tx.get(b('vv')))?.toString();
      }),
    ).toBe('plain');
  });

  it('hands FoundationDB the transaction options: timeout, retry_limit, max_retry_delay', async () => {
    const cluster = start();
    const db = await open(cluster);
    const setOption = vi.spyOn(SimulatedTransaction.prototype, 'setOption');
    await db.transact((tx) => tx.set(b('k'), b('v')));
    expect(setOption.mock.calls).toEqual([
      [500, LIMITS.timeoutMs],
      [501, 100],
      [502, 1_000],
    ]);
    setOption.mockClear();
    await db.transact((tx) => tx.set(b('k'), b('v')), { timeoutMs: 250, retryLimit: 3, maxRetryDelayMs: 40 });
    expect(setOption.mock.calls).toEqual([
      [500, 250],
      [501, 3],
      [502, 40],
    ]);
  });

  it('a timeout while the commit is in flight is commit_unknown_result, not timed_out: the commit may still land', async () => {
    const cluster = start();
    const db = await open(cluster);
    const store = (await sim.cluster(cluster).backend()) as MemoryBackend;
    store.faults.set({ stallMs: 300 });
    store.faults.injectNext('stall');
    const e = await rejection(db.transact((tx) => tx.set(b('late'), b('v')), { timeoutMs: 100 }));
    expect(e.code).toBe('commit_unknown_result');
    await new Promise((r) => setTimeout(r, 400));
    expect((await db.transact((tx) => tx.get(b('late'))))?.toString()).toBe('v');
    // A timeout before the commit began stays timed_out: nothing was sent.
    const early = await rejection(
      db.transact(async (tx) => {
        await new Promise((r) => setTimeout(r, 100));
        await tx.get(b('late'));
      }, { timeoutMs: 50 }),
    );
    expect(early.code).toBe('timed_out');
  });

  it('commit_unknown_result surfaces once for a body that is not idempotent, even when the commit applied', async () => {
    const cluster = start();
    const db = await open(cluster);
    sim.cluster(cluster).failNextCommits({ code: FdbErrorCode.commitUnknownResult, applied: true });
    let attempts = 0;
    const e = await rejection(
      db.transact((tx) => {
        attempts++;
        tx.add(b('n'), 1); // a blind write, as enqueueing a message
      }),
    );
    expect(e.code).toBe('commit_unknown_result');
    expect(e.retryable).toBe(true);
    expect(attempts).toBe(1);
    expect((await db.transact((tx) => tx.get(b('n'))))?.readBigInt64LE(0)).toBe(1n);
  });

  it('an idempotent body is retried through commit_unknown_result', async () => {
    const cluster = start();
    const db = await open(cluster);
    sim.cluster(cluster).failNextCommits({ code: FdbErrorCode.commitUnknownResult, applied: true });
    let attempts = 0;
    const r = await db.transact(
      (tx) => {
        attempts++;
        tx.set(b('k'), b('v'));
        return 'done';
      },
      { idempotent: true, maxRetryDelayMs: 5 },
    );
    expect(r).toBe('done');
    expect(attempts).toBe(2);
    expect(db.stats().retries).toBe(1);
  });

  it('other maybe-committed codes (cluster_version_changed) are commit_unknown_result too', async () => {
    const cluster = start();
    const db = await open(cluster);
    sim.cluster(cluster).failNextCommits({ code: FdbErrorCode.clusterVersionChanged });
    const e = await rejection(db.transact((tx) => tx.set(b('k'), b('v'))));
    expect(e.code).toBe('commit_unknown_result');
    expect((e.cause as { code?: unknown }).code).toBe(FdbErrorCode.clusterVersionChanged);
  });

  it('retries FoundationDB’s other retryable codes, and reports a conflict as not_committed', async () => {
    const cluster = start();
    const db = await open(cluster);
    sim.cluster(cluster).failNextCommits({ code: FdbErrorCode.databaseLocked }, { code: FdbErrorCode.notCommitted });
    let attempts = 0;
    await db.transact(
      (tx) => {
        attempts++;
        tx.set(b('k'), b('v'));
      },
      { maxRetryDelayMs: 5 },
    );
    expect(attempts).toBe(3);
    const stats = db.stats();
    expect(stats.retries).toBe(2);
    expect(stats.conflicts).toBe(1);
    sim.cluster(cluster).failNextCommits({ code: FdbErrorCode.notCommitted });
    const e = await rejection(db.transact((tx) => tx.set(b('k'), b('v')), { retryLimit: 0 }));
    expect(e.code).toBe('not_committed');
  });

  it('a FoundationDB error with no contract counterpart is foundationdb_error with the FDB code, not retried', async () => {
    const cluster = start();
    const db = await open(cluster);
    sim.cluster(cluster).failNextCommits({ code: FdbErrorCode.clientInvalidOperation });
    let attempts = 0;
    const e = await rejection(
      db.transact((tx) => {
        attempts++;
        tx.set(b('k'), b('v'));
      }),
    );
    expect(e).toBeInstanceOf(FoundationDBError);
    expect(e.code).toBe('foundationdb_error');
    expect(e.fdbCode).toBe(2000);
    expect(e.retryable).toBe(false);
    expect(attempts).toBe(1);
  });

  it('counts the prefix against FoundationDB’s 10,000-byte key limit, and says so', async () => {
    const cluster = start();
    const db = await open(cluster, { prefix: DEFAULT_PREFIX });
    const room = LIMITS.keyBytes - DEFAULT_PREFIX.length;
    await db.transact((tx) => tx.set(Buffer.alloc(room, 0x61), b('fits')));
    const e = await rejection(db.transact((tx) => tx.set(Buffer.alloc(room + 1, 0x61), b('too long'))));
    expect(e.code).toBe('key_too_large');
    expect(e.message).toContain(`${DEFAULT_PREFIX.length}-byte prefix`);
  });

  it('rejects options FoundationDB cannot honour', async () => {
    const cluster = start();
    expect((await rejection(sim.open({ clusterFile: cluster, apiVersion: 510 }))).code).toBe('invalid_operation');
    expect((await rejection(sim.open({ clusterFile: cluster, apiVersion: 730 }))).code).toBe('invalid_operation');
    expect((await rejection(sim.open({ clusterFile: cluster, prefix: Buffer.from([0xff, 1]) }))).message).toContain('system keyspace');
    await open(cluster); // the file's client now runs API version 710
    const other = await rejection(sim.open({ clusterFile: cluster, apiVersion: 700 }));
    expect(other.code).toBe('invalid_operation');
    expect(other.message).toContain('one FoundationDB API version');
  });

  it('close() cancels the watches it set, through the client', async () => {
    const cluster = start();
    const db = await open(cluster);
    const w = await db.transact((tx) => tx.watch(b('k')));
    await db.close();
    expect(await w.promise).toBe(false);
    expect((await rejection(db.transact((tx) => tx.get(b('k'))))).code).toBe('closed');
  });
});

function packStamped(): { key: Buffer; stampOffset: number } {
  const { data, stampPos } = tuple.packUnboundVersionstamp(['q', { type: 'unbound versionstamp', code: 7 } as tuple.TupleItem]);
  return { key: data, stampOffset: stampPos };
}
