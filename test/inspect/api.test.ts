/**
 * The inspector's HTTP API, action by action, each checked in the store afterwards: pages of
 * instances and state nodes by cursor, delete a queued message, delete a dead letter, resume a
 * halted instance, cancel a timer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSystem, defineActor, memory, type System } from '../../src/index.js';
import type { Inspector } from '../../src/inspect/server.js';
import { Flaky } from './actors.js';

/** Waits for what the page or a consumer does: generous, for a loaded CI machine (a passing poll returns at once). */
const POLL = { timeout: 15_000, interval: 50 };

const Strict = defineActor({
  name: 'strict',
  initialState: () => ({ ok: 0 }),
  reducers: {
    ok(state) {
      state.ok += 1;
    },
    refuse() {
      throw new Error('refused');
    },
    later(_state, _: void, ctx) {
      ctx.schedule({ delay: 3_600_000, key: 'reminder' }).ok();
    },
  },
  options: { failurePolicy: 'halt' },
});

let system: System;
let inspector: Inspector;
let base: string;
const get = async (path: string) => (await fetch(`${base}${path}`, { headers: { 'x-dgen-token': inspector.token } })).json() as Promise<Record<string, unknown>>;
const post = async (path: string, body: unknown = {}) => {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'x-dgen-token': inspector.token }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

beforeAll(async () => {
  system = await createSystem({ backend: memory() });
  system.serve(Flaky);
  for (let i = 0; i < 12; i++) await system.ref(Flaky, `i${String(i).padStart(2, '0')}`).call.bump();
  for (let i = 0; i < 30; i++) await system.ref(Flaky, 'wide').call.put(`k${String(i).padStart(2, '0')}`);
  inspector = await system.inspector();
  base = inspector.url.replace(/\/\?token=.*$/, '');
});
afterAll(async () => {
  await inspector.close();
  await system.close();
});

describe("the inspector's API", () => {
  it('pages instances by cursor until the last page', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const page = (await get(`/api/actors/flaky/instances?limit=5${after === null ? '' : `&after=${after}`}`)) as { ids: string[]; next: string | null };
      expect(page.ids.length).toBeLessThanOrEqual(5);
      seen.push(...page.ids);
      after = page.next;
    } while (after !== null);
    expect(seen).toEqual([...Array.from({ length: 12 }, (_, i) => `i${String(i).padStart(2, '0')}`), 'wide']);
  });

  it('pages the children of a state node', async () => {
    const root = (await get('/api/actors/flaky/instances/wide/state')) as { children: Array<{ label: string; address: string }> };
    const items = root.children.find((c) => c.label === 'items')!;
    const first = (await get(`/api/actors/flaky/instances/wide/state?node=${items.address}&limit=20`)) as { children: Array<{ label: string }>; next: string };
    const second = (await get(`/api/actors/flaky/instances/wide/state?node=${items.address}&limit=20&after=${first.next}`)) as { children: Array<{ label: string }>; next?: string };
    expect([...first.children, ...second.children].map((c) => c.label)).toEqual(Array.from({ length: 30 }, (_, i) => `k${String(i).padStart(2, '0')}`));
    expect(second.next).toBeUndefined();
  });

  it('deletes a queued message and a dead letter, once each', async () => {
    const ref = system.ref(Flaky, 'dl');
    await ref.call.apply(1).catch(() => undefined);
    const { entries } = (await get('/api/actors/flaky/instances/dl/dead-letters')) as { entries: Array<{ position: string }> };
    expect(await post(`/api/actors/flaky/instances/dl/dead-letters/${entries[0]!.position}/delete`)).toEqual({ status: 200, body: { done: true } });
    expect(await system.admin.deadLetters(Flaky, 'dl')).toEqual([]);
    expect(await post(`/api/actors/flaky/instances/dl/dead-letters/${entries[0]!.position}/delete`)).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });

    await system.ref(Strict, 'q').dispatch.ok(); // nobody serves strict yet: it stays queued
    const queue = (await get('/api/actors/strict/instances/q/queue')) as { entries: Array<{ position: string; message: { action: string } }> };
    expect(queue.entries.map((e) => e.message.action)).toEqual(['ok']);
    expect(await post(`/api/actors/strict/instances/q/queue/${queue.entries[0]!.position}/delete`)).toEqual({ status: 200, body: { done: true } });
    expect(await system.admin.queue(Strict, 'q')).toEqual([]);
  });

  it('resumes a halted instance after its head message is deleted', async () => {
    const serving = system.serve(Strict);
    try {
      const ref = system.ref(Strict, 'h');
      await ref.call.refuse().catch(() => undefined);
      await ref.dispatch.ok();
      const overview = (await get('/api/actors/strict/instances/h')) as { halted: { error: { message: string } } | null };
      expect(overview.halted).toMatchObject({ error: { message: 'refused' } });
      const { entries } = (await get('/api/actors/strict/instances/h/queue')) as { entries: Array<{ position: string; message: { action: string } }> };
      expect(entries.map((e) => e.message.action)).toEqual(['refuse', 'ok']);
      await post(`/api/actors/strict/instances/h/queue/${entries[0]!.position}/delete`);
      expect(await post('/api/actors/strict/instances/h/resume')).toEqual({ status: 200, body: { done: true } });
      await expect.poll(() => system.admin.state(Strict, 'h'), POLL).toEqual({ ok: 1 });
      expect(await system.admin.halted(Strict, 'h')).toBeUndefined();
    } finally {
      await serving.stop();
    }
  });

  it('lists and cancels a timer', async () => {
    const serving = system.serve(Strict);
    try {
      await system.ref(Strict, 't').call.later();
      const overview = (await get('/api/actors/strict/instances/t')) as { timers: Array<{ key: string; action: string }> };
      expect(overview.timers).toMatchObject([{ key: 'reminder', action: 'ok' }]);
      expect(await post('/api/actors/strict/instances/t/timers/cancel', { key: 'reminder' })).toEqual({ status: 200, body: { done: true } });
      expect(await system.admin.timers(Strict, 't')).toEqual([]);
    } finally {
      await serving.stop();
    }
  });
});
