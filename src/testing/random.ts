/** Seeded choices of the simulation: one independent stream per purpose, derived from the run's seed. */
import { seededRandom } from '../backend/random.js';

export class Rng {
  private readonly source: { next(): number };
  constructor(seed: number) {
    this.source = seededRandom(seed >>> 0);
  }

  /** A stream for another purpose, independent of how much this one is used. */
  static derive(seed: number, purpose: string): Rng {
    let h = (seed ^ 0x811c9dc5) >>> 0;
    for (let i = 0; i < purpose.length; i++) h = Math.imul(h ^ purpose.charCodeAt(i), 0x01000193) >>> 0;
    return new Rng(h);
  }

  next(): number {
    return this.source.next();
  }
  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }
  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  /** A number in [min, max). */
  between(min: number, max: number): number {
    return min + this.next() * (max - min);
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  /** One key of `weights`, with probability proportional to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const entries = Object.entries(weights) as Array<[K, number]>;
    const total = entries.reduce((a, [, w]) => a + w, 0);
    let u = this.next() * total;
    for (const [k, w] of entries) {
      if (u < w) return k;
      u -= w;
    }
    return entries[entries.length - 1]![0];
  }
}
