/**
 * A transaction's pending writes, shared by the memory and LMDB engines: the ordered mutation
 * log applied at commit, and read-your-writes for `get` and `getRange` merged over the engine's
 * snapshot reads. Versionstamped writes are only logged: what they may write is unreadable until
 * commit, and reading it fails with `accessed_unreadable`, as in FoundationDB.
 * @internal
 */
import { LIMITS } from './contract.js';
import { AccessedUnreadableError, TransactionTooLargeError } from './errors.js';
import { addDeltas, applyAdd, keyString, type KeyString } from './bytes.js';

const ZERO = Buffer.of(0);
import { RangeSet } from './ranges.js';
import { SortedKeys } from './sorted-keys.js';

/** One mutation, in the order the transaction issued it. @internal */
export type Mutation =
  | { readonly type: 'set'; readonly key: KeyString; readonly value: Buffer }
  | { readonly type: 'clear'; readonly key: KeyString }
  | { readonly type: 'clearRange'; readonly begin: KeyString; readonly end: KeyString }
  | { readonly type: 'add'; readonly key: KeyString; readonly delta: bigint }
  | { readonly type: 'setVersionstampedKey'; readonly key: Buffer; readonly offset: number; readonly value: Buffer }
  | { readonly type: 'setVersionstampedValue'; readonly key: KeyString; readonly value: Buffer; readonly offset: number };

/**
 * What the buffer knows of one key: a value (`value` set), cleared (neither set), or atomic adds
 * on a base still to be read from the snapshot (`delta` set). @internal
 */
export interface PointState {
  readonly value: Buffer | undefined;
  readonly delta: bigint | undefined;
}

const CLEARED: PointState = Object.freeze({ value: undefined, delta: undefined });

/** One entry of a snapshot range read. @internal */
export interface StoredEntry {
  readonly key: KeyString;
  readonly value: Buffer;
}

/** Reads of an engine at the transaction's read version, without the transaction's writes. @internal */
export interface SnapshotReader {
  get(key: KeyString): Buffer | undefined;
  /** Entries of [begin, end) in order (descending if `reverse`), produced lazily. */
  range(begin: KeyString, end: KeyString, reverse: boolean): Iterator<StoredEntry>;
}

/** @internal */
export class WriteBuffer {
  readonly mutations: Mutation[] = [];
  /** Bytes of keys and values written so far (the transaction size limit counts these). */
  bytes = 0;
  private points: Map<KeyString, PointState> | undefined;
  private cleared: RangeSet | undefined;
  /**
   * The keys of `points` in order, built on the first range clear or range read and kept up to
   * date from then on, so neither rescans nor re-sorts every point (a transaction alternating
   * writes and range clears stays linear).
   */
  private ordered: SortedKeys | undefined;
  private stampedValues: Set<KeyString> | undefined;
  /** Ranges a versionstamped write of this transaction may fill: reading them fails. */
  private unreadable: Array<readonly [KeyString, KeyString]> | undefined;

  get empty(): boolean {
    return this.mutations.length === 0;
  }

  set(key: KeyString, value: Buffer): void {
    this.count(key.length + value.length);
    this.mutations.push({ type: 'set', key, value });
    this.setPoint(key, { value, delta: undefined });
  }

  clear(key: KeyString): void {
    this.count(key.length);
    this.makeReadable(key, key + '\x00');
    this.mutations.push({ type: 'clear', key });
    this.setPoint(key, CLEARED);
  }

  clearRange(begin: KeyString, end: KeyString): void {
    if (!(begin < end)) return;
    this.count(begin.length + end.length);
    this.mutations.push({ type: 'clearRange', begin, end });
    this.makeReadable(begin, end);
    if (this.points !== undefined && this.points.size > 0) {
      const ordered = this.orderedPoints();
      for (const key of [...ordered.range(begin, end)]) {
        this.points.delete(key);
        ordered.delete(key);
      }
    }
    (this.cleared ??= new RangeSet()).add(begin, end);
  }

  add(key: KeyString, delta: bigint): void {
    this.count(key.length + 8);
    this.mutations.push({ type: 'add', key, delta });
    const known = this.lookup(key);
    if (known === undefined) this.setPoint(key, { value: undefined, delta });
    else if (known.delta !== undefined) this.setPoint(key, { value: undefined, delta: addDeltas(known.delta, delta) });
    else this.setPoint(key, { value: applyAdd(known.value, delta), delta: undefined });
  }

  /** `minVersion`: the transaction's read version if it has one (no commit after it can stamp lower). */
  setVersionstampedKey(key: Buffer, offset: number, value: Buffer, minVersion = 0n): void {
    this.count(key.length + value.length);
    this.mutations.push({ type: 'setVersionstampedKey', key, offset, value });
    // Any stamp from the read version on may come, as in FoundationDB: that span is unreadable.
    const low = Buffer.from(key).fill(0x00, offset, offset + 10);
    low.writeBigUInt64BE(minVersion, offset);
    const high = Buffer.concat([Buffer.from(key).fill(0xff, offset, offset + 10), ZERO]);
    (this.unreadable ??= []).push([keyString(low), keyString(high)]);
  }

  setVersionstampedValue(key: KeyString, value: Buffer, offset: number): void {
    this.count(key.length + value.length);
    this.mutations.push({ type: 'setVersionstampedValue', key, value, offset });
    (this.stampedValues ??= new Set()).add(key);
    (this.unreadable ??= []).push([key, key + '\x00']);
  }

  /** Whether a read met what a versionstamped write may fill: the commit then fails too. */
  readUnreadable = false;

  /**
   * Throws `accessed_unreadable` when [begin, end) meets what a versionstamped write may fill. As
   * on FoundationDB 7.3, the transaction cannot commit afterwards, even if the body caught the error.
   */
  assertReadable(begin: KeyString, end: KeyString): void {
    if (this.unreadable === undefined) return;
    for (const [b, e] of this.unreadable) {
      if (b < end && begin < e) {
        this.readUnreadable = true;
        throw new AccessedUnreadableError();
      }
    }
  }

  /**
   * A later clear of a versionstamped value's key makes it readable again (it is then known to be
   * absent). A later `set` or `add` does not: FoundationDB 7.3 still fails that read with
   * accessed_unreadable, and the server is the authority.
   */
  private makeReadable(begin: KeyString, end: KeyString): void {
    if (this.unreadable === undefined || this.stampedValues === undefined) return;
    this.unreadable = this.unreadable.filter(([b, e]) => !(this.stampedValues!.has(b) && e === b + '\x00' && b >= begin && b < end));
  }

  /** What the buffer says of `key`, or undefined when only the snapshot knows. */
  lookup(key: KeyString): PointState | undefined {
    const p = this.points?.get(key);
    if (p !== undefined) return p;
    if (this.cleared?.has(key)) return CLEARED;
    return undefined;
  }

  /** Did this transaction write `key` in any way (including a versionstamped value)? */
  touches(key: KeyString): boolean {
    return this.points?.has(key) === true || this.cleared?.has(key) === true || this.stampedValues?.has(key) === true;
  }

  /** The value of `key` as this transaction sees it. */
  read(key: KeyString, snapshot: SnapshotReader): Buffer | undefined {
    const p = this.lookup(key);
    if (p === undefined) return snapshot.get(key);
    if (p.delta !== undefined) return applyAdd(snapshot.get(key), p.delta);
    return p.value;
  }

  /** The entries of [begin, end) as this transaction sees them, at most `limit` (0: all). */
  readRange(begin: KeyString, end: KeyString, limit: number, reverse: boolean, snapshot: SnapshotReader): StoredEntry[] {
    const max = limit > 0 ? limit : Infinity;
    const out: StoredEntry[] = [];
    const stored = snapshot.range(begin, end, reverse);
    const points = this.points;
    const cleared = this.cleared;
    if ((points === undefined || points.size === 0) && (cleared === undefined || cleared.size === 0)) {
      while (out.length < max) {
        const r = stored.next();
        if (r.done) break;
        out.push(r.value);
      }
      stored.return?.();
      return out;
    }
    const pointKeys = this.orderedPoints().range(begin, end, reverse);
    const nextPoint = (): KeyString | undefined => {
      const r = pointKeys.next();
      return r.done ? undefined : r.value;
    };
    let pk = nextPoint();
    const nextStored = (): StoredEntry | undefined => {
      for (;;) {
        const r = stored.next();
        if (r.done) return undefined;
        if (points?.has(r.value.key) || cleared?.has(r.value.key)) continue;
        return r.value;
      }
    };
    let s = nextStored();
    while (out.length < max) {
      if (pk === undefined && s === undefined) break;
      const takePoint = pk !== undefined && (s === undefined || (reverse ? pk > s.key : pk < s.key));
      if (!takePoint) {
        out.push(s!);
        s = nextStored();
        continue;
      }
      const key = pk!;
      pk = nextPoint();
      const p = points!.get(key)!;
      const value = p.delta !== undefined ? applyAdd(snapshot.get(key), p.delta) : p.value;
      if (value !== undefined) out.push({ key, value });
    }
    stored.return?.();
    return out;
  }

  private setPoint(key: KeyString, state: PointState): void {
    const points = (this.points ??= new Map());
    if (this.ordered !== undefined && !points.has(key)) this.ordered.insert(key);
    points.set(key, state);
  }

  private orderedPoints(): SortedKeys {
    if (this.ordered === undefined) {
      this.ordered = new SortedKeys();
      for (const key of this.points?.keys() ?? []) this.ordered.insert(key);
    }
    return this.ordered;
  }

  private count(bytes: number): void {
    const total = this.bytes + bytes;
    if (total > LIMITS.transactionBytes) throw new TransactionTooLargeError(total, LIMITS.transactionBytes);
    this.bytes = total;
  }
}
