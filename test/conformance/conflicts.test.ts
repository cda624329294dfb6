/**
 * Conformance: optimistic concurrency. Conflicts are forced deterministically by running two
 * transactions by hand (see `interleave`): A reads, B commits a write, then A tries to commit.
 */
import { expect, it } from 'vitest';
import type { Transaction } from '../../src/backend/contract.js';
import { DgenError } from '../../src/errors.js';
import { NotCommittedError } from '../../src/backend/errors.js';
import { b, describeEngines, dump, expectCode, interleave, le64, readLe64, rejection, sleep, text } from './harness.js';

describeEngines('conflicts and retries', (ctx) => {
  const num = async (tx: Transaction, key: Uint8Array) => Number(text(await tx.get(key)) ?? '0');

  it('a read changed by a later commit fails the raw attempt with not_committed and commits nothing', async () => {
    const s = ctx.space();
    const k = s.pack(['k']);
    await ctx.db.transact((tx) => tx.set(k, b('1')));
    const { attempts, result } = await interleave(
      ctx.db,
      async (tx, pause) => {
        await tx.get(k);
        await pause();
        tx.set(s.pack(['from-a']), b('x'));
      },
      (tx) => tx.set(k, b('2')),
      { retryLimit: 0 },
    );
    await expectCode(result, 'not_committed');
    expect(attempts).toBe(1);
    expect((await rejection(result)).retryable).toBe(true);
    expect(await ctx.db.transact((tx) => tx.get(s.pack(['from-a'])))).toBeUndefined();
  });

  it('transact retries a conflicting read-modify-write to the correct result and counts it in stats', async () => {
    const s = ctx.space();
    const k = s.pack(['counter']);
    await ctx.db.transact((tx) => tx.set(k, b('10')));
    const before = ctx.db.stats();
    const { attempts, result } = await interleave(
      ctx.db,
      async (tx, pause) => {
        const n = await num(tx, k);
        await pause();
        tx.set(k, b(String(n + 1)));
        return n + 1;
      },
      async (tx) => tx.set(k, b(String((await num(tx, k)) + 100))),
    );
    expect(await result).toBe(111);
    expect(attempts).toBe(2);
    expect(text(await ctx.db.transact((tx) => tx.get(k)))).toBe('111');
    const after = ctx.db.stats();
    expect(after.conflicts - before.conflicts).toBeGreaterThanOrEqual(1);
    expect(after.retries - before.retries).toBeGreaterThanOrEqual(1);
    expect(after.commits - before.commits).toBeGreaterThanOrEqual(2);
  });

  it('a transaction reads one consistent snapshot: commits after its read version are invisible to it', async () => {
    const s = ctx.space();
    await ctx.db.transact((tx) => {
      tx.set(s.pack(['x']), b('old-x'));
      tx.set(s.pack(['y']), b('old-y'));
    });
    const seen: (string | undefined)[] = [];
    const { result } = await interleave(
      ctx.db,
      async (tx, pause, n) => {
        const x = text(await tx.get(s.pack(['x']), { snapshot: true }));
        await pause();
        const y = text(await tx.get(s.pack(['y']), { snapshot: true }));
        const r = await tx.getRange(s.range().begin, s.range().end, { snapshot: true });
        if (n === 1) seen.push(x, y, String(r.length));
      },
      (tx) => {
        tx.set(s.pack(['x']), b('new-x'));
        tx.set(s.pack(['y']), b('new-y'));
        tx.set(s.pack(['z']), b('new-z'));
      },
    );
    await result;
    expect(seen).toEqual(['old-x', 'old-y', '2']);
  });

  it('reading a missing key conflicts with a commit that creates it', async () => {
    const s = ctx.space();
    const { attempts, result } = await interleave(
      ctx.db,
      async (tx, pause) => {
        const v = await tx.get(s.pack(['k']));
        await pause();
        tx.set(s.pack(['seen']), b(text(v) ?? 'none'));
      },
      (tx) => tx.set(s.pack(['k']), b('created')),
    );
    await result;
    expect(attempts).toBe(2);
    expect(text(await ctx.db.transact((tx) => tx.get(s.pack(['seen']))))).toBe('created');
  });

  it('snapshot reads (get and getRange) never conflict', async () => {
    const s = ctx.space();
    const k = s.pack(['k']);
    await ctx.db.transact((tx) => tx.set(k, b('1')));
    const { attempts, result } = await interleave(
      ctx.db,
      async (tx, pause) => {
        await tx.get(k, { snapshot: true });
        await tx.getRange(s.range().begin, s.range().end, { snapshot: true });
        await pause();
        tx.set(s.pack(['other']), b('a'));
      },
      (tx) => {
        tx.set(k, b('2'));
        tx.set(s.pack(['new']), b('phantom'));
      },
      { retryLimit: 0 },
    );
    await result;
    expect(attempts).toBe(1);
  });

  it('write-only transactions never conflict, and the later commit wins', async () => {
    const s = ctx.space();
    const k = s.pack(['k']);
    const { attempts, result } = await interleave(
      ctx.db,
      async (tx, pause) => {
        tx.set(k, b('from-a'));
        tx.clear(s.pack(['c']));
        tx.clearRange(s.pack(['r', 0]), s.pack(['r', 9]));
        await pause();
      },
      (tx) => {
        tx.set(k, b('from-b'));
        tx.set(s.pack(['c']), b('b'));
        tx.set(s.pack(['r', 5]), b('b'));
      },
      { retryLimit: 0 },
    );
    await result;
    expect(attempts).toBe(1);
    expect((await dump(ctx.db, s)).map(([, v]) => v)).toEqual(['from-a']);
  });

  it('atomic add adds no read conflict and applies on top of the concurrent commit', async () => {
    const s = ctx.space();
    const k = s.pack(['n']);
    await ctx.db.transact((tx) => tx.set(k, le64(1)));
    const { attempts, result } = await interleave(
      ctx.db,
      async (tx, pause) => {
        tx.add(k, 5);
        await pause();
      },
      (tx) => tx.set(k, le64(1000)),
      { retryLimit: 0 },
    );
    await result;
    expect(attempts).toBe(1);
    expect(readLe64(await ctx.db.transact((tx) => tx.get(k)))).toBe(1005n);
  });

  it('addReadConflictKey forces a conflict on a key the transaction never read', async () => {
    const s = ctx.space();
    const { attempts, result } = await interleave(
      ctx.db,
      async (tx, pause) => {
        await tx.getReadVersion();
        tx.addReadConflictKey(s.pack(['guard']));
        await pause();
        tx.set(s.pack(['out']), b('x'));
      },
      (tx) => tx.set(s.pack(['guard']), b('changed')),
    );
    await result;
    expect(attempts).toBe(2);
  });

  it('addReadConflictKey covers that key only', async () => {
    const s = ctx.space();
    const { attempts, result } = await interleave(
      ctx.db,
      async (tx, pause) => {
        await tx.getReadVersion();
        tx.addReadConflictKey(s.pack(['guard']));
        await pause();
        tx.set(s.pack(['out']), b('x'));
      },
      (tx) => {
        tx.set(s.pack(['guard', 'child']), b('y'));
        tx.set(Buffer.concat([s.pack(['guard']), Buffer.from([0x00])]), b('y'));
      },
    );
    await result;
    expect(attempts).toBe(1);
  });

  it('addReadConflictRange conflicts on writes inside [begin, end) and not on end', async () => {
    const s = ctx.space();
    const begin = s.pack(['a']);
    const end = s.pack(['c']);
    const run = async (write: Uint8Array) => {
      const { attempts, result } = await interleave(
        ctx.db,
        async (tx, pause) => {
          await tx.getReadVersion();
          tx.addReadConflictRange(begin, end);
          await pause();
          tx.set(s.pack(['out']), b('x'));
        },
        (tx) => tx.set(write, b('w')),
      );
      await result;
      return attempts;
    };
    expect(await run(s.pack(['b']))).toBe(2);
    expect(await run(begin)).toBe(2);
    expect(await run(end)).toBe(1);
  });

  it('a range read conflicts with a key inserted into the range (phantom) and with a clearRange over it', async () => {
    const s = ctx.space();
    await ctx.db.transact((tx) => {
      tx.set(s.pack(['a']), b('1'));
      tx.set(s.pack(['c']), b('3'));
    });
    const run = async (between: (tx: Transaction) => void) => {
      const { attempts, result } = await interleave(
        ctx.db,
        async (tx, pause) => {
          await tx.getRange(s.pack(['a']), s.pack(['d']));
          await pause();
          tx.set(s.pack(['out']), b('x'));
        },
        between,
      );
      await result;
      return attempts;
    };
    expect(await run((tx) => tx.set(s.pack(['b']), b('2')))).toBe(2);
    expect(await run((tx) => tx.clearRange(s.pack(['c']), s.pack(['z'])))).toBe(2);
    expect(await run((tx) => tx.set(s.pack(['d']), b('end is exclusive')))).toBe(1);
  });

  it('getRange with a limit conflicts only on the part of the range it read', async () => {
    const s = ctx.space();
    await ctx.db.transact((tx) => {
      for (const x of ['a', 'b', 'c', 'd']) tx.set(s.pack([x]), b(x));
    });
    const { begin, end } = s.range();
    const run = async (reverse: boolean, write: Uint8Array) => {
      const { attempts, result } = await interleave(
        ctx.db,
        async (tx, pause) => {
          const r = await tx.getRange(begin, end, { limit: 2, reverse });
          expect(r).toHaveLength(2);
          await pause();
          tx.set(ctx.space().pack(['out']), b('x'));
        },
        (tx) => tx.set(write, b('w')),
      );
      await result;
      return attempts;
    };
    const after = (x: string) => Buffer.concat([s.pack([x]), Buffer.from([0x00])]);
    // forward: read a, b
    expect(await run(false, s.pack(['d']))).toBe(1);
    expect(await run(false, after('b'))).toBe(1);
    expect(await run(false, s.pack(['b']))).toBe(2);
    expect(await run(false, after('a'))).toBe(2);
    // reverse: read d, c
    expect(await run(true, s.pack(['a']))).toBe(1);
    expect(await run(true, after('b'))).toBe(1);
    expect(await run(true, after('c'))).toBe(2);
    expect(await run(true, s.pack(['e']))).toBe(2);
  });

  it('keys sharing a long prefix (2,000+ bytes) conflict key by key, and in ranges', async () => {
    const s = ctx.space();
    const stem = Buffer.alloc(4_000, 0x61);
    const long = (x: string) => Buffer.concat([s.pack([]), stem, b(x)]);
    await ctx.db.transact((tx) => {
      tx.set(long('1'), b('one'));
      tx.set(long('3'), b('three'));
    });
    const run = (read: (tx: Transaction) => Promise<unknown>, write: Uint8Array) =>
      interleave(
        ctx.db,
        async (tx, pause) => {
          await read(tx);
          await pause();
          tx.set(ctx.space().pack(['out']), b('x'));
        },
        (tx) => tx.set(write, b('w')),
      ).then(async ({ attempts, result }) => (await result, attempts));
    expect(await run((tx) => tx.get(long('1')), long('2'))).toBe(1);
    expect(await run((tx) => tx.get(long('1')), long('1'))).toBe(2);
    expect(await run((tx) => tx.getRange(long('1'), long('3')), long('15'))).toBe(2);
    expect(await run((tx) => tx.getRange(long('1'), long('3')), long('3'))).toBe(1);
    expect(await run((tx) => tx.getRange(long('0'), long('9'), { limit: 1 }), long('5'))).toBe(1);
  });

  it('retryLimit bounds the attempts; the last error is thrown', async () => {
    const s = ctx.space();
    const k = s.pack(['k']);
    let attempts = 0;
    const e = await rejection(
      ctx.db.transact(
        async (tx) => {
          attempts++;
          await tx.get(k);
          await ctx.db.transact((other) => other.set(k, b(String(attempts))));
          tx.set(s.pack(['out']), b('x'));
        },
        { retryLimit: 2, maxRetryDelayMs: 5 },
      ),
    );
    expect(e.code).toBe('not_committed');
    expect(attempts).toBe(3);
    expect(await ctx.db.transact((tx) => tx.get(s.pack(['out'])))).toBeUndefined();
  });

  it('a retryable storage error thrown by the body is retried', async () => {
    let attempts = 0;
    const r = await ctx.db.transact(() => {
      if (++attempts < 3) throw new NotCommittedError();
      return 'done';
    }, { maxRetryDelayMs: 5 });
    expect(r).toBe('done');
    expect(attempts).toBe(3);
  });

  it('a non-retryable error thrown by the body is rethrown untouched, once, and nothing is committed', async () => {
    const s = ctx.space();
    class Boom extends Error {}
    const boom = new Boom('boom');
    const coded = new DgenError('invalid_state', 'not retryable');
    for (const thrown of [boom, coded, 'a string']) {
      let attempts = 0;
      const e = await rejection(
        ctx.db.transact(async (tx) => {
          attempts++;
          tx.set(s.pack(['k']), b('x'));
          tx.add(s.pack(['n']), 1);
          await tx.get(s.pack(['k']));
          throw thrown;
        }),
      );
      expect(e).toBe(thrown);
      expect(attempts).toBe(1);
    }
    expect(await dump(ctx.db, s)).toEqual([]);
  });

  it('concurrent read-modify-write increments from many async transactions end exact', async () => {
    const s = ctx.space();
    const k = s.pack(['counter']);
    const workers = 16;
    const each = 10;
    await Promise.all(
      Array.from({ length: workers }, async () => {
        for (let i = 0; i < each; i++) {
          await ctx.db.transact(async (tx) => tx.set(k, b(String((await num(tx, k)) + 1))), { retryLimit: 1_000, timeoutMs: 60_000 });
        }
      }),
    );
    expect(text(await ctx.db.transact((tx) => tx.get(k)))).toBe(String(workers * each));
  });

  it('concurrent transfers keep the total, and every reader sees it (no write skew, no torn reads)', async () => {
    const s = ctx.space();
    const accounts = 8;
    const acct = (i: number) => s.pack(['acct', i]);
    await ctx.db.transact((tx) => {
      for (let i = 0; i < accounts; i++) tx.set(acct(i), b('100'));
    });
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) % n);
    let writing = true;
    const totals: number[] = [];
    const readers = Array.from({ length: 3 }, async (_, r) => {
      while (writing) {
        totals.push(
          await ctx.db.transact(async (tx) => {
            if (r === 0) return (await tx.getRange(s.range(['acct']).begin, s.range(['acct']).end)).reduce((t, kv) => t + Number(text(kv.value)), 0);
            let t = 0;
            for (let i = 0; i < accounts; i++) {
              t += await num(tx, acct(i));
              await Promise.resolve();
            }
            return t;
          }),
        );
        await sleep(0);
      }
    });
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let n = 0; n < 15; n++) {
          const from = rand(accounts);
          const to = (from + 1 + rand(accounts - 1)) % accounts;
          const amount = 1 + rand(20);
          await ctx.db.transact(async (tx) => {
            const a = await num(tx, acct(from));
            await sleep(0);
            const c = await num(tx, acct(to));
            if (a < amount) return;
            tx.set(acct(from), b(String(a - amount)));
            tx.set(acct(to), b(String(c + amount)));
          }, { retryLimit: 1_000, maxRetryDelayMs: 10 });
        }
      }),
    );
    writing = false;
    await Promise.all(readers);
    expect(totals.length).toBeGreaterThan(3);
    expect(new Set(totals)).toEqual(new Set([accounts * 100]));
    const final = await ctx.db.transact(async (tx) => {
      let t = 0;
      for (let i = 0; i < accounts; i++) t += await num(tx, acct(i));
      return t;
    });
    expect(final).toBe(accounts * 100);
  });

  it('concurrent atomic adds never conflict and end exact', async () => {
    const s = ctx.space();
    const k = s.pack(['n']);
    const before = ctx.db.stats().conflicts;
    await Promise.all(Array.from({ length: 200 }, (_, i) => ctx.db.transact((tx) => tx.add(k, i % 2 === 0 ? 3 : -1), { retryLimit: 0 })));
    expect(readLe64(await ctx.db.transact((tx) => tx.get(k)))).toBe(200n);
    expect(ctx.db.stats().conflicts).toBe(before);
  });
});
