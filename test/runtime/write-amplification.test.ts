import { describe, expect, it } from 'vitest';
import { createSystem, defineActor, memory } from '../../src/index.js';

const Dict = defineActor({
  name: 'dict',
  initialState: () => ({ entries: {} as Record<string, { value: number }> }),
  reducers: {
    fill(state, range: { from: number; to: number }) {
      for (let i = range.from; i < range.to; i++) state.entries[`k${i}`] = { value: i };
    },
    bump(state, key: string) {
      state.entries[key]!.value += 1;
    },
  },
  // a lease renewal (past half the lease's life) between the warm-up and the measured call would add a key
  options: { leaseMs: 600_000 },
});

describe('write amplification', () => {
  it('a one-field change writes the same keys and bytes at 10, 1,000 and 100,000 entries', async () => {
    const written: Array<{ keys: number; bytes: number }> = [];
    for (const size of [10, 1_000, 100_000]) {
      const backend = memory();
      const system = await createSystem({ backend });
      system.serve(Dict);
      const ref = system.ref(Dict, 'd');
      // in messages of at most 10,000 entries: 100,000 in one would not fit one FoundationDB transaction
      for (let from = 0; from < size; from += 10_000) await ref.call.fill({ from, to: Math.min(size, from + 10_000) });
      await ref.call.bump('k5'); // warm: the consumer's cache is current
      const before = backend.stats();
      await ref.call.bump('k7');
      const after = backend.stats();
      written.push({ keys: after.keysWritten - before.keysWritten, bytes: after.bytesWritten - before.bytesWritten });
      console.log(`1-field change at ${size} entries: ${written.at(-1)!.keys} keys, ${written.at(-1)!.bytes} bytes written`);
      expect(await ref.query((s) => s.entries['k7']!.value)).toBe(8);
      await system.close();
    }
    expect(written[1]).toEqual(written[0]);
    expect(written[2]).toEqual(written[0]);
    // enqueue (message, marker, work flag, notify) + batch (one state key, version, history, message removal)
    expect(written[0]!.keys).toBeLessThanOrEqual(10);
  });
});
