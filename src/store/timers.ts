/**
 * The durable records of timers. A pending timer is two records:
 *
 * ```
 * (prefix, 'a', name, id, 'm', kind, key)              the timer: its due time, message id and message (a blob)
 * (prefix, 'T', name, due, id, kind, key, messageId)   the time-ordered index of a definition's timers (empty value)
 * ```
 *
 * `kind` is 'k' for a timer named by a key (`ctx.schedule({ key })`) and 'u' for an unnamed one,
 * whose key is its message id. The instance's record is the truth; an index entry whose record is
 * gone or holds another message id is stale (the timer was cancelled, replaced or destroyed) and
 * is cleared without firing. So scheduling, replacing and cancelling are blind writes that never
 * conflict with each other, and a firing transaction reads exactly the records it moves into the
 * queue, which is what makes it exactly-once.
 * @internal
 */
import type { Transaction } from '../backend/contract.js';
import type { Subspace, TupleItem } from '../backend/subspace.js';
import { clearBlob, groupBlobs, writeBlob } from './blob.js';
import type { Layout } from './keys.js';
import { decodeValue, encodeValue } from '../state/codec.js';

/** 'k': named by a key; 'u': unnamed (its key is its message id). */
export type TimerKind = 'k' | 'u';

/** Identifies one timer of an instance. */
export interface TimerRef {
  readonly kind: TimerKind;
  readonly key: string;
}

/** A pending timer as stored in its instance. */
export interface TimerRecord {
  readonly due: number;
  readonly messageId: string;
  /** The encoded message envelope (see message.ts). */
  readonly message: Buffer;
  /** The keys the record was read from (head and chunks), to clear exactly those. */
  readonly keys?: readonly Buffer[];
}

/** One entry of a definition's time-ordered index. */
export interface IndexEntry {
  readonly key: Buffer;
  readonly due: number;
  readonly id: string;
  readonly timer: TimerRef;
  readonly messageId: string;
}

/** The time-ordered index of the timers of definition `name`. */
export function timerIndex(layout: Layout, name: string): Subspace {
  return layout.root.at('T', name);
}

/** Bumped when a timer earlier than every pending one is set: the hosts of `name` watch it. */
export function timerWakeKey(layout: Layout, name: string): Buffer {
  return layout.root.pack(['tw', name]);
}

/** The timer records of one instance. */
export function instanceTimers(layout: Layout, name: string, id: string): Subspace {
  return layout.actor(name, id).root.at('m');
}

/** Writes (or replaces) a timer: its record and its index entry. A replaced timer's old index entry goes stale. */
export function writeTimer(tx: Transaction, layout: Layout, name: string, id: string, timer: TimerRef, record: TimerRecord): void {
  const records = instanceTimers(layout, name, id);
  // An unnamed timer's key is a fresh message id: there is no older record (and its chunks) to clear.
  if (timer.kind === 'k') clearBlob(tx, records, [timer.kind, timer.key]);
  writeBlob(tx, records, [timer.kind, timer.key], encodeValue([record.due, record.messageId, record.message]));
  tx.set(timerIndex(layout, name).pack([record.due, id, timer.kind, timer.key, record.messageId]), Buffer.alloc(0));
}

/** Removes a timer's record (blind: its index entry goes stale and is cleared when due). */
export function clearTimer(tx: Transaction, layout: Layout, name: string, id: string, timer: TimerRef): void {
  clearBlob(tx, instanceTimers(layout, name, id), [timer.kind, timer.key]);
}

/** Reads one timer's record, adding a read conflict on it. */
export async function readTimer(tx: Transaction, layout: Layout, name: string, id: string, timer: TimerRef): Promise<TimerRecord | undefined> {
  const records = instanceTimers(layout, name, id);
  const head = records.pack([timer.kind, timer.key]);
  const kvs = await tx.getRange(head, records.range([timer.kind, timer.key]).end);
  const blob = groupBlobs(records, kvs, 2)[0];
  return blob?.bytes === undefined ? undefined : { ...decodeRecord(blob.bytes), keys: blob.keys };
}

/** Every pending timer of an instance, in (kind, key) order. */
export async function listTimers(tx: Transaction, layout: Layout, name: string, id: string): Promise<Array<{ timer: TimerRef; record: TimerRecord }>> {
  const records = instanceTimers(layout, name, id);
  const { begin, end } = records.range();
  return groupBlobs(records, await tx.getRange(begin, end), 2).flatMap((b) => {
    const [kind, key] = b.items;
    return b.bytes === undefined ? [] : [{ timer: { kind: kind as TimerKind, key: String(key) }, record: decodeRecord(b.bytes) }];
  });
}

/** Clears every timer of an instance, records and index entries (destroy). */
export async function clearInstanceTimers(tx: Transaction, layout: Layout, name: string, id: string): Promise<void> {
  const index = timerIndex(layout, name);
  for (const { timer, record } of await listTimers(tx, layout, name, id)) {
    tx.clear(index.pack([record.due, id, timer.kind, timer.key, record.messageId]));
  }
  const { begin, end } = instanceTimers(layout, name, id).range();
  tx.clearRange(begin, end);
}

/** Index entries due at or before `now`, in due order (`snapshot`: no read conflict). */
export async function dueEntries(tx: Transaction, layout: Layout, name: string, now: number, limit: number): Promise<IndexEntry[]> {
  const index = timerIndex(layout, name);
  const kvs = await tx.getRange(index.range().begin, index.pack([Math.floor(now) + 1]), { limit });
  return kvs.map((kv) => entryOf(index, kv.key));
}

/** The earliest index entry (snapshot read), or undefined when no timer is pending. */
export async function firstEntry(tx: Transaction, layout: Layout, name: string): Promise<IndexEntry | undefined> {
  const index = timerIndex(layout, name);
  const { begin, end } = index.range();
  const [kv] = await tx.getRange(begin, end, { limit: 1, snapshot: true });
  return kv === undefined ? undefined : entryOf(index, kv.key);
}

/** Decodes an index key; a malformed one reads as an entry due at once that names no timer, so firing clears it. */
function entryOf(index: Subspace, key: Buffer): IndexEntry {
  let items: TupleItem[] = [];
  try {
    items = index.unpack(key);
  } catch {
    // malformed: cleared as stale
  }
  const [due, id, kind, timerKey, messageId] = items;
  if (typeof due !== 'number' || typeof id !== 'string' || (kind !== 'k' && kind !== 'u') || typeof timerKey !== 'string' || typeof messageId !== 'string') {
    return { key, due: 0, id: '', timer: { kind: 'u', key: '' }, messageId: '' };
  }
  return { key, due, id, timer: { kind, key: timerKey }, messageId };
}

function decodeRecord(bytes: Buffer): TimerRecord {
  const [due, messageId, message] = decodeValue(bytes) as [number, string, Uint8Array];
  return { due, messageId, message: Buffer.from(message) };
}
