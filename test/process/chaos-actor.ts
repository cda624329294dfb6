import { defineActor } from '../../src/index.js';

/**
 * The counter of the chaos process test: increments, and a call that answers the count at its
 * position in the queue. A short lease, so a standby takes over soon after the active consumer
 * is killed.
 */
export const ChaosCounter = defineActor({
  name: 'chaos-counter',
  initialState: () => ({ count: 0 }),
  reducers: {
    increment(state) {
      state.count += 1;
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
