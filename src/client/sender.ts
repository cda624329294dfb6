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
import { remember, seen } from '../store/idempotency.js';
import type { ActorKeys } from '../store/keys.js';
import { enqueue, guardMarkers, landed, mark, type Outgoing } from '../store/queue.js';
import type { Runtime } from '../runtime/runtime.js';

/** Most messages / bytes one enqueue transaction carries (far below FoundationDB's 10 MB). */
const MAX_FLUSH_MESSAGES = 1_000;
const MAX_FLUSH_BYTES = 4_000_000;

interface Pending {
  readonly out: Outgoing;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

export class Sender {
  private pending: Pending[] = [];
  private flushing = false;
  /** Its turn in admission control (see runtime/admission.ts): sends queue fairly per instance. */
  private readonly lane: { readonly verb: string; readonly key: string };

  constructor(
    private readonly rt: Runtime,
    private readonly name: string,
    private readonly id: string,
    private readonly keys: ActorKeys,
  ) {
    this.lane = { verb: 'send', key: `${name}/${id}` };
  }

  /** Resolves once `out` is durably enqueued. */
  send(out: Outgoing): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ out, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        const flushed = new Promise<void>((done) => queueMicrotask(() => void this.flush().finally(done)));
        this.rt.sending.add(flushed);
        void flushed.then(() => this.rt.sending.delete(flushed));
      }
    });
  }

  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.next();
      try {
        await this.commit(batch.map((p) => p.out));
        for (const p of batch) p.resolve();
      } catch (e) {
        for (const p of batch) p.reject(aboutMessage(e, p.out.envelope.id));
      }
    }
    this.flushing = false;
  }

  private next(): Pending[] {
    let bytes = 0;
    let n = 0;
    while (n < this.pending.length && n < MAX_FLUSH_MESSAGES && (n === 0 || bytes + this.pending[n]!.out.bytes.length <= MAX_FLUSH_BYTES)) {
      bytes += this.pending[n]!.out.bytes.length;
      n++;
    }
    return this.pending.splice(0, n);
  }

  /** The messages whose idempotency key (if any) was not used yet; remembers their keys. */
  private async fresh(tx: Transaction, messages: Outgoing[]): Promise<Outgoing[]> {
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
   * it is idle (see serve/inline.ts), enqueued otherwise. Every attempt takes a read conflict on the
   * messages' markers, so two attempts never both commit. After an ambiguous commit
   * (`commit_unknown_result`, or an engine failure outside the contract) the next attempt first
   * reads the markers, in the same transaction, and writes nothing if an earlier attempt landed;
   * only the first attempt may go inline, so a marker written inline names that attempt. A store
   * unavailable past the deadline fails with `store_unavailable` saying whether the messages may be
   * stored; waiting for admission past its deadline fails with `overloaded` before anything is written.
   */
  private async commit(messages: Outgoing[]): Promise<void> {
    const backend = this.rt.backend;
    const started = Date.now();
    const until = this.rt.storeDeadline();
    const what = `Sending to '${this.name}/${this.id}'`;
    let uncertain = false;
    let inlineCommit: (() => void) | undefined;
    for (;;) {
      const consumer = uncertain ? undefined : this.rt.inlineConsumer(this.name, this.id);
      let written: Outgoing[] = [];
      let processed: (() => void) | undefined;
      let before: 'inline' | 'queue' | undefined;
      try {
        await backend.transact(
          async (tx) => {
            written = [];
            processed = undefined;
            guardMarkers(tx, this.keys, messages);
            if (uncertain && (before = await landed(tx, this.keys, messages)) !== undefined) return;
            written = await this.fresh(tx, messages);
            processed = written.length > 0 && consumer !== undefined ? await consumer.processInline(tx, written) : undefined;
            if (processed !== undefined) mark(tx, this.keys, written, true);
            else if (written.length > 0) enqueue(tx, this.keys, written);
          },
          // Settling an ambiguous attempt is not new work: it waits for its turn, as long as it takes.
          { lane: this.lane, deadline: uncertain ? undefined : backend.deadline(), until, what },
        );
      } catch (e) {
        if (isAmbiguous(e) && written.length === 0) return; // the attempt wrote no message: nothing to settle
        const ambiguous = isAmbiguous(e);
        if (ambiguous && !uncertain) inlineCommit = processed;
        uncertain ||= ambiguous;
        if (ambiguous && Date.now() < until) continue;
        throw uncertain ? new StoreUnavailableError(what, Date.now() - started, 'unknown', e) : e;
      }
      if (before === 'inline') inlineCommit?.();
      else if (before === 'queue') this.rt.enqueued$.next({ name: this.name, id: this.id });
      else if (processed !== undefined) processed();
      else if (written.length > 0) this.rt.enqueued$.next({ name: this.name, id: this.id });
      return;
    }
  }
}
