/**
 * Memory engine only: seeded fault injection. The same seed and the same workload give the same
 * faults; each kind of fault has the effect its name promises; `transact` retries what is safe.
 */
import { describe, expect, it } from 'vitest';
import { memory, type FaultKind, type FaultPlan, type MemoryBackend } from '../../src/backend/memory.js';
import { engines } from './engines.js';
import { b, dump, expectCode, text } from './harness.js';
import { Subspace } from '../../src/backend/subspace.js';

const s = new Subspace(Buffer.from('faults/'));
const plan: FaultPlan = { conflict: 0.15, unknownResult: 0.05, unknownResultNotApplied: 0.05, failBeforeCommit: 0.1 };

/** 200 one-attempt writing transactions (with some reads between); the outcome of each, in order. */
async function outcomes(db: MemoryBackend): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < 200; i++) {
    if (i % 10 === 0) await db.transact((tx) => tx.get(s.pack(['k', i])));
    try {
      await db.transact((tx) => tx.set(s.pack(['k', i]), b(String(i))), { retryLimit: 0 });
      out.push('ok');
    } catch (e) {
      out.push((e as { code: string }).code);
    }
  }
  return out;
}

const enabled = engines.some((e) => e.name === 'memory' && e.skip === undefined);

describe.skipIf(!enabled)('memory: seeded fault injection', () => {
  it('the same seed gives the same sequence of faults; another seed a different one', async () => {
    const first = memory({ seed: 1234, faults: plan });
    const again = memory({ seed: 1234, faults: plan });
    const other = memory({ seed: 4321, faults: plan });
    const [a, a2, o] = [await outcomes(first), await outcomes(again), await outcomes(other)];
    expect(a2).toEqual(a);
    expect(o).not.toEqual(a);
    expect(new Set(a)).toEqual(new Set(['ok', 'not_committed', 'commit_unknown_result', 'commit_failed']));
    expect(first.faults.seed).toBe(1234);
    expect(again.faults.injected).toEqual(first.faults.injected);
    const injected = Object.values(first.faults.injected).reduce((x, y) => x + y, 0);
    expect(injected).toBe(a.filter((x) => x !== 'ok').length);
  });

  it('a random seed is readable and replays the run', async () => {
    const db = memory({ faults: plan });
    const replay = memory({ seed: db.faults.seed, faults: plan });
    expect(await outcomes(replay)).toEqual(await outcomes(db));
  });

  it('each fault kind has its effect: applied or not, and the code it reports', async () => {
    const db = memory({ seed: 1 });
    const cases: [FaultKind, string, boolean][] = [
      ['conflict', 'not_committed', false],
      ['failBeforeCommit', 'commit_failed', false],
      ['unknownResultNotApplied', 'commit_unknown_result', false],
      ['unknownResult', 'commit_unknown_result', true],
    ];
    for (const [kind, code, applied] of cases) {
      db.faults.injectNext(kind);
      await expectCode(db.transact((tx) => tx.set(s.pack([kind]), b('x')), { retryLimit: 0 }), code);
      expect(text(await db.transact((tx) => tx.get(s.pack([kind]))))).toBe(applied ? 'x' : undefined);
    }
    expect(db.faults.injected).toEqual({ conflict: 1, failBeforeCommit: 1, unknownResultNotApplied: 1, unknownResult: 1, stall: 0 });
  });

  it('a stalled commit outlives its timeout: reported commit_unknown_result while in flight, then it lands (unless it conflicts)', async () => {
    const db = memory({ seed: 4, faults: { stallMs: 1_500 } });
    db.faults.injectNext('stall');
    // Timeout 20 ms, grace 1 s: the client gives up on the commit at about 1 s, it lands at 1.5 s.
    await expectCode(db.transact((tx) => tx.set(s.pack(['stalled']), b('x')), { timeoutMs: 20, retryLimit: 0 }), 'commit_unknown_result');
    expect(text(await db.transact((tx) => tx.get(s.pack(['stalled']))))).toBe(undefined);
    // A second stalled commit read the key; a write in between makes it conflict when it lands.
    db.faults.injectNext('stall');
    const guarded = db.transact(async (tx) => {
      await tx.get(s.pack(['guard']));
      tx.set(s.pack(['late']), b('y'));
    }, { timeoutMs: 20, retryLimit: 0 });
    await new Promise((r) => setTimeout(r, 50)); // its commit is in flight
    await db.transact((tx) => tx.set(s.pack(['guard']), b('g')));
    await expectCode(guarded, 'commit_unknown_result');
    await new Promise((r) => setTimeout(r, 1_000));
    expect(text(await db.transact((tx) => tx.get(s.pack(['stalled']))))).toBe('x');
    expect(text(await db.transact((tx) => tx.get(s.pack(['late']))))).toBe(undefined);
    expect(db.faults.injected.stall).toBe(2);
  });

  it('a stalled commit whose client gave up still conflicts on a range it read, after hundreds of later commits', async () => {
    const db = memory({ seed: 5, faults: { stallMs: 1_500 } });
    const queue = s.at('queue');
    db.faults.injectNext('stall');
    const stalled = db.transact(async (tx) => {
      await tx.getRange(queue.range().begin, queue.range().end); // a consumer reading its queue
      tx.set(s.pack(['taken']), b('1'));
    }, { timeoutMs: 20, retryLimit: 0 });
    await expectCode(stalled, 'commit_unknown_result'); // its snapshot is released now
    await db.transact((tx) => tx.set(queue.pack(['m1']), b('x'))); // written into the range it read
    for (let i = 0; i < 600; i++) await db.transact((tx) => tx.set(s.pack(['other', i]), b('y'))); // old versions collected meanwhile
    await new Promise((r) => setTimeout(r, 1_000));
    expect(text(await db.transact((tx) => tx.get(s.pack(['taken']))))).toBe(undefined);
  });

  it('read-only transactions never suffer a fault', async () => {
    const db = memory({ seed: 2, faults: { conflict: 1 } });
    for (let i = 0; i < 20; i++) await db.transact((tx) => tx.get(s.pack(['k'])), { retryLimit: 0 });
    expect(db.faults.injected.conflict).toBe(0);
  });

  it('transact retries commit_unknown_result only for bodies declared idempotent', async () => {
    const db = memory({ seed: 3 });
    db.faults.injectNext('unknownResultNotApplied');
    await expectCode(db.transact((tx) => tx.set(s.pack(['a']), b('1'))), 'commit_unknown_result');
    db.faults.injectNext('unknownResultNotApplied');
    let attempts = 0;
    await db.transact((tx) => {
      attempts++;
      tx.set(s.pack(['b']), b('1'));
    }, { idempotent: true, maxRetryDelayMs: 5 });
    expect(attempts).toBe(2);
    expect(text(await db.transact((tx) => tx.get(s.pack(['b']))))).toBe('1');
  });

  it('with retryable faults, concurrent read-modify-write increments still end exact', async () => {
    const db = memory({ seed: 99, faults: { conflict: 0.2, failBeforeCommit: 0.1, commitDelayMs: [0, 2] } });
    const k = s.pack(['counter']);
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = 0; i < 10; i++) {
          await db.transact(async (tx) => tx.set(k, b(String(Number(text(await tx.get(k)) ?? '0') + 1))), { retryLimit: 1_000, maxRetryDelayMs: 10 });
        }
      }),
    );
    db.faults.clear();
    expect(text(await db.transact((tx) => tx.get(k)))).toBe('80');
    expect(db.faults.injected.conflict + db.faults.injected.failBeforeCommit).toBeGreaterThan(0);
    expect(await dump(db, s)).toHaveLength(1);
  });
});

if (!enabled) {
  describe('memory: seeded fault injection', () => {
    it.skip('skipped: the memory engine is not in this run (DGEN_ENGINES)', () => {});
  });
}
