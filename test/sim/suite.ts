/**
 * The seeded simulation as vitest cases: `simulate(from, count)` runs seeds from..from+count-1 in
 * chunks and fails with the command that replays each failing seed. `DGEN_SIM_SEEDS` multiplies
 * the number of seeds (e.g. 10 for a longer run in CI).
 */
import { expect, it } from 'vitest';
import { replayCommand, runSeed } from './run.js';

const CHUNK = 20;

export function simulate(from: number, count: number): void {
  const factor = Number(process.env.DGEN_SIM_SEEDS ?? 1);
  const total = Math.max(1, Math.round(count * (Number.isFinite(factor) && factor > 0 ? factor : 1)));
  const first = from === 1 ? 1 : 1 + Math.round((from - 1) * (total / count));
  for (let start = first; start < first + total; start += CHUNK) {
    const end = Math.min(first + total, start + CHUNK) - 1;
    it(`seeds ${start}..${end}`, async () => {
      const failures: string[] = [];
      for (let seed = start; seed <= end; seed++) {
        const r = await runSeed(seed);
        if (!r.ok) failures.push(`seed ${seed}: ${r.violations.slice(0, 5).join('; ')}\n  replay: ${replayCommand(seed)}`);
      }
      expect(failures, failures.join('\n')).toEqual([]);
    });
  }
}
