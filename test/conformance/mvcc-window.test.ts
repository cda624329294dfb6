/**
 * Conformance: the 5 s MVCC window. A transaction whose read version is older than the window
 * fails with the retryable `transaction_too_old` (at its next read or at commit), as on
 * FoundationDB. In a file of its own because it has to wait out the window.
 */
import { expect, it } from 'vitest';
import { LIMITS } from '../../src/backend/contract.js';
import { b, describeEngines, rejection, sleep } from './harness.js';

describeEngines('MVCC window', (ctx) => {
  it('a read version older than 5 s fails with the retryable transaction_too_old', async () => {
    const s = ctx.space();
    const k = s.pack(['k']);
    // Generous timeouts around the one under test: a shared server under load may be slow to commit.
    const slow = { timeoutMs: 20_000 };
    await ctx.db.transact((tx) => tx.set(k, b('1')), slow);
    let attempts = 0;
    const e = await rejection(
      ctx.db.transact(
        async (tx) => {
          attempts++;
          await tx.get(k);
          await sleep(LIMITS.mvccWindowMs / 2);
          await ctx.db.transact((o) => o.set(s.pack(['meanwhile']), b('x')), slow);
          await sleep(LIMITS.mvccWindowMs / 2 + 400);
          await tx.get(s.pack(['other']));
          tx.set(s.pack(['out']), b('x'));
        },
        { retryLimit: 0, timeoutMs: 20_000 },
      ),
    );
    expect(e.code).toBe('transaction_too_old');
    expect(e.retryable).toBe(true);
    expect(attempts).toBe(1);
    expect(await ctx.db.transact((tx) => tx.get(s.pack(['out'])), slow)).toBeUndefined();
  }, 60_000);
});
