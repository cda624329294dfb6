/**
 * FoundationDB's limits, handled alike on every engine: a batch whose writes cannot fit one
 * transaction is split before any message is declared poison; a message that cannot fit alone
 * follows its actor's failure policy with an error naming the actor, the message and the limit;
 * the caller hears of it; nothing waits forever. On a real FoundationDB server, 20,000 calls
 * waiting at once in one process stay under its 10,000 watches a client (too_many_watches).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createSystem, defineActor, memory, type System } from '../../src/index.js';
import { actorEngines } from '../support/actor-engines.js';

const Blobs = defineActor({
  name: 'blobs',
  initialState: () => ({ sizes: {} as Record<string, number>, blobs: {} as Record<string, string> }),
  reducers: {
    /** Stores `mb` MB under `name`: a few of these in one batch are over 10 MB. */
    put(state, { name, mb }: { name: string; mb: number }, ctx) {
      state.blobs[name] = 'x'.repeat(mb * 1_000_000);
      state.sizes[name] = mb;
      return ctx.reply(Object.keys(state.sizes).length);
    },
  },
});

const Strict = defineActor({ ...Blobs, name: 'blobs-strict', options: { failurePolicy: 'halt' } });

let systems: System[] = [];
afterEach(async () => {
  for (const s of systems) await s.close();
  systems = [];
});

async function pair(def: typeof Blobs) {
  const backend = memory();
  const consumer = await createSystem({ backend, closeBackend: false });
  const producer = await createSystem({ backend });
  systems.push(producer, consumer);
  consumer.serve(def);
  return { consumer, producer, ref: producer.ref(def, 'a') };
}

describe('a batch over 10 MB', () => {
  it('is split: every message of 3 MB is processed, none is poison', async () => {
    const { consumer, ref } = await pair(Blobs);
    const calls = ['a', 'b', 'c', 'd', 'e', 'f'].map((name) => ref.call.put({ name, mb: 3 }));
    expect((await Promise.all(calls)).sort()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await consumer.admin.deadLetters(Blobs, 'a')).toEqual([]);
  });
});

describe('a message that cannot fit one transaction alone', () => {
  it('goes to the dead letters; its caller hears transaction_too_large naming the actor and the message; the next message is processed', async () => {
    const { consumer, ref } = await pair(Blobs);
    const failed = ref.call.put({ name: 'huge', mb: 11 });
    const next = ref.call.put({ name: 'small', mb: 1 });
    const error = await failed.then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'transaction_too_large', message: expect.stringMatching(/Actor 'blobs' id 'a', message [0-9a-f]{32} \(put\)/) });
    expect(await next).toBe(1);
    const letters = await consumer.admin.deadLetters(Blobs, 'a');
    expect(letters.map((l) => l.error.code)).toEqual(['transaction_too_large']);
  });

  it('halts its actor under policy halt: the caller hears the error, the message stays at the head', async () => {
    const { consumer, ref } = await pair(Strict);
    await expect(ref.call.put({ name: 'huge', mb: 11 })).rejects.toMatchObject({ code: 'transaction_too_large', message: expect.stringContaining("Actor 'blobs-strict' id 'a'") });
    expect(await consumer.admin.halted(Strict, 'a')).toMatchObject({ error: { code: 'transaction_too_large' } });
    expect(await consumer.admin.queue(Strict, 'a')).toHaveLength(1);
    expect(await consumer.admin.deadLetters(Strict, 'a')).toEqual([]);
  });

  it('processed inline by a call from the serving process, is enqueued and dead-lettered alike', async () => {
    const backend = memory();
    const s = await createSystem({ backend });
    systems.push(s);
    s.serve(Blobs);
    await expect(s.ref(Blobs, 'i').call.put({ name: 'huge', mb: 11 })).rejects.toMatchObject({ code: 'transaction_too_large', message: expect.stringContaining("Actor 'blobs' id 'i'") });
    expect(await s.admin.deadLetters(Blobs, 'i')).toHaveLength(1);
  });
});

const Counter = defineActor({
  name: 'many-calls',
  initialState: () => ({ n: 0 }),
  reducers: {
    add(state, by: number, ctx) {
      state.n += by;
      return ctx.reply(state.n);
    },
  },
});

const CALLS = 20_000;
const ACTORS = 200;

describe.each(actorEngines().filter((e) => e.name === 'foundationdb'))('$name: FoundationDB watches', ({ open, skip }) => {
  if (skip !== undefined) {
    it.skip(`skipped: ${skip}`, () => {});
    return;
  }
  it(`${CALLS.toLocaleString('en-US')} calls waiting at once in one process, answered from another system (over the 10,000 watches a client may hold)`, async () => {
    const backend = await open();
    const consumer = await createSystem({ backend, closeBackend: false });
    const producer = await createSystem({ backend, closeBackend: false });
    try {
      consumer.serve(Counter);
      const calls = Array.from({ length: CALLS }, (_, i) => producer.ref(Counter, `c${i % ACTORS}`).call.add(1, { timeout: 120_000 }));
      const replies = await Promise.all(calls);
      // every actor counted each of its calls exactly once: its replies are 1 … CALLS / ACTORS
      expect(new Set(replies).size).toBe(CALLS / ACTORS);
      expect(Math.max(...replies)).toBe(CALLS / ACTORS);
    } finally {
      await producer.close();
      await consumer.close();
      await backend.close();
    }
  }, 180_000);
});
