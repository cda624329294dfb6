/**
 * Batching of writes that wait for one commit: what is added while a commit is in flight goes
 * into the next one, in the order it was added, and commits never overlap. The ordered sender
 * (client/sender.ts) and delayed dispatches (time/dispatch.ts) both commit through one.
 * @internal
 */

/** Most items and bytes one commit carries (far below FoundationDB's 10 MB per transaction). */
export interface BatchLimits {
  readonly items: number;
  readonly bytes: number;
}

interface Waiting<T> {
  readonly item: T;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

export interface BatcherHooks<T> {
  /** Told of each run of commits as it starts (so that closing can wait for it). */
  readonly started?: (flushed: Promise<void>) => void;
  /** The error an item of a failed batch rejects with (default: the batch's error). */
  readonly failure?: (e: unknown, item: T) => unknown;
}

export class Batcher<T> {
  private pending: Waiting<T>[] = [];
  private flushing = false;

  constructor(
    /** Commits one batch; its outcome settles every item of the batch. */
    private readonly commit: (batch: readonly T[]) => Promise<void>,
    /** The bytes an item adds to a commit. */
    private readonly bytesOf: (item: T) => number,
    private readonly limits: BatchLimits,
    private readonly hooks: BatcherHooks<T> = {},
  ) {}

  /** Resolves once `item` is committed, rejects with its batch's error. */
  add(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.flushing) return;
      this.flushing = true;
      // A microtask later, so that everything issued in the same tick joins the first commit.
      const flushed = new Promise<void>((done) => queueMicrotask(() => void this.flush().finally(done)));
      this.hooks.started?.(flushed);
    });
  }

  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.next();
      try {
        await this.commit(batch.map((w) => w.item));
        for (const w of batch) w.resolve();
      } catch (e) {
        for (const w of batch) w.reject(this.hooks.failure === undefined ? e : this.hooks.failure(e, w.item));
      }
    }
    this.flushing = false;
  }

  /** The longest prefix of the pending items within the limits (at least one item). */
  private next(): Waiting<T>[] {
    let bytes = 0;
    let n = 0;
    while (n < this.pending.length && n < this.limits.items) {
      const size = this.bytesOf(this.pending[n]!.item);
      if (n > 0 && bytes + size > this.limits.bytes) break;
      bytes += size;
      n++;
    }
    return this.pending.splice(0, n);
  }
}
