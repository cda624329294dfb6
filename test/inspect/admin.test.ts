/** What `system.admin` reads for the inspector: pages, prefixes, state nodes, commits, past states, versions, checked dispatch. */
import { firstValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSystem, defineActor, memory, type System } from '../../src/index.js';
import { HISTORY_KEEP } from '../../src/serve/consumer.js';
import { Flaky } from './actors.js';

let system: System;
beforeAll(async () => {
  system = await createSystem({ backend: memory() });
  system.serve(Flaky);
  for (const id of ['a1', 'a2', 'a3', 'b1', 'b2']) await system.ref(Flaky, id).call.bump();
});
afterAll(() => system.close());

describe('admin reads for the inspector', () => {
  it('pages instances and searches them by id prefix', async () => {
    expect(await system.admin.instances(Flaky, { limit: 2 })).toEqual(['a1', 'a2']);
    expect(await system.admin.instances(Flaky, { limit: 2, after: 'a2' })).toEqual(['a3', 'b1']);
    expect(await system.admin.instances(Flaky, { prefix: 'b' })).toEqual(['b1', 'b2']);
    expect(await system.admin.instances(Flaky, { prefix: 'a', after: 'a1' })).toEqual(['a2', 'a3']);
    expect(await system.admin.instances(Flaky, { prefix: 'c' })).toEqual([]);
  });

  it('overviews definitions, counting queues and dead letters of the first instances only when asked', async () => {
    await system.ref(Flaky, 'a1').call.apply(1).catch(() => undefined);
    const [all] = await system.admin.overview();
    expect(all).toEqual({ name: 'flaky', instances: 5, queued: 0, deadLetters: 1, counted: 5 });
    const [capped] = await system.admin.overview({ countUpTo: 1 });
    expect(capped).toEqual({ name: 'flaky', instances: 5, queued: 0, deadLetters: 1, counted: 1 });
    const [skipped] = await system.admin.overview({ countUpTo: 2 });
    expect(skipped!.counted).toBe(2);
    await system.admin.deleteDeadLetter(Flaky, 'a1', (await system.admin.deadLetters(Flaky, 'a1'))[0]!.position);
  });

  it('pages dead letters and queued messages by position', async () => {
    for (const n of [1, 2, 3]) await system.ref(Flaky, 'dl').call.apply(n).catch(() => undefined);
    const all = await system.admin.deadLetters(Flaky, 'dl');
    expect(all.map((l) => (l.message as { payload: number }).payload)).toEqual([1, 2, 3]);
    const second = await system.admin.deadLetters(Flaky, 'dl', { after: all[0]!.position, limit: 1 });
    expect(second.map((l) => l.position)).toEqual([all[1]!.position]);
  });

  it('reads the recent commits with their patches, newest first', async () => {
    await system.ref(Flaky, 'c').call.bump();
    await system.ref(Flaky, 'c').call.put('x');
    const commits = await system.admin.commits(Flaky, 'c');
    expect(commits.map((c) => c.version)).toEqual([2, 1]);
    expect(commits[0]!.patches).toEqual([{ op: 'add', path: ['items', 'x'], value: { n: 0 } }]);
    expect(await system.admin.commits(Flaky, 'c', { before: 2 })).toEqual([commits[1]]);
  });

  it('rebuilds the state as of a kept version, and says when the history no longer reaches it', async () => {
    expect(await system.admin.stateAt(Flaky, 'c', 1)).toEqual({ total: 1, enabled: false, items: {} });
    expect(await system.admin.stateAt('flaky', 'c', 0)).toEqual({ total: 0, enabled: false, items: {} });
    const ref = system.ref(Flaky, 'long');
    for (let i = 0; i < HISTORY_KEEP + 2; i++) await ref.call.bump();
    await expect(system.admin.stateAt(Flaky, 'long', 1)).rejects.toMatchObject({ code: 'history_unavailable' });
    expect(await system.admin.stateAt(Flaky, 'long', HISTORY_KEEP + 2)).toMatchObject({ total: HISTORY_KEEP + 2 });
  }, 60_000);

  it('needs the definition to rebuild a state or to check a dispatch', async () => {
    const other = await createSystem({ backend: system.backend, closeBackend: false });
    try {
      await expect(other.admin.stateAt('flaky', 'c', 1)).rejects.toMatchObject({ code: 'unknown_definition' });
      await expect(other.admin.dispatch('flaky', 'c', 'bump')).rejects.toMatchObject({ code: 'unknown_definition' });
      expect(other.admin.actions('flaky')).toBeUndefined();
      expect(other.admin.actions(Flaky)).toEqual(['apply', 'enable', 'bump', 'put']);
      await expect(other.admin.dispatch(Flaky, 'c', 'nope')).rejects.toMatchObject({ code: 'unknown_action' });
    } finally {
      await other.close();
    }
  });

  it('shows which consumer holds an instance\'s lease', async () => {
    expect(await system.admin.lease(Flaky, 'a1')).toEqual({ owner: expect.any(String), expires: expect.any(Number) });
    expect(await system.admin.lease(Flaky, 'never')).toBeUndefined();
  });

  it('emits the version now and after each commit', async () => {
    // Until the version the call's commit wrote: two commits may be seen as one emission (a watch
    // fires once for both), and the dispatch and the call may share one batch.
    const versions: number[] = [];
    const subscription = system.admin.version$(Flaky, 'v').subscribe((v) => versions.push(v));
    await new Promise((r) => setTimeout(r, 50));
    await system.admin.dispatch(Flaky, 'v', 'bump');
    await system.ref(Flaky, 'v').call.bump();
    const final = await firstValueFrom(system.admin.version$(Flaky, 'v')); // a new subscription emits the current version first
    for (let waited = 0; versions.at(-1) !== final && waited < 5_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    subscription.unsubscribe();
    expect(versions[0]).toBe(0);
    expect(final).toBeGreaterThanOrEqual(1);
    expect(versions.at(-1)).toBe(final);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
  });

  it('reads a state a node at a time', async () => {
    const Big = defineActor({ name: 'big', initialState: () => ({ rows: {} as Record<string, number> }), reducers: { fill(s, n: number) { for (let i = 0; i < n; i++) s.rows[`r${String(i).padStart(4, '0')}`] = i; } } });
    system.serve(Big);
    await system.ref(Big, 'x').call.fill(1_000);
    const root = (await system.admin.stateNode(Big, 'x'))!;
    expect(root.children).toEqual([{ label: 'rows', address: expect.any(String), kind: 'object' }]);
    const page = (await system.admin.stateNode(Big, 'x', root.children[0]!.address, { limit: 10 }))!;
    expect(page.children.map((c) => c.value)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const next = (await system.admin.stateNode(Big, 'x', root.children[0]!.address, { limit: 10, after: page.next! }))!;
    expect(next.children[0]).toMatchObject({ label: 'r0010', value: 10 });
  });
});
