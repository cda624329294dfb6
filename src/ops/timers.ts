/**
 * The operator's view of timers: list an instance's pending timers and cancel one. Used by
 * `system.admin.timers` / `cancelTimer` and `dgen timers`.
 * @internal
 */
import type { Backend } from '../backend/contract.js';
import { DgenError } from '../errors.js';
import type { Layout } from '../store/keys.js';
import { decodeEnvelope } from '../store/message.js';
import { clearTimer, listTimers, readTimer, type TimerRef } from '../store/timers.js';

/**
 * A pending timer of an instance, as `admin.timers` lists it.
 * @example
 * ```ts
 * for (const t of await system.admin.timers(Hold, 'h1')) console.log(t.key ?? t.messageId, new Date(t.due), t.action);
 * ```
 */
export interface TimerEntry {
  /** The key it was scheduled under (`ctx.schedule({ key })`); undefined for an unnamed timer. */
  readonly key: string | undefined;
  /** The id its message will carry; names an unnamed timer for `cancelTimer`. */
  readonly messageId: string;
  /** When it is due, ms since epoch. */
  readonly due: number;
  /** The action and payload of its message (undefined if the stored message does not decode). */
  readonly action: string | undefined;
  readonly payload: unknown;
}

/**
 * Names one timer of an instance: by its key, or (unnamed timers) by its message id.
 * @example
 * ```ts
 * await system.admin.cancelTimer(Hold, 'h1', { key: 'expiry' });
 * await system.admin.cancelTimer(Hold, 'h1', { messageId: t.messageId });
 * ```
 */
export type TimerName = { readonly key: string } | { readonly messageId: string };

/** Every pending timer of an instance, in due order. */
export async function timersOf(backend: Backend, layout: Layout, name: string, id: string): Promise<TimerEntry[]> {
  const timers = await backend.transact((tx) => listTimers(tx, layout, name, id), { idempotent: true });
  return timers
    .map(({ timer, record }) => {
      let message: { action?: string; payload?: unknown } = {};
      try {
        message = decodeEnvelope(record.message);
      } catch {
        // listed without action and payload
      }
      return { key: timer.kind === 'k' ? timer.key : undefined, messageId: record.messageId, due: record.due, action: message.action, payload: message.payload };
    })
    .sort((a, b) => a.due - b.due);
}

/** Cancels one pending timer. False if it was not pending (never set, cancelled, or fired). */
export async function cancelTimerOf(backend: Backend, layout: Layout, name: string, id: string, which: TimerName): Promise<boolean> {
  const timer = refOf(which);
  return backend.transact(async (tx) => {
    const record = await readTimer(tx, layout, name, id, timer);
    if (record === undefined || (timer.kind === 'u' && record.messageId !== timer.key)) return false;
    clearTimer(tx, layout, name, id, timer);
    return true;
  });
}

function refOf(which: TimerName): TimerRef {
  const w = which as { key?: unknown; messageId?: unknown } | undefined;
  if (typeof w?.key === 'string' && w.key.length > 0) return { kind: 'k', key: w.key };
  if (typeof w?.messageId === 'string' && w.messageId.length > 0) return { kind: 'u', key: w.messageId };
  throw new DgenError('invalid_timer', 'cancelTimer: name the timer as { key } (the key it was scheduled under) or { messageId } (an unnamed timer, as listed by timers()).');
}
