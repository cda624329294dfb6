/**
 * How the LMDB engine lays bytes out in its three LMDB databases.
 *
 * `data`: every user key is stored as `0x00 ++ key`, so the empty key (which LMDB refuses) works
 * and order is kept. LMDB keys are limited to 1,978 bytes, the contract allows 10,000, so a key
 * of {@link LONG_KEY} bytes or more lives in a *bucket*: one LMDB entry under
 * `0x00 ++ key[0, LONG_KEY)`, whose value lists every long key with that prefix, sorted, with its
 * value. Direct stored keys are at most LONG_KEY bytes and bucket keys exactly LONG_KEY + 1, so
 * they never collide; a bucket holds exactly the keys that extend its stored prefix, and no
 * other stored key falls between them, so LMDB order over direct entries and expanded buckets
 * is the bytewise order of user keys.
 *
 * `meta`: the commit version counter (8 bytes big-endian) and the version through which the
 * commit log was pruned.
 *
 * `log`: per writing commit, keyed by its version (8 bytes big-endian), the wall-clock time
 * and the keys and ranges it wrote; commits are validated against the entries after their read
 * version.
 * @internal
 */
import type { KeyString } from './bytes.js';
import type { StoredEntry } from './write-buffer.js';

/** User keys of this length or longer are stored in buckets. @internal */
export const LONG_KEY = 1977;

const TAG = 0x00;

/** The LMDB key of a user key shorter than LONG_KEY, or of the bucket of a longer one. @internal */
export function storedKey(key: KeyString): Buffer {
  const n = Math.min(key.length, LONG_KEY);
  const out = Buffer.allocUnsafe(n + 1);
  out[0] = TAG;
  out.write(n === key.length ? key : key.slice(0, n), 1, 'latin1');
  return out;
}

/** Is the stored LMDB key a bucket? @internal */
export function isBucket(stored: Buffer): boolean {
  return stored.length === LONG_KEY + 1;
}

/** The user key of a direct stored key. @internal */
export function userKey(stored: Buffer): KeyString {
  return stored.toString('latin1', 1);
}

/** The entries of a bucket, sorted by key. @internal */
export function decodeBucket(stored: Buffer, value: Buffer): StoredEntry[] {
  const prefix = stored.toString('latin1', 1);
  const out: StoredEntry[] = [];
  let at = 0;
  while (at < value.length) {
    const kl = value.readUInt16LE(at);
    const key = prefix + value.toString('latin1', at + 2, at + 2 + kl);
    at += 2 + kl;
    const vl = value.readUInt32LE(at);
    out.push({ key, value: value.subarray(at + 4, at + 4 + vl) });
    at += 4 + vl;
  }
  return out;
}

/** A bucket's value from its sorted entries. @internal */
export function encodeBucket(entries: readonly StoredEntry[]): Buffer {
  let size = 0;
  for (const e of entries) size += 6 + e.key.length - LONG_KEY + e.value.length;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const e of entries) {
    const suffix = e.key.length - LONG_KEY;
    at = out.writeUInt16LE(suffix, at);
    at += out.write(e.key.slice(LONG_KEY), at, 'latin1');
    at = out.writeUInt32LE(e.value.length, at);
    at += e.value.copy(out, at);
  }
  return out;
}

/** The 8-byte big-endian form of a version (meta values and log keys). @internal */
export function versionBytes(version: number): Buffer {
  const out = Buffer.allocUnsafe(8);
  out.writeBigUInt64BE(BigInt(version));
  return out;
}

/** @internal */
export function readVersionBytes(bytes: Buffer | undefined): number {
  return bytes === undefined ? 0 : Number(bytes.readBigUInt64BE(0));
}

/** What one commit wrote, for conflict checks. @internal */
export interface WriteSet {
  readonly time: number;
  readonly points: KeyString[];
  readonly ranges: [KeyString, KeyString][];
}

/** @internal */
export function encodeWriteSet(w: WriteSet): Buffer {
  let size = 16;
  for (const p of w.points) size += 2 + p.length;
  for (const [b, e] of w.ranges) size += 8 + b.length + e.length;
  const out = Buffer.allocUnsafe(size);
  let at = out.writeDoubleLE(w.time, 0);
  at = out.writeUInt32LE(w.points.length, at);
  for (const p of w.points) {
    at = out.writeUInt16LE(p.length, at);
    at += out.write(p, at, 'latin1');
  }
  at = out.writeUInt32LE(w.ranges.length, at);
  for (const [b, e] of w.ranges) {
    at = out.writeUInt32LE(b.length, at);
    at += out.write(b, at, 'latin1');
    at = out.writeUInt32LE(e.length, at);
    at += out.write(e, at, 'latin1');
  }
  return out;
}

/** The time a log entry was written (without decoding the rest). @internal */
export function writeSetTime(bytes: Buffer): number {
  return bytes.readDoubleLE(0);
}

/** Calls `point` for each key and `range` for each range the entry wrote; stops when one returns true. @internal */
export function someWrite(bytes: Buffer, point: (key: KeyString) => boolean, range: (begin: KeyString, end: KeyString) => boolean): boolean {
  let at = 8;
  const points = bytes.readUInt32LE(at);
  at += 4;
  for (let i = 0; i < points; i++) {
    const n = bytes.readUInt16LE(at);
    if (point(bytes.toString('latin1', at + 2, at + 2 + n))) return true;
    at += 2 + n;
  }
  const ranges = bytes.readUInt32LE(at);
  at += 4;
  for (let i = 0; i < ranges; i++) {
    const bn = bytes.readUInt32LE(at);
    const begin = bytes.toString('latin1', at + 4, at + 4 + bn);
    at += 4 + bn;
    const en = bytes.readUInt32LE(at);
    const end = bytes.toString('latin1', at + 4, at + 4 + en);
    at += 4 + en;
    if (range(begin, end)) return true;
  }
  return false;
}
