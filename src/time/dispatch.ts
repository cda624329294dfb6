/**
 * A delayed `dispatch`: `ref.dispatch.x(payload, { delay } | { at })` stores an unnamed timer of
 * the instance instead of enqueueing; the definition's hosts enqueue it when it is due. Exactly
 * once like any dispatch: the enqueue marker written with the timer tells, after
 * `commit_unknown_result`, whether the attempt landed, and an idempotency key is honoured.
 * @internal
 */
import { CommitUnknownResultError } from '../backend/errors.js';
import type { Timing } from '../define/timing.js';
import { remember, seen } from '../store/idempotency.js';
import { mark, wasEnqueued } from '../store/queue.js';
import type { Runtime } from '../runtime/runtime.js';
import { InvalidTimingError } from './errors.js';
import { dueOf } from './timing.js';
import { timedOutgoing, unnamed, writeTimerOps } from './schedule.js';

/** Stores `action(payload)` for instance `id` of `name`, due `when`. Resolves once it is durable. */
export async function dispatchLater(rt: Runtime, name: string, id: string, action: string, payload: unknown, when: Timing, idempotencyKey?: string): Promise<void> {
  const due = dueOf(`dispatch.${action}`, when, Date.now());
  const out = timedOutgoing(action, payload, due);
  const keys = rt.layout.actor(name, id);
  for (;;) {
    try {
      await rt.backend.transact(async (tx) => {
        if (idempotencyKey !== undefined) {
          if (await seen(tx, keys, idempotencyKey)) return;
          remember(tx, keys, idempotencyKey);
        }
        await writeTimerOps(tx, rt.layout, [unnamed(name, id, due, out)]);
        mark(tx, keys, [out]);
      });
      return;
    } catch (e) {
      if (!(e instanceof CommitUnknownResultError)) throw e;
      if (await rt.backend.transact((tx) => wasEnqueued(tx, keys, out.envelope.id), { idempotent: true })) return;
    }
  }
}

/** A `call` cannot be delayed: its caller would wait for the whole delay. */
export function refuseDelayedCall(action: string, options: unknown): void {
  const o = options as { delay?: unknown; at?: unknown } | undefined;
  if (o?.delay !== undefined || o?.at !== undefined) {
    throw new InvalidTimingError(`call.${action}`, 'a call cannot be delayed (its caller would wait for the whole delay); dispatch with { delay } or { at } instead, and let the reducer reply through another actor or state');
  }
}
