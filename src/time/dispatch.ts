/**
 * A delayed `dispatch`: `ref.dispatch.x(payload, { delay } | { at })` stores an unnamed timer of
 * the instance instead of enqueueing; the definition's hosts enqueue it when it is due.
 *
 * Like the ordered sender, a system batches what is pending: the delayed dispatches issued while a
 * commit is in flight are written together in the next transaction (up to 1,000 timers or 4 MB),
 * so a producer setting thousands of timers a second commits tens of transactions, not thousands.
 * Exactly once like any dispatch: after `commit_unknown_result` the enqueue marker of the first
 * timer the attempt wrote tells whether it landed, and idempotency keys are honoured.
 * @internal
 */
import type { Transaction } from '../backend/contract.js';
import type { Timing } from '../define/timing.js';
import { remember, seen } from '../store/idempotency.js';
import { guardMarkers, landed, mark, type Outgoing } from '../store/queue.js';
import { aboutMessage, isAmbiguous } from '../runtime/recovery.js';
import { StoreUnavailableError } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { InvalidTimingError } from './errors.js';
import { dueOf } from './timing.js';
import { timedOutgoing, unnamed, writeTimerOps } from './schedule.js';
import { Batcher } from '../util/batcher.js';

/** Most timers / message bytes one transaction of delayed dispatches writes. */
const LIMITS = { items: 1_000, bytes: 4_000_000 };

interface Pending {
  readonly name: string;
  readonly id: string;
  readonly due: number;
  readonly out: Outgoing;
  readonly idempotencyKey: string | undefined;
}

/** The delayed dispatches of one system waiting for their transaction. */
class TimerSender {
  private readonly batcher = new Batcher<Pending>((batch) => this.commit(batch), (p) => p.out.bytes.length, LIMITS, {
    started: (flushed) => this.rt.trackSending(flushed), // close() waits for delayed dispatches too
    failure: (e, p) => aboutMessage(e, p.out.envelope.id),
  });

  constructor(private readonly rt: Runtime) {}

  send(p: Pending): Promise<void> {
    return this.batcher.add(p);
  }

  /**
   * Writes the batch's timers exactly once (see the file comment), as the sender writes messages
   * (client/sender.ts): every attempt takes a read conflict on the markers, and after an ambiguous
   * commit the next attempt reads them first.
   */
  private async commit(batch: readonly Pending[]): Promise<void> {
    const { backend, layout } = this.rt;
    const started = Date.now();
    const until = this.rt.storeDeadline();
    const what = 'A delayed dispatch';
    let uncertain = false;
    for (;;) {
      let written: Pending[] = [];
      try {
        await backend.transact(
          async (tx) => {
            written = [];
            for (const p of batch) guardMarkers(tx, layout.actor(p.name, p.id), [p.out]);
            if (uncertain && (await Promise.all(batch.map((p) => landed(tx, layout.actor(p.name, p.id), [p.out])))).some((l) => l !== undefined)) return;
            written = await fresh(tx, this.rt, batch);
            await writeTimerOps(tx, layout, written.map((p) => unnamed(p.name, p.id, p.due, p.out)));
            for (const p of written) mark(tx, layout.actor(p.name, p.id), [p.out]);
          },
          { until, what },
        );
        return;
      } catch (e) {
        if (isAmbiguous(e) && written.length === 0) return; // the attempt wrote no message: nothing to settle
        const ambiguous = isAmbiguous(e);
        uncertain ||= ambiguous;
        if (ambiguous && Date.now() < until) continue;
        throw uncertain ? new StoreUnavailableError(what, Date.now() - started, 'unknown', e) : e;
      }
    }
  }
}

/** The timers whose idempotency key (if any) was not used yet, in the window or earlier in the batch; remembers their keys. */
async function fresh(tx: Transaction, rt: Runtime, batch: readonly Pending[]): Promise<Pending[]> {
  const used = new Set<string>();
  const seenKeys = await Promise.all(batch.map((p) => (p.idempotencyKey === undefined ? false : seen(tx, rt.layout.actor(p.name, p.id), p.idempotencyKey))));
  return batch.filter((p, i) => {
    if (p.idempotencyKey === undefined) return true;
    const key = JSON.stringify([p.name, p.id, p.idempotencyKey]);
    if (seenKeys[i] || used.has(key)) return false;
    used.add(key);
    remember(tx, rt.layout.actor(p.name, p.id), p.idempotencyKey);
    return true;
  });
}

const senders = new WeakMap<Runtime, TimerSender>();

/** Stores `action(payload)` for instance `id` of `name`, due `when`. Resolves once it is durable. */
export function dispatchLater(rt: Runtime, name: string, id: string, action: string, payload: unknown, when: Timing, idempotencyKey?: string, version = 1): Promise<void> {
  let sender = senders.get(rt);
  if (sender === undefined) senders.set(rt, (sender = new TimerSender(rt)));
  try {
    const due = dueOf(`dispatch.${action}`, when, rt.clock.now());
    return sender.send({ name, id, due, out: timedOutgoing(action, payload, due, rt.observer.inject(name, action), version), idempotencyKey });
  } catch (e) {
    return Promise.reject(e);
  }
}

/** A `call` cannot be delayed: its caller would wait for the whole delay. */
export function refuseDelayedCall(action: string, options: unknown): void {
  const o = options as { delay?: unknown; at?: unknown } | undefined;
  if (o?.delay !== undefined || o?.at !== undefined) {
    throw new InvalidTimingError(`call.${action}`, 'a call cannot be delayed (its caller would wait for the whole delay); dispatch with { delay } or { at } instead, and let the reducer reply through another actor or state');
  }
}
