/**
 * The LMDB engine's commit log, mirrored in the memory of each process that commits: every entry
 * since the last pruning, decoded once (this process's own commits are not decoded while the mirror
 * is current; a process whose commits read nothing lets it fall behind and never decodes), with
 * the keys they wrote indexed by {@link RecentWrites}. A commit is then validated in O(keys and
 * ranges it read) instead of decoding every entry written since its read version.
 *
 * The mirror changes only inside LMDB's write transaction, where it is first brought up to the
 * log on disk (entries of other processes, or everything at the first commit). If a write
 * transaction fails after the mirror recorded a commit, the mirror is dropped and reloaded: it
 * would otherwise hold a version that never committed.
 * @internal
 */
import type { KeyString } from './bytes.js';
import { someWrite } from './lmdb-layout.js';
import type { RangeSet } from './ranges.js';
import { RecentWrites } from './recent-writes.js';

/** What one commit wrote. @internal */
export interface LoggedCommit {
  readonly version: number;
  readonly points: readonly KeyString[];
  readonly ranges: readonly (readonly [KeyString, KeyString])[];
}

/** @internal */
export class CommitLogMirror {
  private entries: LoggedCommit[] = [];
  private head = 0;
  private writes = new RecentWrites();
  /** Range clears of the entries, oldest first (rare: a few per batch of a consumer). */
  private rangeWrites: { readonly version: number; readonly begin: KeyString; readonly end: KeyString }[] = [];
  private rangeHead = 0;
  /** Highest version mirrored; -1 before the first load. */
  private through = -1;

  /** Entries mirrored (for tests and statistics). */
  get size(): number {
    return this.entries.length - this.head;
  }

  /**
   * Brings the mirror up to the log: `current` is the committed version, `pruned` the version
   * through which the log was pruned, `read(from)` yields the encoded entries from version `from`
   * through `current`, in order.
   */
  sync(current: number, pruned: number, read: (from: number) => Iterable<{ readonly version: number; readonly bytes: Buffer }>): void {
    if (this.through > current) this.reset(); // holds a commit that did not happen
    if (this.through < current) {
      for (const { version, bytes } of read(Math.max(this.through, pruned) + 1)) this.add(decode(version, bytes));
      this.through = current;
    }
    this.forgetThrough(pruned);
  }

  /**
   * Records a commit of this process, inside its write transaction, when the mirror holds every
   * version before it; otherwise the mirror stays behind and the next {@link sync} reads this
   * commit from the log with the others.
   */
  addIfCurrent(commit: LoggedCommit): void {
    if (this.through === commit.version - 1) this.add(commit);
  }

  /** Records the commit at the version after the last mirrored. */
  add(commit: LoggedCommit): void {
    this.entries.push(commit);
    for (const key of commit.points) this.writes.record(key, commit.version);
    for (const [begin, end] of commit.ranges) this.rangeWrites.push({ version: commit.version, begin, end });
    this.through = commit.version;
  }

  /** Drops what it knows: the next {@link sync} reloads from the log. */
  reset(): void {
    this.entries = [];
    this.head = 0;
    this.writes = new RecentWrites();
    this.rangeWrites = [];
    this.rangeHead = 0;
    this.through = -1;
  }

  /** Did a commit after version `after` write a key read (`points`) or in a range read (`ranges`)? */
  conflicts(after: number, points: ReadonlySet<KeyString> | undefined, ranges: RangeSet | undefined): boolean {
    if (points !== undefined) for (const p of points) if (this.writes.writtenAfter(p, after)) return true;
    if (ranges !== undefined) for (const [b, e] of ranges) if (this.writes.writtenInRangeAfter(b, e, after)) return true;
    const rw = this.rangeWrites;
    for (let i = rw.length - 1; i >= this.rangeHead && rw[i]!.version > after; i--) {
      const { begin, end } = rw[i]!;
      if (ranges?.intersects(begin, end)) return true;
      if (points !== undefined) for (const p of points) if (p >= begin && p < end) return true;
    }
    return false;
  }

  /** Forgets the entries through version `pruned` (they left the MVCC window). */
  forgetThrough(pruned: number): void {
    const { entries } = this;
    while (this.head < entries.length && entries[this.head]!.version <= pruned) {
      const e = entries[this.head++]!;
      for (const key of e.points) this.writes.forget(key, e.version);
    }
    while (this.rangeHead < this.rangeWrites.length && this.rangeWrites[this.rangeHead]!.version <= pruned) this.rangeHead++;
    if (this.head > 1_024 && this.head * 2 > entries.length) {
      this.entries = entries.slice(this.head);
      this.head = 0;
    }
    if (this.rangeHead > 1_024 && this.rangeHead * 2 > this.rangeWrites.length) {
      this.rangeWrites = this.rangeWrites.slice(this.rangeHead);
      this.rangeHead = 0;
    }
  }
}

function decode(version: number, bytes: Buffer): LoggedCommit {
  const points: KeyString[] = [];
  const ranges: [KeyString, KeyString][] = [];
  someWrite(
    bytes,
    (key) => (points.push(key), false),
    (begin, end) => (ranges.push([begin, end]), false),
  );
  return { version, points, ranges };
}
