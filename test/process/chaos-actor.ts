import { defineActor } from '../../src/index.js';

/**
 * The counter of the chaos process test: increments, and a call that answers the count at its
 * position in the queue. Each increment also counts under its chunk (`p<producer>c<id / 100>`),
 * so a count that comes out short says which producer's increments went missing. A short lease,
 * so a standby takes over soon after the active consumer is killed.
 */
export const ChaosCounter = defineActor({
  name: 'chaos-counter',
  initialState: () => ({ count: 0, chunks: {} as Record<string, number> }),
  reducers: {
    increment(state, chunk: string | undefined) {
      state.count += 1;
      if (chunk !== undefined) state.chunks[chunk] = (state.chunks[chunk] ?? 0) + 1;
    },
    read(state, _: void, ctx) {
      return ctx.reply(state.count);
    },
  },
  options: { leaseMs: 300 },
});

/** Ids as compact ranges (`0-99,200-299`), to pass thousands of them on a command line. */
export function toRanges(ids: readonly number[]): string {
  const sorted = [...ids].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    out.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

export function fromRanges(ranges: string): number[] {
  const out: number[] = [];
  for (const part of ranges.split(',').filter(Boolean)) {
    const [a, b] = part.split('-').map(Number) as [number, number?];
    for (let i = a; i <= (b ?? a); i++) out.push(i);
  }
  return out;
}

/** The chunk an increment id counts under in the actor's state. */
export function chunkOf(producer: number, id: number): string {
  return `p${producer}c${Math.floor(id / 100)}`;
}
