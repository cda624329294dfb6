import { describe, expect, it } from 'vitest';
import { memory } from '../../src/backend/memory.js';
import { b, engineCases } from './engine-cases.js';

engineCases('memory', () => memory());

describe('memory faults', () => {
  const run = async (seed: number) => {
    const db = memory({ seed, faults: { conflict: 0.2, failBeforeCommit: 0.1, unknownResultNotApplied: 0.05 } });
    for (let i = 0; i < 200; i++) await db.transact((tx) => tx.add(b('n'), 1), { maxRetryDelayMs: 1, idempotent: true });
    const n = (await db.transact((tx) => tx.get(b('n'))))!.readBigInt64LE(0);
    return { n, injected: { ...db.faults.injected }, stats: db.stats() };
  };

  it('injects the same faults for the same seed, and retries them', async () => {
    const [x, y] = [await run(11), await run(11)];
    expect(x.n).toBe(200n);
    expect(x.injected).toEqual(y.injected);
    expect(x.injected.conflict).toBeGreaterThan(0);
    expect(x.stats.conflicts).toBe(x.injected.conflict);
    expect(x.stats.retries).toBe(x.injected.conflict + x.injected.failBeforeCommit + x.injected.unknownResultNotApplied);
  });

  it('applies an unknownResult commit but reports commit_unknown_result (not retried unless idempotent)', async () => {
    const db = memory({ seed: 1 });
    db.faults.injectNext('unknownResult');
    await expect(db.transact((tx) => tx.add(b('n'), 1))).rejects.toMatchObject({ code: 'commit_unknown_result' });
    expect((await db.transact((tx) => tx.get(b('n'))))!.readBigInt64LE(0)).toBe(1n);
    db.faults.injectNext('unknownResult');
    await db.transact((tx) => tx.add(b('n'), 1), { idempotent: true });
    expect((await db.transact((tx) => tx.get(b('n'))))!.readBigInt64LE(0)).toBe(3n);
    db.faults.injectNext('unknownResultNotApplied');
    await expect(db.transact((tx) => tx.add(b('n'), 1))).rejects.toMatchObject({ code: 'commit_unknown_result' });
    expect((await db.transact((tx) => tx.get(b('n'))))!.readBigInt64LE(0)).toBe(3n);
    expect(db.faults.injected).toMatchObject({ unknownResult: 2, unknownResultNotApplied: 1 });
  });

  it('never faults read-only transactions, delays commits, and clears', async () => {
    const db = memory({ seed: 3, faults: { conflict: 1 } });
    expect(await db.transact((tx) => tx.get(b('k')))).toBeUndefined();
    await expect(db.transact((tx) => tx.set(b('k'), b('v')), { retryLimit: 2, maxRetryDelayMs: 1 })).rejects.toMatchObject({ code: 'not_committed' });
    expect(db.faults.injected.conflict).toBe(3);
    db.faults.set({ commitDelayMs: [5, 10] });
    const t0 = Date.now();
    await db.transact((tx) => tx.set(b('k'), b('v')));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(4);
    db.faults.clear();
    expect(db.faults.plan).toEqual({});
    expect(() => db.faults.set({ conflict: 0.7, failBeforeCommit: 0.7 })).toThrow(expect.objectContaining({ code: 'invalid_operation' }));
  });
});

describe('memory versions', () => {
  it('keeps old versions only while a snapshot needs them', async () => {
    const db = memory();
    for (let i = 0; i < 600; i++) await db.transact((tx) => (i % 2 ? tx.clear(b('k')) : tx.set(b('k'), b(String(i)))));
    expect(await db.transact((tx) => tx.getRange(b(''), b('\xff')))).toEqual([]);
    type Version = { prev?: Version };
    const engine = db as unknown as { data: Map<string, Version>; history: unknown[] };
    let chain = 0;
    for (let v: Version | undefined = engine.data.get('k'); v; v = v.prev) chain++;
    expect(chain).toBeLessThan(300);
    expect(engine.history.length).toBeLessThan(300);
  });

  it('a range read at an old version finds the keys cleared since, once and in order; the key index holds only keys that are set', async () => {
    const db = memory();
    const key = (i: number | string) => b(`k${i}`);
    await db.transact((tx) => {
      for (let i = 0; i < 10; i++) tx.set(key(i), b(String(i)));
    });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const old = db.transact(async (tx) => {
      await tx.get(b('x')); // the read version: before the clears below
      await held;
      return [await tx.getRange(key(''), b('l')), await tx.getRange(key(''), b('l'), { reverse: true })];
    });
    await db.transact((tx) => {
      tx.clearRange(key(2), key(6));
      tx.set(key(3), b('again'));
      tx.set(key(35), b('new'));
    });
    await db.transact((tx) => tx.clear(key(8)));
    release();
    const view = (kvs: { key: Buffer; value: Buffer }[]) => kvs.map((kv) => `${kv.key.toString()}=${kv.value.toString()}`);
    const all = Array.from({ length: 10 }, (_, i) => `k${i}=${i}`);
    const [forward, reverse] = await old;
    expect(view(forward!)).toEqual(all);
    expect(view(reverse!)).toEqual([...all].reverse());
    const now = ['k0=0', 'k1=1', 'k3=again', 'k35=new', 'k6=6', 'k7=7', 'k9=9'];
    expect(view(await db.transact((tx) => tx.getRange(key(''), b('l'))))).toEqual(now);
    expect(view(await db.transact((tx) => tx.getRange(key(''), b('l'), { reverse: true, limit: 3 })))).toEqual(['k9=9', 'k7=7', 'k6=6']);
    expect((db as unknown as { keys: { size: number } }).keys.size).toBe(now.length);
  });
});
