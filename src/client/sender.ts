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
        for (const p of batch) p.reject(e);
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
   * it is idle (see serve/inline.ts), enqueued otherwise. After an ambiguous commit, the marker of the
   * first message the attempt wrote tells whether it landed (also after an engine failure outside
   * the contract, `engine_failed`). Waiting for admission past its deadline fails with `overloaded`
   * before anything is written.
   */
  private async commit(messages: Outgoing[]): Promise<void> {
    const backend = this.rt.backend;
    for (;;) {
      const consumer = this.rt.inlineConsumer(this.name, this.id);
      let written: Outgoing[] = [];
      let processed: (() => void) | undefined;
      // Replies this process read and has not cleared yet: cleared in this commit, not one of their own.
      const clears = this.rt.replies.clearsToWrite();
      try {
        await backend.transact(
          async (tx) => {
            for (const [, clear] of clears) clear(tx);
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
      this.rt.replies.clearsCommitted(clears);
      if (processed !== undefined) processed();
      else if (written.length > 0) this.rt.enqueued$.next({ name: this.name, id: this.id });
      return;
    }
  }
}
