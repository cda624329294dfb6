/**
 * An ordered set of latin1 key strings kept as a list of sorted chunks (like Python's
 * SortedList): O(log n) search and O(√n)-ish inserts, with plain arrays that V8 handles well.
 * The memory engine's key index.
 * @internal
 */
import type { KeyString } from './bytes.js';
import { lowerBound } from './ranges.js';

const LOAD = 512;

/** @internal */
export class SortedKeys {
  private readonly chunks: KeyString[][] = [];
  /** The last (largest) key of each chunk. */
  private readonly maxes: KeyString[] = [];
  size = 0;

  /** Adds `key`; false if it was there. */
  insert(key: KeyString): boolean {
    const { chunks, maxes } = this;
    if (chunks.length === 0) {
      chunks.push([key]);
      maxes.push(key);
      this.size = 1;
      return true;
    }
    let ci = lowerBound(maxes, key);
    if (ci === chunks.length) ci--;
    const chunk = chunks[ci]!;
    const i = lowerBound(chunk, key);
    if (chunk[i] === key) return false;
    if (i === chunk.length) chunk.push(key);
    else chunk.splice(i, 0, key);
    maxes[ci] = chunk[chunk.length - 1]!;
    if (chunk.length > 2 * LOAD) {
      const tail = chunk.splice(LOAD);
      chunks.splice(ci + 1, 0, tail);
      maxes.splice(ci, 1, chunk[chunk.length - 1]!, tail[tail.length - 1]!);
    }
    this.size++;
    return true;
  }

  /** Removes `key`; false if it was not there. */
  delete(key: KeyString): boolean {
    const { chunks, maxes } = this;
    const ci = lowerBound(maxes, key);
    if (ci === chunks.length) return false;
    const chunk = chunks[ci]!;
    const i = lowerBound(chunk, key);
    if (chunk[i] !== key) return false;
    chunk.splice(i, 1);
    if (chunk.length === 0) {
      chunks.splice(ci, 1);
      maxes.splice(ci, 1);
    } else maxes[ci] = chunk[chunk.length - 1]!;
    this.size--;
    return true;
  }

  /** Keys of [begin, end) in order, or descending when `reverse`. Do not mutate while iterating. */
  *range(begin: KeyString, end: KeyString, reverse = false): Generator<KeyString, void, undefined> {
    const { chunks, maxes } = this;
    if (chunks.length === 0) return;
    if (!reverse) {
      let ci = lowerBound(maxes, begin);
      if (ci === chunks.length) return;
      let i = lowerBound(chunks[ci]!, begin);
      for (; ci < chunks.length; ci++, i = 0) {
        const chunk = chunks[ci]!;
        for (; i < chunk.length; i++) {
          const key = chunk[i]!;
          if (key >= end) return;
          yield key;
        }
      }
    } else {
      let ci = lowerBound(maxes, end);
      let i: number;
      if (ci === chunks.length) {
        ci--;
        i = chunks[ci]!.length - 1;
      } else i = lowerBound(chunks[ci]!, end) - 1;
      for (; ci >= 0; ci--, i = ci >= 0 ? chunks[ci]!.length - 1 : 0) {
        const chunk = chunks[ci]!;
        for (; i >= 0; i--) {
          const key = chunk[i]!;
          if (key < begin) return;
          yield key;
        }
      }
    }
  }
}
