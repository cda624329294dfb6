/**
 * User keys in the LMDB `data` database, with the bucket layout of long keys described in
 * `lmdb-layout.ts`. Reads take an LMDB read snapshot, or run in the current write transaction
 * when `txn` is undefined; writes run inside the write transaction.
 * @internal
 */
import type { Database, Transaction as LmdbReadTxn } from 'lmdb';
import type { KeyString } from './bytes.js';
import { decodeBucket, encodeBucket, isBucket, LONG_KEY, storedKey, userKey } from './lmdb-layout.js';
import { lowerBound } from './ranges.js';
import type { StoredEntry } from './write-buffer.js';

/** @internal */
export class UserKeys {
  constructor(private readonly db: Database<Buffer, Buffer>) {}

  read(key: KeyString, txn?: LmdbReadTxn): Buffer | undefined {
    const stored = storedKey(key);
    const value = this.db.get(stored, txn === undefined ? undefined : { transaction: txn });
    if (value === undefined || key.length < LONG_KEY) return value;
    const entries = decodeBucket(stored, value);
    const i = lowerBoundEntries(entries, key);
    return entries[i]?.key === key ? entries[i]!.value : undefined;
  }

  *range(begin: KeyString, end: KeyString, reverse: boolean, txn?: LmdbReadTxn): Generator<StoredEntry, void, undefined> {
    const lo = storedKey(begin);
    const hi = storedKey(end);
    const iterable = this.db.getRange(
      reverse
        ? { start: hi, end: lo, reverse: true, inclusiveEnd: true, transaction: txn }
        : { start: lo, end: hi, inclusiveEnd: true, transaction: txn },
    );
    for (const { key: stored, value } of iterable) {
      if (isBucket(stored)) {
        const entries = decodeBucket(stored, value);
        for (let i = reverse ? entries.length - 1 : 0; reverse ? i >= 0 : i < entries.length; i += reverse ? -1 : 1) {
          const e = entries[i]!;
          if (reverse ? e.key < begin : e.key >= end) return;
          if (reverse ? e.key < end : e.key >= begin) yield e;
        }
      } else {
        const key = userKey(stored);
        if (reverse ? key < begin : key >= end) return;
        if (reverse ? key < end : key >= begin) yield { key, value };
      }
    }
  }

  put(key: KeyString, value: Buffer): void {
    const stored = storedKey(key);
    if (key.length < LONG_KEY) {
      this.db.putSync(stored, value);
      return;
    }
    const current = this.db.get(stored);
    const entries = current === undefined ? [] : decodeBucket(stored, current);
    const i = lowerBoundEntries(entries, key);
    entries.splice(i, entries[i]?.key === key ? 1 : 0, { key, value });
    this.db.putSync(stored, encodeBucket(entries));
  }

  remove(key: KeyString): void {
    const stored = storedKey(key);
    if (key.length < LONG_KEY) {
      this.db.removeSync(stored);
      return;
    }
    const current = this.db.get(stored);
    if (current === undefined) return;
    const entries = decodeBucket(stored, current);
    const i = lowerBoundEntries(entries, key);
    if (entries[i]?.key !== key) return;
    entries.splice(i, 1);
    if (entries.length === 0) this.db.removeSync(stored);
    else this.db.putSync(stored, encodeBucket(entries));
  }

  removeRange(begin: KeyString, end: KeyString): void {
    const stored = [...this.db.getKeys({ start: storedKey(begin), end: storedKey(end), inclusiveEnd: true })];
    for (const s of stored) {
      if (!isBucket(s)) {
        const key = userKey(s);
        if (key >= begin && key < end) this.db.removeSync(s);
        continue;
      }
      const entries = decodeBucket(s, this.db.get(s)!);
      const kept = entries.filter((e) => e.key < begin || e.key >= end);
      if (kept.length === entries.length) continue;
      if (kept.length === 0) this.db.removeSync(s);
      else this.db.putSync(s, encodeBucket(kept));
    }
  }
}

function lowerBoundEntries(entries: readonly StoredEntry[], key: KeyString): number {
  return lowerBound(
    entries.map((e) => e.key),
    key,
  );
}
