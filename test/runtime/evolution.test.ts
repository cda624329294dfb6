/**
 * Evolving a definition while its instances are stored: lazy migrations written with the batch,
 * old producers' messages upcast and renamed, old hosts that leave newer instances alone, a
 * failing migration that changes nothing, and the eager walk of `admin.migrate`.
 */
import { describe, expect, it } from 'vitest';
import { filter, firstValueFrom } from 'rxjs';
import { defineActor, type System, type SystemEvent } from '../../src/index.js';
import { readDefinitionVersion } from '../../src/evolution/stored-version.js';
import { Layout } from '../../src/store/keys.js';
import { WalletV1, WalletV2, WalletV3, WalletV3Halting } from '../fixtures/wallet.js';
import { actorEngines, systemsOn } from '../support/actor-engines.js';

/** The definition version recorded for an instance (1 when none is). */
async function storedVersion(s: System, id: string, name = 'wallet'): Promise<number> {
  const keys = new Layout().actor(name, id);
  return s.backend.transact((tx) => readDefinitionVersion(tx, keys));
}

const outdated = (s: System) => firstValueFrom(s.events$.pipe(filter((e): e is Extract<SystemEvent, { type: 'definition-outdated' }> => e.type === 'definition-outdated')));

/** A thunk that never finishes: its host stops with the lock held. */
const never = () => new Promise<never>(() => {});

const JobsV1 = defineActor({
  name: 'jobs',
  initialState: () => ({ started: 0 }),
  thunks: {
    async work() {
      await never();
    },
  },
  reducers: {
    start(state, _: void, ctx) {
      state.started += 1;
      ctx.lock('work');
    },
  },
});

/** Version 2: a list of finished jobs, which the migration creates and the thunk's recipe appends to. */
function jobsV2(work: () => Promise<((draft: { done: string[] }) => void) | undefined>) {
  return defineActor({
    name: 'jobs',
    version: 2,
    initialState: () => ({ started: 0, done: [] as string[] }),
    migrations: {
      2: (draft) => {
        draft.done = [];
      },
    },
    thunks: { work },
    reducers: {
      start(state, _: void, ctx) {
        state.started += 1;
        ctx.lock('work');
      },
    },
  });
}

const JobsV2 = jobsV2(async () => (draft) => void draft.done.push('work'));
const JobsV2Stuck = jobsV2(never);

describe.each(actorEngines().filter((e) => e.name === 'memory' || e.name === 'lmdb'))('evolution on $name', (engine) => {
  if (engine.skip !== undefined) {
    it.skip(`skipped: ${engine.skip}`, () => {});
    return;
  }
  const system = systemsOn(engine);

  /** A wallet stored by version 1 with a balance of 10, and no host serving it any more. */
  async function storedByV1(id: string): Promise<System> {
    const v1 = await system();
    const serving = v1.serve(WalletV1);
    await v1.ref(WalletV1, id).dispatch.deposit(10);
    expect(await v1.ref(WalletV1, id).call.read()).toBe(10);
    await serving.stop();
    return v1;
  }

  it('migrates a version-1 state when version 2 first processes it, in the same commit, and records version 2', async () => {
    const v1 = await storedByV1('w');
    expect(await storedVersion(v1, 'w')).toBe(1);
    const v2 = await system(true);
    v2.serve(WalletV2);
    const ref = v2.ref(WalletV2, 'w');
    const [last] = await v2.admin.commits('wallet', 'w', { limit: 1 });
    await ref.dispatch.deposit({ amount: 5, currency: 'EUR' });
    expect(await ref.call.read()).toEqual({ amount: 15, currency: 'EUR' });
    // The first batch of version 2 holds the migration's patch and the deposit's: one commit, no commit of its own.
    const next = (await v2.admin.commits('wallet', 'w', { limit: 10 })).find((c) => c.version === last!.version + 1);
    expect(next?.patches?.map((p) => p.path.join('.'))).toEqual(['balance', 'log.1', 'balance.amount']);
    expect(await storedVersion(v2, 'w')).toBe(2);
    expect(await v2.admin.state('wallet', 'w')).toEqual({ balance: { amount: 15, currency: 'EUR' }, owner: 'nobody', log: ['v1 deposit 10', 'v2 deposit 5 EUR'] });
  });

  it('writes the migration incrementally: fields it does not touch are not rewritten', async () => {
    const v1 = await system();
    const serving = v1.serve(WalletV1);
    const big = v1.ref(WalletV1, 'big');
    for (let i = 0; i < 20; i++) await big.dispatch.deposit(1);
    await big.call.read();
    await serving.stop();
    const v2 = await system(true);
    v2.serve(WalletV2);
    const before = v2.backend.stats();
    expect(await v2.ref(WalletV2, 'big').call.read()).toEqual({ amount: 20, currency: 'EUR' });
    const after = v2.backend.stats();
    // The log (20 entries) stays as it is: the batch writes the balance, the version keys and history.
    expect(after.keysWritten - before.keysWritten).toBeLessThan(12);
  });

  it('upcasts the payloads of version-1 producers and maps their renamed actions', async () => {
    const v1 = await storedByV1('u');
    const v2 = await system(true);
    v2.serve(WalletV2);
    const old = v1.ref(WalletV1, 'u');
    await old.dispatch.deposit(7); // a number: upcast to { amount: 7, currency: 'EUR' }
    await old.dispatch.withdraw(2); // renamed 'take'
    expect(await old.call.read()).toEqual({ amount: 15, currency: 'EUR' });
    const state = (await v2.admin.state('wallet', 'u')) as { log: string[] };
    expect(state.log.slice(1)).toEqual(['v2 deposit 7 EUR', 'v2 take 2']);
    expect(await v2.admin.deadLetters('wallet', 'u')).toEqual([]);
  });

  it('an older host never writes an instance stored by a newer version: it leaves it, reports it, and the newer host processes the queue', async () => {
    const v2 = await system();
    let serving = v2.serve(WalletV2);
    await v2.ref(WalletV2, 'n').dispatch.deposit({ amount: 3, currency: 'USD' });
    expect(await v2.ref(WalletV2, 'n').call.read()).toEqual({ amount: 3, currency: 'EUR' });
    await serving.stop();
    const stored = await v2.admin.state('wallet', 'n');
    const v1 = await system(true);
    const event = outdated(v1);
    v1.serve(WalletV1, { consumerName: 'old-host' });
    await v1.ref(WalletV1, 'n').dispatch.deposit(4); // inline path refused, enqueued
    expect(await event).toMatchObject({ actor: 'wallet', id: 'n', version: 1, stored: 2, consumer: 'old-host' });
    expect(await v2.admin.state('wallet', 'n')).toEqual(stored);
    expect(await v2.admin.queue('wallet', 'n')).toHaveLength(1);
    expect((await v2.admin.lease('wallet', 'n'))?.expires ?? 0).toBeLessThanOrEqual(Date.now()); // given up
    serving = v2.serve(WalletV2);
    expect(await v2.ref(WalletV2, 'n').call.read()).toEqual({ amount: 7, currency: 'EUR' });
    expect(await storedVersion(v2, 'n')).toBe(2);
  });

  it("a newer producer's message waits for a newer host instead of failing on an older one", async () => {
    const v1 = await storedByV1('p');
    const event = outdated(v1);
    v1.serve(WalletV1);
    const v2 = await system(true);
    await v2.ref(WalletV2, 'p').dispatch.take(4); // 'take' is unknown to version 1
    expect(await event).toMatchObject({ id: 'p', version: 1, stored: 2 });
    expect(await v1.admin.deadLetters('wallet', 'p')).toEqual([]);
    expect(await v1.admin.state('wallet', 'p')).toMatchObject({ balance: 10 });
    v2.serve(WalletV2);
    expect(await v2.ref(WalletV2, 'p').call.read()).toEqual({ amount: 6, currency: 'EUR' });
  });

  it('a migration that throws fails the messages with migration_failed and leaves the stored state untouched', async () => {
    const v1 = await storedByV1('neg');
    await v1.ref(WalletV1, 'neg').dispatch.withdraw(25);
    const v1s = v1.serve(WalletV1);
    expect(await v1.ref(WalletV1, 'neg').call.read()).toBe(-15);
    await v1s.stop();
    const stored = await v1.admin.state('wallet', 'neg');
    const v3 = await system(true);
    v3.serve(WalletV3);
    await expect(v3.ref(WalletV3, 'neg').call.read()).rejects.toMatchObject({ code: 'migration_failed', message: expect.stringContaining('migration 3') });
    expect(await v3.admin.state('wallet', 'neg')).toEqual(stored);
    expect(await storedVersion(v3, 'neg')).toBe(1);
    const [letter] = await v3.admin.deadLetters('wallet', 'neg');
    expect(letter?.error).toMatchObject({ code: 'migration_failed' });
  });

  it("with policy 'halt' a failing migration halts the instance at its first message", async () => {
    const Halting = WalletV3Halting;
    const v1 = await storedByV1('h');
    await v1.ref(WalletV1, 'h').dispatch.withdraw(11);
    const v1s = v1.serve(WalletV1);
    expect(await v1.ref(WalletV1, 'h').call.read()).toBe(-1);
    await v1s.stop();
    const v3 = await system(true);
    v3.serve(Halting);
    await expect(v3.ref(Halting, 'h').call.read()).rejects.toMatchObject({ code: 'migration_failed' });
    expect(await v3.admin.halted('wallet', 'h')).toMatchObject({ error: { code: 'migration_failed' } });
    expect(await v3.admin.state('wallet', 'h')).toMatchObject({ balance: -1 });
  });

  it('a new instance records its definition version with its first state', async () => {
    const v2 = await system();
    v2.serve(WalletV2);
    await v2.ref(WalletV2, 'fresh').call.read();
    expect(await storedVersion(v2, 'fresh')).toBe(2);
    expect(await v2.admin.state('wallet', 'fresh')).toMatchObject({ balance: { amount: 0, currency: 'EUR' } });
  });

  it('admin.migrate walks every instance a page at a time; a dry run writes nothing; failures name their instance', async () => {
    const v1 = await system();
    const serving = v1.serve(WalletV1);
    for (const [id, amount] of [['a', 1], ['b', -2], ['c', 3], ['d', 4]] as const) await v1.ref(WalletV1, id).call.read().then(() => v1.ref(WalletV1, id).dispatch.deposit(amount));
    for (const id of ['a', 'b', 'c', 'd']) await v1.ref(WalletV1, id).call.read();
    await serving.stop();
    const v3 = await system(true);
    const before = v3.backend.stats().keysWritten;
    const dry = await v3.admin.migrate(WalletV3, { dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, version: 3, migrated: ['a', 'c', 'd'], current: 0, failed: [{ id: 'b', error: { code: 'migration_failed' } }], next: undefined });
    expect(v3.backend.stats().keysWritten).toBe(before);
    expect(await storedVersion(v3, 'a')).toBe(1);
    const pages = [];
    let after: string | undefined;
    do {
      const page = await v3.admin.migrate(WalletV3, { limit: 2, ...(after === undefined ? {} : { after }) });
      pages.push(page);
      after = page.next;
    } while (after !== undefined);
    expect(pages.map((p) => p.migrated)).toEqual([['a'], ['c', 'd'], []]);
    expect(pages.flatMap((p) => p.failed.map((f) => f.id))).toEqual(['b']);
    expect(await v3.admin.state('wallet', 'c')).toEqual({ balance: { amount: 3, currency: 'EUR' }, owner: 'nobody', log: ['v1 deposit 3'], audited: true });
    expect(await storedVersion(v3, 'c')).toBe(3);
    expect(await v3.admin.migrate(WalletV3)).toMatchObject({ migrated: [], current: 3, failed: [{ id: 'b' }] });
  });

  it('a consumer holding the old state in its cache migrates it after an eager migration elsewhere', async () => {
    const v2 = await system();
    v2.serve(WalletV2);
    const ref = v2.ref(WalletV2, 'cached');
    await ref.dispatch.deposit({ amount: 1, currency: 'EUR' });
    expect(await ref.call.read()).toEqual({ amount: 1, currency: 'EUR' });
    const ops = await system(true);
    expect(await ops.admin.migrate(WalletV3)).toMatchObject({ migrated: ['cached'] });
    const event = outdated(v2);
    await ref.dispatch.deposit({ amount: 1, currency: 'EUR' });
    expect(await event).toMatchObject({ id: 'cached', version: 2, stored: 3 });
    expect(await ops.admin.state('wallet', 'cached')).toMatchObject({ balance: { amount: 1 }, audited: true });
  });

  it("a thunk locked by version 1 is run and released by version 2, its recipe applied to the migrated state", async () => {
    const v1 = await system();
    v1.serve(JobsV1);
    await v1.ref(JobsV1, 'j').dispatch.start();
    await expect.poll(() => v1.admin.lock('jobs', 'j')).toMatchObject({ thunk: 'work' });
    await v1.close(); // the thunk is abandoned with its lock
    const v2 = await system(true);
    v2.serve(JobsV2);
    await expect.poll(() => v2.admin.lock('jobs', 'j')).toBeUndefined();
    expect(await v2.admin.state('jobs', 'j')).toEqual({ started: 1, done: ['work'] });
    expect(await storedVersion(v2, 'j', 'jobs')).toBe(2);
  });

  it('an older host never runs the thunk of a lock a newer version took', async () => {
    const v2 = await system();
    v2.serve(JobsV2Stuck);
    await v2.ref(JobsV2Stuck, 'k').dispatch.start();
    await expect.poll(() => v2.admin.lock('jobs', 'k')).toMatchObject({ thunk: 'work' });
    await v2.close();
    const v1 = await system(true);
    const event = outdated(v1);
    v1.serve(JobsV1);
    expect(await event).toMatchObject({ id: 'k', version: 1, stored: 2 });
    expect(await v1.admin.lock('jobs', 'k')).toMatchObject({ attempt: 1 }); // not claimed again
    const v2b = await system(true);
    v2b.serve(JobsV2);
    await expect.poll(() => v2b.admin.lock('jobs', 'k')).toBeUndefined();
    expect(await v2b.admin.state('jobs', 'k')).toEqual({ started: 1, done: ['work'] });
  });
});
