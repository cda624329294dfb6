import { describe, expect, it } from 'vitest';
import { encodeWriteSet } from '../../src/backend/lmdb-layout.js';
import { CommitLogMirror, type LoggedCommit } from '../../src/backend/lmdb-commit-log.js';
import { RangeSet } from '../../src/backend/ranges.js';
import { RecentWrites } from '../../src/backend/recent-writes.js';
import { seededRandom } from '../../src/backend/random.js';

const KEYS = Array.from({ length: 400 }, (_, i) => `k${String(i).padStart(3, '0')}`);

/** The check the mirror replaces: every commit after `after`, one by one. */
function naiveConflicts(log: LoggedCommit[], after: number, points: Set<string>, ranges: RangeSet): boolean {
  for (const c of log) {
    if (c.version <= after) continue;
    for (const p of c.points) if (points.has(p) || ranges.has(p)) return true;
    for (const [b, e] of c.ranges) {
      if (ranges.intersects(b, e)) return true;
      for (const p of points) if (p >= b && p < e) return true;
    }
  }
  return false;
}

describe('RecentWrites', () => {
  it('answers point and range checks like a scan of every write, through chunk splits and forgetting', () => {
    const rng = seededRandom(7);
    const random = () => rng.next();
    const pick = () => KEYS[Math.floor(random() * KEYS.length)]!;
    const w = new RecentWrites();
    const model = new Map<string, number>();
    for (let version = 1; version <= 3_000; version++) {
      const key = pick();
      w.record(key, version);
      model.set(key, version);
      if (version % 7 === 0) {
        // forget what an old commit wrote, as pruning does (only if it was the last writer)
        const old = pick();
        const v = model.get(old);
        if (v !== undefined && v < version - 500) {
          w.forget(old, v);
          model.delete(old);
        }
      }
      const after = Math.max(0, version - 1 - Math.floor(random() * 400));
      const [a, b] = [pick(), pick()].sort() as [string, string];
      const inRange = [...model].some(([k, v]) => k >= a && k < b && v > after);
      expect(w.writtenInRangeAfter(a, b, after), `range [${a}, ${b}) after ${after}`).toBe(inRange);
      const p = pick();
      expect(w.writtenAfter(p, after)).toBe((model.get(p) ?? -1) > after);
    }
    expect(w.size).toBe(model.size);
  });
});

describe('CommitLogMirror', () => {
  it('finds the same conflicts as a scan of the log, for commits of its own and entries read from the log', () => {
    const rng = seededRandom(11);
    const random = () => rng.next();
    const pick = () => KEYS[Math.floor(random() * KEYS.length)]!;
    const log: LoggedCommit[] = [];
    const disk = new Map<number, Buffer>();
    const mirror = new CommitLogMirror();
    const read = (from: number) => log.filter((c) => c.version >= from).map((c) => ({ version: c.version, bytes: disk.get(c.version)! }));
    let pruned = 0;
    for (let version = 1; version <= 2_000; version++) {
      const points = Array.from({ length: 1 + Math.floor(random() * 4) }, pick);
      const ranges: [string, string][] = random() < 0.1 ? [[pick(), pick()].sort() as [string, string]] : [];
      const commit = { version, points, ranges };
      log.push(commit);
      disk.set(version, encodeWriteSet({ time: 0, points, ranges }));
      // A third of the commits are this process's own; the rest come from the log on the next sync.
      if (random() < 0.33) {
        mirror.sync(version - 1, pruned, read);
        mirror.add(commit);
      }
      if (version % 100 === 0) pruned = version - 300;
      const after = Math.max(0, pruned, version - 1 - Math.floor(random() * 200));
      const readPoints = new Set(Array.from({ length: Math.floor(random() * 4) }, pick));
      const readRanges = new RangeSet();
      for (let i = Math.floor(random() * 3); i > 0; i--) readRanges.add(...([pick(), pick()].sort() as [string, string]));
      mirror.sync(version, pruned, read);
      expect(mirror.conflicts(after, readPoints, readRanges), `version ${version}, after ${after}`).toBe(naiveConflicts(log, after, readPoints, readRanges));
    }
    expect(mirror.size).toBe(2_000 - pruned);
    expect(pruned).toBeGreaterThan(1_000);
  });

  it('drops a commit that never happened: the write transaction that recorded it failed and another process took its version', () => {
    const mirror = new CommitLogMirror();
    const disk = new Map<number, Buffer>();
    const read = (from: number) => [...disk].filter(([v]) => v >= from).map(([version, bytes]) => ({ version, bytes }));
    mirror.sync(0, 0, read);
    mirror.add({ version: 1, points: ['mine'], ranges: [] }); // recorded, then the LMDB transaction failed
    mirror.reset();
    disk.set(1, encodeWriteSet({ time: 0, points: ['theirs'], ranges: [] }));
    mirror.sync(1, 0, read);
    expect(mirror.conflicts(0, new Set(['theirs']), undefined)).toBe(true);
    expect(mirror.conflicts(0, new Set(['mine']), undefined)).toBe(false);
  });

  it('reloads when it is ahead of the log (a recorded commit that did not happen)', () => {
    const mirror = new CommitLogMirror();
    const read = () => [{ version: 1, bytes: encodeWriteSet({ time: 0, points: ['theirs'], ranges: [] }) }];
    mirror.sync(0, 0, () => []);
    mirror.add({ version: 1, points: ['mine'], ranges: [] });
    mirror.add({ version: 2, points: ['mine'], ranges: [] });
    mirror.sync(1, 0, read);
    expect(mirror.conflicts(0, new Set(['theirs']), undefined)).toBe(true);
    expect(mirror.conflicts(0, new Set(['mine']), undefined)).toBe(false);
  });
});
