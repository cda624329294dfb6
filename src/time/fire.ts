/**
 * The firing transaction: moves the timers of a definition that are due into their instances'
 * queues. It reads each index entry and each timer record it moves, clears both, and enqueues the
 * message (versionstamped, like any other) in the same transaction. Running it twice, on two
 * hosts, or again after `commit_unknown_result` is safe: a timer that was moved is no longer there
 * to be read, and a concurrent move makes one of the two transactions conflict.
 * @internal
 */
import type { Transaction } from '../backend/contract.js';
import type { Layout } from '../store/keys.js';
import { enqueue, type Outgoing } from '../store/queue.js';
import { dueEntries, readTimer, type IndexEntry, type TimerRecord } from '../store/timers.js';

/** Most timers one firing transaction moves. */
export const FIRE_BATCH = 1_000;
/** Most message bytes one firing transaction moves (far below FoundationDB's 10 MB). */
export const FIRE_BATCH_BYTES = 4_000_000;

/** What one firing transaction did. */
export interface Fired {
  /** Instances that got messages, with how many. */
  readonly ids: ReadonlyMap<string, number>;
  /** More timers may be due: run again. */
  readonly more: boolean;
}

/**
 * Fires the timers of `name` due at or before `now` (at most FIRE_BATCH / FIRE_BATCH_BYTES), in
 * (due, instance, key) order, so each instance receives them in due order. Stale index entries
 * (cancelled, replaced or destroyed timers) are cleared without firing.
 */
export async function fireDue(tx: Transaction, layout: Layout, name: string, now: number): Promise<Fired> {
  const entries = await dueEntries(tx, layout, name, now, FIRE_BATCH);
  const records = await Promise.all(entries.map((e) => (e.id === '' ? undefined : readTimer(tx, layout, name, e.id, e.timer))));
  const byId = new Map<string, Outgoing[]>();
  let bytes = 0;
  let more = entries.length === FIRE_BATCH;
  for (const [i, entry] of entries.entries()) {
    const record = records[i];
    if (live(entry, record)) {
      if (bytes > 0 && bytes + record.message.length > FIRE_BATCH_BYTES) {
        more = true;
        break;
      }
      bytes += record.message.length;
      // Exactly the keys read (no range clear): cheaper, and what the read conflict covers.
      for (const key of record.keys ?? []) tx.clear(key);
      const outs = byId.get(entry.id) ?? [];
      outs.push(asOutgoing(record));
      byId.set(entry.id, outs);
    }
    tx.clear(entry.key);
  }
  for (const [id, outs] of byId) enqueue(tx, layout.actor(name, id), outs);
  return { ids: new Map([...byId].map(([id, outs]) => [id, outs.length])), more };
}

/** The record is the one this index entry was written for (not cancelled, replaced or destroyed since). */
function live(entry: IndexEntry, record: TimerRecord | undefined): record is TimerRecord {
  return record !== undefined && record.messageId === entry.messageId;
}

/**
 * The stored message as the queue takes it. Only its id is needed (for the enqueue marker); the
 * bytes go to the queue as stored, so even a message that no longer decodes reaches the consumer,
 * which dead-letters it instead of leaving it to block the timers behind it.
 */
function asOutgoing(record: TimerRecord): Outgoing {
  return { envelope: { id: record.messageId, action: '', payload: undefined, at: record.due, wantsReply: false }, bytes: record.message };
}
