/**
 * Sorted, disjoint half-open key ranges over latin1 key strings, and binary search helpers.
 * Used for a transaction's cleared ranges and its read conflict ranges.
 * @internal
 */
import type { KeyString } from './bytes.js';

/** A half-open key range [begin, end). @internal */
export type KeyRange = readonly [begin: KeyString, end: KeyString];

/** Index of the first element of sorted `keys` that is ≥ `key`. @internal */
export function lowerBound(keys: readonly KeyString[], key: KeyString): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A set of keys as sorted, merged, disjoint ranges. @internal */
export class RangeSet {
  private readonly begins: KeyString[] = [];
  private readonly ends: KeyString[] = [];

  get size(): number {
    return this.begins.length;
  }

  /** Adds [begin, end), merging with overlapping or adjacent ranges. */
  add(begin: KeyString, end: KeyString): void {
    if (!(begin < end)) return;
    const { begins, ends } = this;
    // First range whose end ≥ begin (could touch or overlap); last range whose begin ≤ end.
    let i = lowerBound(ends, begin);
    let j = i;
    while (j < begins.length && begins[j]! <= end) j++;
    if (i < j) {
      if (begins[i]! < begin) begin = begins[i]!;
      if (ends[j - 1]! > end) end = ends[j - 1]!;
    }
    begins.splice(i, j - i, begin);
    ends.splice(i, j - i, end);
  }

  has(key: KeyString): boolean {
    const { begins, ends } = this;
    if (begins.length === 0) return false;
    // Last range with begin ≤ key.
    const i = lowerBound(begins, key + '\x00') - 1;
    return i >= 0 && key < ends[i]!;
  }

  /** Does any range intersect [begin, end)? */
  intersects(begin: KeyString, end: KeyString): boolean {
    const { begins, ends } = this;
    const i = lowerBound(ends, begin + '\x00'); // first range with end > begin
    return i < begins.length && begins[i]! < end;
  }

  *[Symbol.iterator](): IterableIterator<KeyRange> {
    for (let i = 0; i < this.begins.length; i++) yield [this.begins[i]!, this.ends[i]!];
  }
}
