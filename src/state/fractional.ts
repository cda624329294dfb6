/**
 * Order keys for ordered collections (keyed arrays, Maps, Sets): a position is a short list of
 * integers, stored as a nested tuple, so the key order is the tuple order (element by element,
 * numerically, a proper prefix first). There is always room between two positions, so an
 * insert, remove or move of one element rewrites only that element's order key.
 *
 * Appending or prepending n times keeps one integer that grows by one each time (a few bytes);
 * inserting again and again at the same place adds about one integer every log2(gap) inserts.
 * @internal
 */

/** A position: a non-empty list of safe integers, compared as a tuple. */
export type Frac = readonly number[];

/** Tuple order of two positions: negative, zero or positive. */
export function compareFrac(a: Frac, b: Frac): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** A position strictly between `a` and `b`; `undefined` stands for the start or the end. */
export function fracBetween(a: Frac | undefined, b: Frac | undefined): Frac {
  if (a === undefined) return b === undefined ? [0] : [b[0]! - 1];
  if (b === undefined) return [a[0]! + 1];
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (i === a.length) {
    if (i === b.length) throw new RangeError('fracBetween: equal positions');
    return [...a, b[i]! - 1]; // a is a prefix of b
  }
  if (i === b.length || a[i]! > b[i]!) throw new RangeError('fracBetween: positions out of order');
  const lo = a[i]!;
  const hi = b[i]!;
  if (hi - lo >= 2) return [...a.slice(0, i), lo + Math.floor((hi - lo) / 2)];
  // adjacent integers: stay under a[i] and go past the rest of a
  return i + 1 < a.length ? [...a.slice(0, i + 1), a[i + 1]! + 1] : [...a, 0];
}

/**
 * `count` increasing positions strictly between `a` and `b` (either may be `undefined`): a run of
 * consecutive integers past an open end, otherwise a balanced split so they stay short.
 */
export function fracsBetween(a: Frac | undefined, b: Frac | undefined, count: number): Frac[] {
  const out: Frac[] = [];
  if (count <= 0) return out;
  if (b === undefined) {
    let p = a;
    for (let i = 0; i < count; i++) out.push((p = fracBetween(p, undefined)));
    return out;
  }
  if (a === undefined) {
    const start = b[0]! - count;
    for (let i = 0; i < count; i++) out.push([start + i]);
    return out;
  }
  split(a, b, count, out);
  return out;
}

function split(a: Frac, b: Frac, count: number, out: Frac[]): void {
  if (count === 0) return;
  const mid = fracBetween(a, b);
  const left = (count - 1) >> 1;
  split(a, mid, left, out);
  out.push(mid);
  split(mid, b, count - 1 - left, out);
}

/** Positions of a freshly written collection of `count` elements: [0], [1], … */
export function initialFracs(count: number): Frac[] {
  const out = new Array<Frac>(count);
  for (let i = 0; i < count; i++) out[i] = [i];
  return out;
}
