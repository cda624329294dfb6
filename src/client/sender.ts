/**
 * Ordered, batched enqueueing into one actor instance. Everything this process sends to an
 * instance goes through one Sender: what is pending when a flush starts commits in one
 * transaction with increasing user versions, and flushes never overlap, so messages are
 * processed in the order they were issued even when callers do not await each one.
 * @internal
 */
import type { Transaction } from '../backend/contract.js';
import { StoreUnavailableError } from '../errors.js';
import { aboutMessage, isAmbiguous } from '../runtime/recovery.js';
import { isLimitError } from '../serve/consumer.js';
import { firstUse, remember } from '../store/idempotency.js';
import type { ActorKeys } from '../store/keys.js';
import { enqueue, guardMarkers, landed, mark, type Outgoing } from '../store/queue.js';
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
    this.batcher = new Batcher((batch) => this.commit(batch), (out) => out.bytes.length, LIMITS, {
      started: (flushed) => rt.trackSending(flushed),
      failure: (e, out) => aboutMessage(e, out.envelope.id),
    });
  }

  /** Resolves once `out` is durably enqueued. */
  send(out: Outgoing): Promise<void> {
    return this.batcher.add(out);
  }

  /**
   * The messages whose idempotency key (if any) was not used yet; remembers their keys (a call's
   * with its message id). A message left out learns which message used its key first.
   */
  private async fresh(tx: Transaction, messages: readonly Outgoing[]): Promise<Outgoing[]> {
    const keyed = messages.filter((m) => m.idempotencyKey !== undefined);
    const used = new Map<string, string>();
    const firsts = await Promise.all(keyed.map((m) => firstUse(tx, this.keys, m.idempotencyKey!)));
    keyed.forEach((m, i) => firsts[i] !== undefined && used.set(m.idempotencyKey!, firsts[i]));
    return messages.filter((m) => {
      const key = m.idempotencyKey;
      m.duplicateOf = key === undefined ? undefined : used.get(key);
      if (key === undefined) return true;
      if (m.duplicateOf !== undefined) return false;
      const id = m.envelope.keep === true ? m.envelope.id : undefined;
      used.set(key, id ?? '');
      remember(tx, this.keys, key, Date.now(), id);
      return true;
    });
  }

  /**
   * Commits the messages exactly once: processed inline when this process serves the instance and
   * it is idle (see serve/inline.ts), enqueued otherwise. Every attempt takes a read conflict on the
   * messages' markers, so two attempts never both commit. After an ambiguous commit
   * (`commit_unknown_result`, or an engine failure outside the contract) the next attempt first
   * reads the markers, in the same transaction, and writes nothing if an earlier attempt landed;
   * only the first attempt may go inline, so a marker written inline names that attempt. A store
   * unavailable past the deadline fails with `store_unavailable` saying whether the messages may be
   * stored; waiting for admission past its deadline fails with `overloaded` before anything is written.
   */
  private async commit(messages: readonly Outgoing[]): Promise<void> {
    const backend = this.rt.backend;
    const started = Date.now();
    const until = this.rt.storeDeadline();
    const what = `Sending to '${this.name}/${this.id}'`;
    let uncertain = false;
    let inline = true;
    let inlineCommit: Inlined | undefined;
    for (;;) {
      const consumer = inline && !uncertain ? this.rt.inlineConsumer(this.name, this.id) : undefined;
      let written: Outgoing[] = [];
      let processed: Inlined | undefined;
      let before: 'inline' | 'queue' | undefined;
      // Replies this process read and has not cleared yet: cleared in this commit, not one of their own.
      const clears = this.rt.replies.clearsToWrite();
      try {
        await backend.transact(
          async (tx) => {
            written = [];
            processed = undefined;
            for (const [, clear] of clears) clear(tx);
            guardMarkers(tx, this.keys, messages);
            if (uncertain && (before = await landed(tx, this.keys, messages)) !== undefined) return;
            // The idempotency check's reads and the inline path's go out together (one round trip on FoundationDB).
            const fresh = this.fresh(tx, messages);
            const pending = consumer?.processInline(tx, fresh);
            pending?.catch(() => {}); // awaited below once `fresh` succeeded; a failure of `fresh` is reported by `fresh`
            written = await fresh;
            processed = await pending;
            if (processed !== undefined) mark(tx, this.keys, written, true);
            else if (written.length > 0) enqueue(tx, this.keys, written);
          },
          // Settling an ambiguous attempt is not new work: it waits for its turn, as long as it takes.
          { lane: this.lane, deadline: uncertain ? undefined : backend.deadline(), until, what },
        );
      } catch (e) {
        if (processed !== undefined && !uncertain && isLimitError(e)) {
          // Processed inline, the commit broke a store limit: enqueue instead, and the consumer
          // splits the batch or applies the failure policy to the message at fault.
          inline = false;
          continue;
        }
        if (isAmbiguous(e) && written.length === 0) return; // the attempt wrote no message: nothing to settle
        const ambiguous = isAmbiguous(e);
        if (ambiguous && !uncertain) inlineCommit = processed;
        uncertain ||= ambiguous;
        if (ambiguous && Date.now() < until) continue;
        throw uncertain ? new StoreUnavailableError(what, Date.now() - started, 'unknown', e) : e;
      }
      this.rt.replies.clearsCommitted(clears);
      const inlined = before === 'inline' || (before === undefined && processed !== undefined);
      this.rt.observer.sent(this.name, this.id, before === undefined ? written : messages.filter((m) => m.duplicateOf === undefined), inlined ? 'inline' : 'queue');
      if (before === 'inline') inlineCommit?.run();
      else if (before === 'queue') this.rt.enqueued$.next({ name: this.name, id: this.id });
      else if (processed !== undefined) processed.run();
      else if (written.length > 0) this.rt.enqueued$.next({ name: this.name, id: this.id });
      return;
    }
  }
}
