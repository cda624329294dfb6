/**
 * Reading the feed: the low-water mark that says what was pruned, and pages of entries after a position.
 * @internal
 */
import type { Transaction } from '../backend/contract.js';
import { decodeValue, encodeValue } from '../state/codec.js';
import { keyAfter } from '../store/queue.js';
import { decodeChange, type StoredChange } from './entry.js';
import { positionOf, stampItem } from './cursor.js';
import type { FeedKeys } from './keys.js';

/** What pruning has removed: entries up to and including `position`, `pruned` of them in all. */
export interface LowWater {
  readonly position: Buffer | undefined;
  readonly pruned: number;
}

export async function readLowWater(tx: Transaction, keys: FeedKeys, snapshot = true): Promise<LowWater> {
  const raw = await tx.get(keys.lowWater, { snapshot });
  if (raw === undefined) return { position: undefined, pruned: 0 };
  const [hex, pruned] = decodeValue(raw) as [string, number];
  return { position: Buffer.from(hex, 'hex'), pruned };
}

export function writeLowWater(tx: Transaction, keys: FeedKeys, lw: LowWater): void {
  tx.set(keys.lowWater, encodeValue([lw.position?.toString('hex') ?? '', lw.pruned]));
}

/** Entries ever written to the feed (pruned ones included). */
export async function readCount(tx: Transaction, keys: FeedKeys): Promise<number> {
  const raw = await tx.get(keys.count, { snapshot: true });
  return raw === undefined ? 0 : Number(raw.readBigInt64LE(0));
}

/** A feed entry read back, with its position. */
export interface FeedEntry extends StoredChange {
  readonly position: Buffer;
}

/** Is `position` older than what the feed still keeps (the entries right after it were pruned)? */
export function isExpired(position: Buffer, lw: LowWater): boolean {
  return lw.position !== undefined && Buffer.compare(position, lw.position) < 0;
}

/** Up to `limit` entries after `after` (from the oldest kept when undefined), in commit order. */
export async function readPage(tx: Transaction, keys: FeedKeys, after: Buffer | undefined, limit: number): Promise<FeedEntry[]> {
  const begin = after === undefined ? keys.entries.range().begin : keyAfter(keys.entries.pack([stampItem(after)]));
  const kvs = await tx.getRange(begin, keys.entries.range().end, { limit, snapshot: true });
  return kvs.map(({ key, value }) => ({ position: positionOf(keys.entries.unpack(key)), ...decodeChange(value) }));
}

/** The position of the newest entry, if any. */
export async function lastPosition(tx: Transaction, keys: FeedKeys): Promise<Buffer | undefined> {
  const { begin, end } = keys.entries.range();
  const [last] = await tx.getRange(begin, end, { limit: 1, reverse: true, snapshot: true });
  return last === undefined ? undefined : positionOf(keys.entries.unpack(last.key));
}
