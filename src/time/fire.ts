/**
 * The firing transaction: moves the timers of a definition that are due into their instances'
 * queues. It reads each index entry and each timer record it moves, clears both, and enqueues the
 * message (versionstamped, like any other) in the same transaction. Running it twice, on two
 * hosts, or again after `commit_unknown_result` is safe: a timer that was moved is no longer there
 * to be read, and a concurrent move makes one of the two transactions conflict.
 *
 * An instance that this process serves and whose consumer is idle gets its timers' messages
 * processed in the firing transaction itself (the inline path of
 * serve/inline.ts, as a send to an idle instance): one commit instead of a firing commit and then
 * the consumer's batch, its idle check and their fsyncs. This is what keeps a steady stream of
 * timers within tens of milliseconds of their due time (BENCHMARKS.md, section 7).
 * @internal
 */
import type { Transaction } from '../backend/contract.js';
import { isDgenError } from '../errors.js';
import type { Layout } from '../store/keys.js';
import { decodeEnvelope } from '../store/message.js';
import { enqueue, mark, type Outgoing } from '../store/queue.js';
import type { InlineConsumer, Inlined } from '../runtime/runtime.js';
import { dueEntries, readTimer, type IndexEntry, type TimerRecord } from '../store/timers.js';

/** Most timers one firing transaction moves. */
export const FIRE_BATCH = 1_000;
/** Most message bytes one firing transaction moves (far below FoundationDB's 10 MB). */
export const FIRE_BATCH_BYTES = 4_000_000;

/** The smallest firing transaction the host falls back to. */
const MIN_FIRE_BATCH = 10;

/**
 * How many timers the next firing transaction takes. A transaction of FIRE_BATCH timers reads a
 * thousand records (and, inline, writes the states of their instances); on a slow or loaded
 * cluster it can run past the 5 s limit (`timed_out`, `transaction_too_old`) or past 10 MB of
 * writes (`transaction_too_large`) and would fail the same way forever, so the host halves the
 * batch after such a failure (or a retried attempt), down to MIN_FIRE_BATCH, and doubles it back
 * after each commit.
 */
export class FireBatchSize {
  size = FIRE_BATCH;

  /** A firing transaction committed. */
  committed(): void {
    this.size = Math.min(FIRE_BATCH, this.size * 2);
  }

  /** An attempt failed or was retried; true when `error` (if given) is one a smaller batch avoids. */
  shrink(error?: unknown): boolean {
    if (error !== undefined && !['timed_out', 'transaction_too_old', 'transaction_too_large'].some((code) => isDgenError(error, code))) return false;
    this.size = Math.max(MIN_FIRE_BATCH, Math.floor(this.size / 2));
    return true;
  }
}

/** An idle consumer of this process for instance `id` of the definition, if any (runtime.inlineConsumer). */
export type InlineLookup = (id: string) => InlineConsumer | undefined;

/** What one firing transaction did. */
export interface Fired {
  /** Instances whose queues got messages, with how many (their consumers are to be woken). */
  readonly ids: ReadonlyMap<string, number>;
  /** Messages processed inline, by instance: run `processed` once the transaction committed. */
  readonly inlined: ReadonlyMap<string, number>;
  /** The instances' inline commits: run each once the transaction committed (publish states, after-commit effects). */
  readonly processed: readonly Inlined[];
  /** More timers may be due: run again. */
  readonly more: boolean;
  /** The due times of the timers fired (queued or processed inline), for their lateness. */
  readonly dues: readonly number[];
}

/**
 * Fires the timers of `name` due at or before `now` (at most `limit` / FIRE_BATCH_BYTES), in
 * (due, instance, key) order, so each instance receives them in due order. Stale index entries
 * (cancelled, replaced or destroyed timers) are cleared without firing.
 */
export async function fireDue(tx: Transaction, layout: Layout, name: string, now: number, inline?: InlineLookup, limit = FIRE_BATCH): Promise<Fired> {
  const entries = await dueEntries(tx, layout, name, now, limit);
  const records = await Promise.all(entries.map((e) => (e.id === '' ? undefined : readTimer(tx, layout, name, e.id, e.timer))));
  const byId = new Map<string, Outgoing[]>();
  const dues: number[] = [];
  let bytes = 0;
  let more = entries.length === limit;
  for (const [i, entry] of entries.entries()) {
    const record = records[i];
    if (live(entry, record)) {
      if (bytes > 0 && bytes + record.message.length > FIRE_BATCH_BYTES) {
        more = true;
        break;
      }
      bytes += record.message.length;
      dues.push(record.due);
      // Exactly the keys read (no range clear): cheaper, and what the read conflict covers.
      for (const key of record.keys ?? []) tx.clear(key);
      const outs = byId.get(entry.id) ?? [];
      outs.push(asOutgoing(record));
      byId.set(entry.id, outs);
    }
    tx.clear(entry.key);
  }
  const ids = new Map<string, number>();
  const inlined = new Map<string, number>();
  const processed: Inlined[] = [];
  for (const [id, outs] of byId) {
    const done = inline === undefined ? undefined : await processHere(tx, inline(id), outs);
    if (done === undefined) {
      enqueue(tx, layout.actor(name, id), outs);
      ids.set(id, outs.length);
      continue;
    }
    mark(tx, layout.actor(name, id), done.outs);
    inlined.set(id, outs.length);
    processed.push(done.inlined);
  }
  return { ids, inlined, processed, more, dues };
}

/** Processes an instance's fired messages with its idle consumer, in `tx`; undefined when they must be enqueued. */
async function processHere(tx: Transaction, consumer: InlineConsumer | undefined, stored: readonly Outgoing[]): Promise<{ outs: Outgoing[]; inlined: Inlined } | undefined> {
  if (consumer === undefined) return undefined;
  let outs: Outgoing[];
  try {
    outs = stored.map((o) => ({ envelope: decodeEnvelope(o.bytes), bytes: o.bytes }));
  } catch {
    return undefined; // a message that no longer decodes: the queue's consumer dead-letters it
  }
  const inlined = await consumer.processInline(tx, outs);
  return inlined === undefined ? undefined : { outs, inlined };
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
