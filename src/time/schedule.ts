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
import { encodeEnvelope, newMessageId, type Envelope, type TraceContext } from '../store/message.js';
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
export function timedOutgoing(action: string, payload: unknown, due: number, trace?: TraceContext, version = 1): Outgoing {
  const envelope: Envelope = { id: newMessageId(), action, payload, at: due, wantsReply: false, ...(trace === undefined ? {} : { trace }), ...(version === 1 ? {} : { version }) };
  const bytes = encodeEnvelope(envelope);
  if (bytes.length > MAX_MESSAGE_BYTES) throw new MessageTooLargeError(bytes.length, MAX_MESSAGE_BYTES);
  return { envelope, bytes };
}

/** A set op for an unnamed timer (its key is its message id). */
export function unnamed(name: string, id: string, due: number, out: Outgoing): TimerOp {
  return { op: 'set', name, id, timer: { kind: 'u', key: out.envelope.id }, due, out };
}

/**
 * When the earliest pending timer is due within this many ms, a host may be firing it right now:
 * a new timer then wakes the hosts instead of taking a read conflict on that entry.
 */
const NEAR_MS = 1_000;

/**
 * Writes `ops` in order (a later op on the same timer wins), then makes sure the hosts of each
 * definition will see the new timers: a host sleeps until the earliest pending timer, and looks at
 * the index again after firing it.
 *
 * The earliest entry is read as a snapshot. The wake key is bumped (an atomic add: it conflicts
 * with nothing) when a new timer comes before it, or when it is due soon, since a host may fire it
 * and look at the index before this transaction commits. Otherwise the transaction takes a read
 * conflict on that one entry: if a host (with a fast clock) fires it meanwhile, this transaction
 * retries and decides again. So a new timer is never left unseen while its host sleeps, and
 * producers setting timers do not conflict with the firing of imminent ones.
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
    // A timer written in this same transaction may be the one read: waking for it is harmless.
    if (first === undefined || due <= first.due || first.due <= Date.now() + NEAR_MS) tx.add(timerWakeKey(layout, name), 1);
    else tx.addReadConflictKey(first.key);
  }
}
