/**
 * The change feed and durable listeners, on every engine (memory, LMDB, FoundationDB simulated and real): order, resumption, state, retention,
 * exactly-once sends with the checkpoint, one active listener, failures.
 */
import { firstValueFrom, take, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { writeChange } from '../../src/changes/entry.js';
import { feedKeys } from '../../src/changes/keys.js';
import { pruneFeed, prunePass } from '../../src/changes/prune.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { defineActor, type Change, type System, type SystemEvent } from '../../src/index.js';
import { actorEngines, systemsOn } from '../support/actor-engines.js';
import { Board, Plain, Player } from './fixtures.js';

const engines = actorEngines();

async function until(check: () => Promise<boolean> | boolean): Promise<void> {
  for (let i = 0; i < 2_000 && !(await check()); i++) await new Promise((r) => setTimeout(r, 5));
  expect(await check()).toBe(true);
}

function collect<S>(s: System, n: number, options?: Parameters<System['changes']>[1]): Promise<Change<S>[]> {
  return firstValueFrom(s.changes(Player, options).pipe(take(n), toArray())) as Promise<Change<S>[]>;
}

describe.each(engines)('change feed on $name', (engine) => {
  if (engine.skip !== undefined) {
    it.skip(`skipped: ${engine.skip}`, () => {});
    return;
  }
  const system = systemsOn(engine);

  it('delivers one change per batch of every instance, in commit order, with the messages applied', async () => {
    const s = await system();
    s.serve(Player);
    await s.ref(Player, 'a').call.score(1);
    await s.ref(Player, 'b').dispatch.score(2);
    await s.ref(Player, 'a').dispatch.rename('ann');
    const changes = await collect(s, 3, { from: 'start' });
    expect(changes.map((c) => [c.id, c.version, c.messages.map((m) => m.action)])).toEqual(
      expect.arrayContaining([['a', 1, ['score']], ['b', 1, ['score']], ['a', 2, ['rename']]]),
    );
    expect([...changes.map((c) => c.cursor)].sort()).toEqual(changes.map((c) => c.cursor)); // commit order
    expect(changes.findIndex((c) => c.id === 'a' && c.version === 1)).toBeLessThan(changes.findIndex((c) => c.id === 'a' && c.version === 2));
    expect(changes.find((c) => c.version === 2)!.patches).toEqual([{ op: 'replace', path: ['name'], value: 'ann' }]);
  });

  it('resumes after a cursor: everything after it, nothing twice, in a new system on the same store', async () => {
    const s = await system();
    s.serve(Player);
    for (let i = 1; i <= 6; i++) await s.ref(Player, `p${i % 3}`).call.score(i);
    const all = await collect(s, 6, { from: 'start' });
    const other = await system(true);
    const rest = await firstValueFrom(other.changes(Player, { from: all[2]!.cursor }).pipe(take(3), toArray()));
    expect(rest.map((c) => c.cursor)).toEqual(all.slice(3).map((c) => c.cursor));
  });

  it("wakes a reader in another system on commit ('now': only changes after subscribing)", async () => {
    const s = await system();
    s.serve(Player);
    await s.ref(Player, 'old').dispatch.score(1);
    await until(async () => (await s.ref(Player, 'old').query((x) => x.score)) === 1);
    const [last] = await collect(s, 1, { from: 'start' });
    const reader = await system(true);
    const fromNow = firstValueFrom(reader.changes(Player).pipe(take(1)));
    const fromCursor = firstValueFrom(reader.changes(Player, { from: last!.cursor }).pipe(take(1)));
    let got = false;
    void fromNow.then(() => (got = true));
    // 'now' starts at whatever the reader's first read sees: send until it has something
    for (let i = 0; !got && i < 500; i++) {
      await s.ref(Player, 'new').dispatch.score(1);
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(await fromNow).toMatchObject({ id: 'new', messages: [{ action: 'score' }] }); // never the change before it
    expect(await fromCursor).toMatchObject({ id: 'new', version: 1 });
  });

  it('includeState gives the state after each change, replayed or reloaded when the patches were too large', async () => {
    const s = await system();
    s.serve(Player);
    const a = s.ref(Player, 'a');
    await a.dispatch.score(1);
    await a.dispatch.big(95_000); // over an entry's size: the feed keeps no patches
    await a.dispatch.score(2);
    await until(async () => (await a.query((x) => x.score)) === 3);
    const changes = await firstValueFrom(s.changes(Player, { from: 'start', includeState: true }).pipe(take(3), toArray()));
    const big = changes.find((c) => c.patches === null)!;
    expect(big).toBeDefined();
    expect(changes.at(-1)).toMatchObject({ version: changes.at(-1)!.stateVersion, state: { score: 3 } });
    expect(big.state.name.length).toBe(95_000);
  });

  it('fails with cursor_expired for a cursor older than retention, and prunes by count', async () => {
    const Short = defineActor({ name: 'short', changes: { retention: { count: 2 } }, initialState: { n: 0 }, reducers: { inc(s) { s.n += 1; } } });
    const s = await system();
    s.serve(Short);
    for (let i = 0; i < 5; i++) await s.ref(Short, 'x').call.inc();
    await until(async () => (await s.ref(Short, 'x').query((x) => x.n)) === 5);
    const before = await firstValueFrom(s.changes(Short, { from: 'start' }).pipe(take(5), toArray()));
    expect(await pruneFeed(new Runtime(s.backend, undefined), 'short', Short.changes!)).toBe(3);
    const kept = await firstValueFrom(s.changes(Short, { from: 'start' }).pipe(take(2), toArray()));
    expect(kept.map((c) => c.version)).toEqual([4, 5]);
    await expect(firstValueFrom(s.changes(Short, { from: before[0]!.cursor }))).rejects.toMatchObject({ code: 'cursor_expired' });
    expect(await firstValueFrom(s.changes(Short, { from: before[2]!.cursor }))).toMatchObject({ version: 4 }); // the last pruned is still a valid resume point
  });

  it('prunes by age: entries older than retention.ms go, newer ones stay', async () => {
    const Aging = defineActor({ name: 'aging', changes: { retention: { ms: 60_000 } }, initialState: { n: 0 }, reducers: { inc(s) { s.n += 1; } } });
    const s = await system();
    s.serve(Aging);
    for (let i = 0; i < 3; i++) await s.ref(Aging, 'x').call.inc();
    const keys = feedKeys(new Runtime(s.backend, undefined).layout, 'aging');
    expect(await s.backend.transact((tx) => prunePass(tx, keys, Aging.changes!.retention, Date.now() + 30_000))).toBe(0);
    expect(await s.backend.transact((tx) => prunePass(tx, keys, Aging.changes!.retention, Date.now() + 61_000))).toBe(3);
    await s.ref(Aging, 'x').call.inc();
    expect(await firstValueFrom(s.changes(Aging, { from: 'start' }))).toMatchObject({ version: 4 });
  });

  it('orders two entries written in one transaction (several instances processed inline together) by their order in it', async () => {
    const s = await system();
    const layout = new Runtime(s.backend, undefined).layout;
    await s.backend.transact((tx) => {
      writeChange(tx, layout, Player, 'first', 1, [], [{ envelope: { id: 'm1', action: 'score' } }], 16_384);
      writeChange(tx, layout, Player, 'second', 1, [], [{ envelope: { id: 'm2', action: 'score' } }], 16_384);
    });
    const changes = await firstValueFrom(s.changes(Player, { from: 'start' }).pipe(take(2), toArray()));
    expect(changes.map((c) => c.id)).toEqual(['first', 'second']);
    expect(changes[0]!.cursor.slice(0, 20)).toBe(changes[1]!.cursor.slice(0, 20)); // one commit's stamp
    expect(await firstValueFrom(s.changes(Player, { from: changes[0]!.cursor }))).toMatchObject({ id: 'second' });
  });

  it('writes nothing for a definition without a feed, and refuses to follow one', async () => {
    const s = await system();
    s.serve(Plain);
    await s.ref(Plain, 'a').call.inc();
    await s.ref(Plain, 'a').call.inc();
    const feeds = new Runtime(s.backend, undefined).layout.root.at('f');
    expect(await s.backend.transact((tx) => tx.getRange(feeds.range().begin, feeds.range().end))).toEqual([]);
    expect(() => s.changes(Plain)).toThrow(expect.objectContaining({ code: 'changes_not_enabled' }));
  });
});

describe.each(engines)('durable listeners on $name', (engine) => {
  if (engine.skip !== undefined) {
    it.skip(`skipped: ${engine.skip}`, () => {});
    return;
  }
  const system = systemsOn(engine);

  it('keeps an aggregate exactly once from many sources, resuming from its checkpoint after a stop', async () => {
    const s = await system();
    s.serve(Player);
    s.serve(Board);
    const handler = (c: Change<{ score: number }, string>, tx: Parameters<Parameters<System['listen']>[0]['handler']>[1]) => {
      tx.send(Board, 'all').add({ player: c.id, points: c.messages.filter((m) => m.action === 'score').length });
    };
    const first = s.listen({ name: 'board', on: Player, actions: ['score'], handler, batchSize: 3 });
    for (let i = 0; i < 10; i++) await s.ref(Player, `p${i % 4}`).dispatch.score(1);
    const total = async () => Object.values(await s.ref(Board, 'all').query((b) => b.totals)).reduce((a, b) => a + b, 0);
    await until(async () => (await total()) === 10);
    await first.stop();
    for (let i = 0; i < 5; i++) await s.ref(Player, `p${i % 4}`).dispatch.score(1);
    await s.ref(Player, 'p0').dispatch.rename('not a score'); // filtered out by actions
    const other = await system(true);
    other.serve(Board);
    other.listen({ name: 'board', on: Player, actions: ['score'], handler });
    await until(async () => (await total()) === 15);
    await new Promise((r) => setTimeout(r, 100));
    const board = await s.ref(Board, 'all').query((b) => b);
    expect(board.totals).toEqual({ p0: 5, p1: 4, p2: 3, p3: 3 }); // one per score message, each once
    const feed = await firstValueFrom(s.changes(Player, { from: 'start' }).pipe(take(16), toArray()));
    expect(board.applied).toBe(feed.filter((c) => c.messages.some((m) => m.action === 'score')).length); // one send per change with a score
  });

  it('runs one listener of a name at a time across systems, in feed order', async () => {
    const s = await system();
    const t = await system(true);
    s.serve(Player);
    const seen: string[] = [];
    const handler = (c: Change) => void seen.push(c.cursor);
    s.listen({ name: 'order', on: Player, handler, leaseMs: 60_000 });
    t.listen({ name: 'order', on: Player, handler, leaseMs: 60_000 });
    for (let i = 0; i < 8; i++) await s.ref(Player, `q${i % 3}`).dispatch.score(i);
    await until(() => seen.length >= 8);
    await new Promise((r) => setTimeout(r, 100));
    expect(seen.length).toBe(8);
    expect([...seen].sort()).toEqual(seen);
  });

  it('halts with cursor_expired when retention pruned past its checkpoint; resumed, it goes on from the oldest change kept', async () => {
    const Brief = defineActor({ name: 'brief', changes: { retention: { count: 1 } }, initialState: { n: 0 }, reducers: { inc(s) { s.n += 1; } } });
    const s = await system();
    s.serve(Brief);
    const events: SystemEvent[] = [];
    s.events$.subscribe((e) => events.push(e));
    const handled: number[] = [];
    const handler = (c: Change) => void handled.push(c.version);
    const first = s.listen({ name: 'brief', on: Brief, handler });
    await s.ref(Brief, 'x').call.inc();
    await until(() => handled.length === 1);
    await first.stop();
    for (let i = 0; i < 3; i++) await s.ref(Brief, 'x').call.inc();
    await until(async () => (await s.ref(Brief, 'x').query((x) => x.n)) === 4);
    expect(await pruneFeed(new Runtime(s.backend, undefined), 'brief', Brief.changes!)).toBe(3);
    s.listen({ name: 'brief', on: Brief, handler });
    await until(() => events.some((e) => e.type === 'listener-halted'));
    expect((await s.admin.listeners())[0]).toMatchObject({ name: 'brief', halted: { error: { code: 'cursor_expired' } } });
    expect(await s.admin.resumeListener('brief')).toBe(true);
    await until(() => handled.length === 2);
    await until(async () => (await s.admin.listeners())[0]!.lag.changes === 0); // its checkpoint commits after the handler
    expect(handled).toEqual([1, 4]);
    expect((await s.admin.listeners())[0]).toMatchObject({ halted: undefined });
  });

  it('retries a failing handler, then halts at the change and says so; dead-letter goes on', async () => {
    const s = await system();
    s.serve(Player);
    const events: SystemEvent[] = [];
    s.events$.subscribe((e) => events.push(e));
    let calls = 0;
    s.listen({ name: 'stuck', on: Player, attempts: 2, retryMs: 1, handler: () => { calls++; throw new Error('no'); } });
    const handled: number[] = [];
    s.listen({ name: 'skips', on: Player, attempts: 2, retryMs: 1, onFailure: 'dead-letter', handler: (c) => { if (c.version === 1) throw new Error('first'); handled.push(c.version); } });
    await s.ref(Player, 'a').dispatch.score(1);
    await s.ref(Player, 'a').dispatch.score(1);
    await until(() => events.some((e) => e.type === 'listener-halted') && handled.includes(2));
    expect(calls).toBe(2);
    expect(events.filter((e) => e.type === 'listener-failed' && e.listener === 'stuck').map((e) => (e as { willRetry: boolean }).willRetry)).toEqual([true, false]);
    expect(events).toContainEqual(expect.objectContaining({ type: 'listener-dead-lettered', listener: 'skips' }));
    expect(handled).toEqual([2]);
    const stuck = (await s.admin.listeners()).find((l) => l.name === 'stuck')!;
    expect(stuck).toMatchObject({ on: 'player', cursor: undefined, lag: { changes: 2 }, halted: { error: { message: 'no', code: 'listener_failed' } } });
    expect(await s.admin.listenerDeadLetters('skips')).toEqual([expect.objectContaining({ id: 'a', version: 1, error: expect.objectContaining({ message: 'first' }) })]);
    expect(await s.admin.resumeListener('stuck', { skip: true })).toBe(true);
    await until(async () => (await s.admin.listeners()).find((l) => l.name === 'stuck')?.halted?.cursor !== stuck.halted!.cursor && calls === 4);
    expect((await s.admin.listeners()).find((l) => l.name === 'stuck')).toMatchObject({ cursor: stuck.halted!.cursor, lag: { changes: 1 } });
  });
});

describe('dgen listeners', () => {
  it('lists listeners with their lag, and resumes a halted one', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { createSystem, lmdb } = await import('../../src/index.js');
    const { runCli } = await import('../support/cli.js');
    const dir = mkdtempSync(join(tmpdir(), 'dgen-listeners-'));
    try {
      const s = await createSystem({ backend: lmdb({ path: dir }) });
      s.serve(Player);
      const halted = new Promise<void>((resolve) => s.events$.subscribe((e) => e.type === 'listener-halted' && resolve()));
      s.listen({ name: 'cli', on: Player, attempts: 1, handler: () => { throw new Error('down'); } });
      await s.ref(Player, 'a').dispatch.score(1);
      await halted;
      await s.close();
      const listed = await runCli(['listeners', '--path', dir]);
      expect(listed.code).toBe(0);
      expect(JSON.parse(listed.out)).toEqual([expect.objectContaining({ name: 'cli', on: 'player', lag: { changes: 1, ms: expect.any(Number) }, halted: expect.objectContaining({ error: expect.objectContaining({ message: 'down' }) }) })]);
      expect(JSON.parse((await runCli(['resume-listener', 'cli', '--path', dir])).out)).toBe(true);
      expect(JSON.parse((await runCli(['listeners', '--path', dir])).out)[0].halted).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
