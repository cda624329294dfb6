/**
 * A seeded pseudo-random source (xoroshiro128+ from `pure-rand`), so that a test run with
 * injected faults replays exactly from its seed.
 * @internal
 */
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';

/** @internal */
export interface SeededRandom {
  /** The seed this source started from (print it to replay a failing run). */
  readonly seed: number;
  /** A uniform number in [0, 1). */
  next(): number;
}

/** A fresh 32-bit seed when the caller gave none. @internal */
export function randomSeed(): number {
  return (Math.random() * 0x1_0000_0000) >>> 0;
}

/** @internal */
export function seededRandom(seed: number = randomSeed()): SeededRandom {
  const rng = xoroshiro128plus(seed);
  for (let i = 0; i < 16; i++) rng.next(); // small seeds start with poorly mixed outputs
  return { seed, next: () => uniformFloat64(rng) };
}
