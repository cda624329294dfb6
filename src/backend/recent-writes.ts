/**
 * The keys written by recent commits, each with the newest commit version that wrote it, in key
 * order: answers "did a commit after version v write key k, or a key in [b, e)?" without looking
 * at the commits one by one. Kept as sorted chunks (like `SortedKeys`), each with the newest
 * version among its keys, so a range check reads whole chunks by their newest version and scans
 * keys only in the two chunks at the ends of the range. The LMDB engine's commit validation.
 *
 * Forgetting a key (its commit left the MVCC window) does not lower its chunk's newest version:
 * the figure may then overstate the chunk, but only by a version at or below the forgotten one,
 * and checks are only asked about versions after every forgotten commit, so the answer is the same.
 * @internal
 */
import type { KeyString } from './bytes.js';
import { lowerBound } from './ranges.js';

/** Keys a chunk holds before it splits in two; small, so the scan of a partial chunk stays short. */
const MAX_CHUNK = 128;
/** Keys recorded and not yet ordered, at most (past twice the keys known). */
const PENDING_MAX = 65_536;

/** @internal */
export class RecentWrites {
  private readonly byKey = new Map<KeyString, number>();
  private readonly chunks: KeyString[][] = [];
  private readonly versions: number[][] = [];
  /** The last (largest) key of each chunk. */
  private readonly lasts: KeyString[] = [];
  /** The newest version among the keys of each chunk (or of a key forgotten since). */
  private readonly newest: number[] = [];

  get size(): number {
    return this.byKey.size;
  }

  /**
   * Keys recorded since the chunks were last brought up to date: a process whose commits check
   * only keys (no ranges) never pays for ordering them, and one that checks ranges pays once per
   * check, not once per commit it learns of.
   */
  private pending: KeyString[] = [];

  /** Records that the commit at `version` (newer than every one recorded before) wrote `key`. */
  record(key: KeyString, version: number): void {
    this.byKey.set(key, version);
    this.pending.push(key);
    // Bounded: a process that never checks a range orders its keys now and then all the same.
    if (this.pending.length > PENDING_MAX && this.pending.length > 2 * this.byKey.size) this.order();
  }

  /** Brings the chunks up to date with the keys recorded since the last call. */
  private order(): void {
    const pending = this.pending;
    if (pending.length === 0) return;
    this.pending = [];
    for (const key of pending) {
      const version = this.byKey.get(key);
      if (version !== undefined) this.place(key, version);
    }
  }

  /** Puts `key` in its chunk with `version` (a newer one than it had there, if any). */
  private place(key: KeyString, version: number): void {
    const { chunks, lasts } = this;
    if (chunks.length === 0) {
      chunks.push([key]);
      this.versions.push([version]);
      lasts.push(key);
      this.newest.push(version);
      return;
    }
    let ci = lowerBound(lasts, key);
    if (ci === chunks.length) ci--;
    const chunk = chunks[ci]!;
    const vs = this.versions[ci]!;
    const i = lowerBound(chunk, key);
    if (chunk[i] === key) vs[i] = version;
    else if (i === chunk.length) {
      chunk.push(key);
      vs.push(version);
      lasts[ci] = key;
    } else {
      chunk.splice(i, 0, key);
      vs.splice(i, 0, version);
    }
    if (version > this.newest[ci]!) this.newest[ci] = version;
    if (chunk.length > MAX_CHUNK) this.split(ci);
  }

  /** Forgets `key` if the commit at `version` was the last to write it. */
  forget(key: KeyString, version: number): void {
    if (this.byKey.get(key) !== version) return;
    this.byKey.delete(key);
    // Not placed yet: ordering skips it, as it is no longer in byKey.
    const ci = lowerBound(this.lasts, key);
    const chunk = this.chunks[ci];
    if (chunk === undefined) return;
    const i = lowerBound(chunk, key);
    if (chunk[i] !== key) return;
    chunk.splice(i, 1);
    this.versions[ci]!.splice(i, 1);
    if (chunk.length === 0) {
      for (const a of [this.chunks, this.versions, this.lasts, this.newest] as unknown[][]) a.splice(ci, 1);
    } else this.lasts[ci] = chunk[chunk.length - 1]!;
  }

  /** Did a commit after `version` write `key`? */
  writtenAfter(key: KeyString, version: number): boolean {
    const written = this.byKey.get(key);
    return written !== undefined && written > version;
  }

  /** Did a commit after `version` write a key of [begin, end)? */
  writtenInRangeAfter(begin: KeyString, end: KeyString, version: number): boolean {
    this.order();
    const { chunks, lasts } = this;
    for (let ci = lowerBound(lasts, begin); ci < chunks.length; ci++) {
      const chunk = chunks[ci]!;
      if (chunk[0]! >= end) return false;
      if (this.newest[ci]! <= version) continue;
      if (chunk[0]! >= begin && lasts[ci]! < end) return true; // the whole chunk is in the range
      const vs = this.versions[ci]!;
      for (let i = lowerBound(chunk, begin); i < chunk.length && chunk[i]! < end; i++) if (vs[i]! > version) return true;
    }
    return false;
  }

  private split(ci: number): void {
    const chunk = this.chunks[ci]!;
    const vs = this.versions[ci]!;
    const half = chunk.length >>> 1;
    const tail = chunk.splice(half);
    const tailVersions = vs.splice(half);
    this.chunks.splice(ci + 1, 0, tail);
    this.versions.splice(ci + 1, 0, tailVersions);
    this.lasts.splice(ci, 1, chunk[chunk.length - 1]!, tail[tail.length - 1]!);
    this.newest.splice(ci, 1, Math.max(...vs), Math.max(...tailVersions));
  }
}
