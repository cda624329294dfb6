/**
 * Ordered, batched enqueueing into one actor instance. Everything this process sends to an
 * instance goes through one Sender: what is pending when a flush starts commits in one
 * transaction with increasing user versions, and flushes never overlap, so messages are
 * processed in the order they were issued even when callers do not await each one.
 * @internal
 */
import type { Transaction } from '../backend/contract.js';
import { CommitUnknownResultError } from '../backend/errors.js';
import { isDgenError } from '../errors.js';
import { remember, seen } from '../store/idempotency.js';
import type { ActorKeys } from '../store/keys.js';
import { enqueue, mark, wasEnqueued, type Outgoing } from '../store/queue.js';
import type { Inlined, Runtime } from '../runtime/runtime.js';
import { Batcher } from '../util/batcher.js';

/** Most messages / bytes one enqueue transaction carries (far below FoundationDB's 10 MB). */
const LIMITS = { items: 1_000, bytes: 4_000_000 };

export class Sender {
  private readonly batcher: Batcher<Outgoing>;
  /** Its turn in admission control (see runtime/admission.ts): sends queue fairly per instance. */
  private readonly lane: { readonly verb: string; readonly key: string };

  constructor(
    private readonly rt: Runtime,
    private readonly name: string,
    private readonly id: string,
    private readonly keys: ActorKeys,
  ) {
    this.lane = { verb: 'send', key: `${name}/${id}` };
    this.batcher = new Batcher((batch) => this.commit(batch), (out) => out.bytes.length, LIMITS, (flushed) => trackSending(rt, flushed));
  }

  /** Resolves once `out` is durably enqueued. */
  send(out: Outgoing): Promise<void> {
    return this.batcher.add(out);
  }

  /** The messages whose idempotency key (if any) was not used yet; remembers their keys. */
  private async fresh(tx: Transaction, messages: readonly Outgoing[]): Promise<Outgoing[]> {
    const keyed = messages.filter((m) => m.idempotencyKey !== undefined);
    const used = new Set<string>();
    const seenKeys = await Promise.all(keyed.map((m) => seen(tx, this.keys, m.idempotencyKey!)));
    keyed.forEach((m, i) => seenKeys[i] && used.add(m.idempotencyKey!));
    return messages.filter((m) => {
      const key = m.idempotencyKey;
      if (key === undefined) return true;
      if (used.has(key)) return false;
      used.add(key);
      remember(tx, this.keys, key);
      return true;
    });
  }

  /**
   * Commits the messages exactly once: processed inline when this process serves the instance and
   * it is idle (see serve/inline.ts), enqueued otherwise. After an ambiguous commit, the marker of the
   * first message the attempt wrote tells whether it landed (also after an engine failure outside
   * the contract, `engine_failed`). Waiting for admission past its deadline fails with `overloaded`
   * before anything is written.
   */
  private async commit(messages: readonly Outgoing[]): Promise<void> {
    const backend = this.rt.backend;
    for (;;) {
      const consumer = this.rt.inlineConsumer(this.name, this.id);
      let written: Outgoing[] = [];
      let processed: Inlined | undefined;
      try {
        await backend.transact(
          async (tx) => {
            written = await this.fresh(tx, messages);
            processed = written.length > 0 && consumer !== undefined ? await consumer.processInline(tx, written) : undefined;
            if (processed !== undefined) mark(tx, this.keys, written);
            else if (written.length > 0) enqueue(tx, this.keys, written);
          },
          { lane: this.lane, deadline: backend.deadline() },
        );
      } catch (e) {
        if (!(e instanceof CommitUnknownResultError) && !isDgenError(e, 'engine_failed')) throw e;
        const first = written[0];
        if (first !== undefined && !(await backend.transact((tx) => wasEnqueued(tx, this.keys, first.envelope.id), { idempotent: true, lane: this.lane }))) continue;
      }
      if (processed !== undefined) processed.run();
      else if (written.length > 0) this.rt.enqueued$.next({ name: this.name, id: this.id });
      return;
    }
  }
}

/** Closing the system waits for flushes in flight (see client/system.ts). */
export function trackSending(rt: Runtime, flushed: Promise<void>): void {
  rt.sending.add(flushed);
  void flushed.then(() => rt.sending.delete(flushed));
}
