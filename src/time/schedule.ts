/**
 * Setting and cancelling timers inside a transaction: what `ctx.schedule`, `ctx.send(…, when)`,
 * `ctx.cancel` and a delayed `dispatch` write. Writes are blind (see store/timers.ts); the only
 * read is the earliest pending timer of each target definition, to wake its hosts when a timer
 * comes before it.
 * @internal
 */
import type { Transaction } from '../backend/contract.js';
import { MessageTooLargeError } from '../errors.js';
import type { Layout } from '../store/keys.js';
import { encodeEnvelope, newMessageId, type Envelope } from '../store/message.js';
import { MAX_MESSAGE_BYTES, type Outgoing } from '../store/queue.js';
import { clearTimer, firstEntry, timerWakeKey, writeTimer, type TimerRef } from '../store/timers.js';

/** A timer to set or cancel, collected while a reducer runs and written with its batch. */
export type TimerOp =
  | { readonly op: 'set'; readonly name: string; readonly id: string; readonly timer: TimerRef; readonly due: number; readonly out: Outgoing }
  | { readonly op: 'cancel'; readonly name: string; readonly id: string; readonly timer: TimerRef };

/**
 * A message due at `due`: its envelope carries the due time as `at`, so `ctx.now()` in the
 * reducer that processes it returns the due time. Throws like `outgoing` for a bad payload.
 */
export function timedOutgoing(action: string, payload: unknown, due: number): Outgoing {
  const envelope: Envelope = { id: newMessageId(), action, payload, at: due, wantsReply: false };
  const bytes = encodeEnvelope(envelope);
  if (bytes.length > MAX_MESSAGE_BYTES) throw new MessageTooLargeError(bytes.length, MAX_MESSAGE_BYTES);
  return { envelope, bytes };
}

/** A set op for an unnamed timer (its key is its message id). */
export function unnamed(name: string, id: string, due: number, out: Outgoing): TimerOp {
  return { op: 'set', name, id, timer: { kind: 'u', key: out.envelope.id }, due, out };
}

/**
 * Writes `ops` in order (a later op on the same timer wins), then wakes the hosts of each
 * definition that got a timer earlier than all its pending ones.
 *
 * The earliest entry is read as a snapshot with a read conflict on that one key: if a host fires
 * (clears) it before this transaction commits, this transaction retries and looks again. So
 * either this timer is visible to the host's next look at the index, or the wake key is bumped
 * after it — a new timer is never left unseen while its host sleeps.
 */
export async function writeTimerOps(tx: Transaction, layout: Layout, ops: readonly TimerOp[]): Promise<void> {
  if (ops.length === 0) return;
  const earliest = new Map<string, number>();
  for (const op of ops) {
    if (op.op === 'cancel') {
      clearTimer(tx, layout, op.name, op.id, op.timer);
      continue;
    }
    writeTimer(tx, layout, op.name, op.id, op.timer, { due: op.due, messageId: op.out.envelope.id, message: op.out.bytes });
    earliest.set(op.name, Math.min(op.due, earliest.get(op.name) ?? Infinity));
  }
  for (const [name, due] of earliest) {
    const first = await firstEntry(tx, layout, name);
    if (first !== undefined) tx.addReadConflictKey(first.key);
    // A timer written in this same transaction may be the one read: waking for it is harmless.
    if (first === undefined || due <= first.due) tx.add(timerWakeKey(layout, name), 1);
  }
}
