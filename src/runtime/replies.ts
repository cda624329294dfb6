/**
 * Replies for the calls of one process: one listener, not one transaction per waiting call.
 *
 * Every call this process makes carries its inbox id (`Envelope.replyTo`). A consumer in another
 * process that answers it writes the reply under the actor (as always), plus a pointer under this
 * inbox and a bump of the inbox's notify key, in the batch's own transaction. This listener
 * watches that one key; when it changes it reads the pointers in pages and, in the same read-only
 * transaction, the replies they point to, and settles the callers at once. Clearing what it read
 * rides in the process's next commit (the sender's next enqueue), or commits on its own a second
 * later, so no writing commit of the caller stands between its reply being stored and its caller
 * hearing of it. A wake-up costs a read-only
 * transaction per page of replies that arrived, whatever the number of callers waiting; a waiting
 * call costs a map entry (see BENCHMARKS.md, "memory per pending call"), and the process holds one
 * watch per engine instead of one per call.
 *
 * Callers answered by a consumer of this process are settled directly by it (no reply is stored).
 * Callers awaiting a message sent by another process (`ref.reply`) have no pointer here: their
 * reply keys are read in pages too, every `LATE_POLL_MS` while any of them waits.
 * @internal
 */
import { randomHex } from '../util/random-hex.js';
import type { Backend, Transaction, Watch } from '../backend/contract.js';
import type { ActorKeys, Layout } from '../store/keys.js';
import { clearReply, readPointer, readReply, type StoredReply } from '../store/queue.js';

/** Pointers (and late replies) read per transaction. */
const PAGE = 512;
/** Replies read and not yet cleared past which the listener waits for their clearing commit before it reads on. */
const MAX_SKIPPED = 4 * PAGE;
/** How often replies of messages sent by other processes are looked for. */
const LATE_POLL_MS = 100;
/**
 * Replies read are cleared with this process's next commit, or on their own after this long: a
 * caller does not wait for a clearing commit before it has its reply.
 */
const CLEAR_AFTER_MS = 1_000;
/** A safety net: the inbox is read at least this often while calls wait, even without a wake-up. */
const FALLBACK_MS = 2_000;

/** Someone in this process is waiting for the reply to a message. @internal */
export interface Waiter {
  settle(reply: StoredReply): void;
  /** Ends the wait without a reply (the system closed). */
  fail(error: Error): void;
  /** The actor the message went to: where its reply is stored. */
  readonly keys?: ActorKeys;
  /** The message was not sent with this process's inbox (`ref.reply`): its reply key is polled. */
  readonly late?: boolean;
}

/** Clears one reply read (its pointer, and the reply itself). @internal */
export type Clear = (tx: Transaction) => void;
const NONE: ReadonlyArray<readonly [string, Clear]> = [];

type ReadPage = { readonly replies: Array<[string, StoredReply]>; readonly more: boolean; readonly watch: Watch | undefined };

export class ReplyInbox {
  /** This process's inbox id: calls carry it, consumers point their replies at it. */
  readonly id = randomHex(8);
  readonly waiters = new Map<string, Waiter>();
  private late = 0;
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** Replies read and not yet cleared, by pointer key (latin1) or `late:<id>`. */
  private readonly clears = new Map<string, Clear>();
  private clearTimer: NodeJS.Timeout | undefined;
  /** The clears committing on their own while the listener reads on. */
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly backend: Backend,
    private readonly layout: Layout,
    private readonly isClosed: () => boolean,
  ) {}

  /** Registers a waiter for message `id` and makes sure the listener runs. */
  expect(id: string, waiter: Waiter): void {
    const replaced = this.waiters.get(id);
    if (replaced?.late === true) this.late--;
    this.waiters.set(id, waiter);
    if (waiter.late === true) this.late++;
    this.listen();
    if (waiter.late === true) this.wake?.();
  }

  /** Removes the waiter of message `id`, if it is still `waiter`. */
  forget(id: string, waiter: Waiter): void {
    if (this.waiters.get(id) !== waiter) return;
    this.waiters.delete(id);
    if (waiter.late === true) this.late--;
  }

  /** Looks again now (a message of this process was just enqueued; a reply may come any time). */
  private listen(): void {
    if (this.running !== undefined) return;
    this.running = this.loop()
      .catch(() => {})
      .finally(() => {
        this.running = undefined;
        if (this.hasRemoteWaiters() && !this.stopped()) this.listen();
      });
  }

  private stopped(): boolean {
    return this.isClosed() || this.backend.closed;
  }

  private hasRemoteWaiters(): boolean {
    return this.waiters.size > 0;
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopped() && this.hasRemoteWaiters()) {
      let page: ReadPage;
      try {
        page = await this.readPage();
        failures = 0;
      } catch {
        failures++;
        await this.pause(Math.min(1_000, 10 * 2 ** failures), undefined);
        continue;
      }
      for (const [id, reply] of page.replies) this.waiters.get(id)?.settle(reply);
      if (page.more) continue;
      await this.pause(this.late > 0 ? LATE_POLL_MS : FALLBACK_MS, page.watch);
    }
  }

  /** Waits for the watch, a wake-up or `ms`, whichever comes first. */
  private async pause(ms: number, watch: Watch | undefined): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([watch?.promise, new Promise<void>((r) => (this.wake = r)), new Promise<void>((r) => (timer = setTimeout(r, ms)))].filter((p) => p !== undefined));
    clearTimeout(timer);
    this.wake = undefined;
    watch?.cancel();
  }

  /**
   * One read-only transaction (no commit, no fsync): the next page of pointers and the replies they
   * point to, for callers still waiting; the replies of late waiters; and a watch on the notify key
   * when the page was the last. What was read is cleared later (see {@link clearsToWrite}); until
   * then its pointers are skipped. A pointer without a waiter is dropped and its reply left for
   * `ref.reply`.
   */
  private async readPage(): Promise<ReadPage> {
    if (this.clears.size >= PAGE) {
      // Committed beside the reads, not before them: reads skip what is being cleared. Past a few
      // pages of it, wait rather than read the same pointers again and again.
      const flushing = (this.flushing ??= this.commitClears().finally(() => (this.flushing = undefined)));
      if (this.clears.size >= MAX_SKIPPED) await flushing;
    }
    const inbox = this.layout.inbox(this.id);
    const skip = this.clears;
    let found: Array<[string, Clear]> = [];
    const page = await this.backend.transact(async (tx): Promise<ReadPage> => {
      found = [];
      const { begin, end } = inbox.entries.range();
      const limit = PAGE + skip.size;
      const pointers = await tx.getRange(begin, end, { limit, snapshot: true });
      const lookups: Array<Promise<[string, StoredReply | undefined]>> = [];
      for (const kv of pointers) {
        const at = kv.key.toString('latin1');
        if (skip.has(at)) continue;
        const pointer = kv.key;
        const id = inbox.entries.unpack(pointer)[0] as string;
        const waiter = this.waiters.get(id);
        if (waiter === undefined) {
          found.push([at, (t) => t.clear(pointer)]);
          continue;
        }
        const { name, id: actorId, reply } = readPointer(kv.value);
        const keys = waiter.keys ?? this.layout.actor(name, actorId);
        found.push([at, (t) => (t.clear(pointer), clearReply(t, keys, id))]);
        lookups.push(reply !== undefined ? Promise.resolve([id, reply]) : readReply(tx, keys, id).then((r) => [id, r]));
      }
      if (this.late > 0) {
        let n = 0;
        for (const [id, w] of this.waiters) {
          if (w.late !== true || w.keys === undefined || n++ >= PAGE) continue;
          const keys = w.keys;
          lookups.push(
            readReply(tx, keys, id).then((r) => {
              if (r !== undefined) found.push([`late:${id}`, (t) => clearReply(t, keys, id)]);
              return [id, r];
            }),
          );
        }
      }
      const replies = (await Promise.all(lookups)).filter((r): r is [string, StoredReply] => r[1] !== undefined);
      const more = pointers.length === limit;
      return { replies, more, watch: more ? undefined : tx.watch(inbox.notify) };
    });
    for (const [at, clear] of found) this.clears.set(at, clear);
    this.scheduleClears();
    return page;
  }

  /**
   * The clears of replies already read, for a transaction this process commits anyway (the next
   * enqueue of its sender, see client/sender.ts): they ride in its commit instead of costing one of
   * their own. Blind writes: they add no read conflict to that transaction. Pass the same list to
   * {@link clearsCommitted} once it committed.
   */
  clearsToWrite(): ReadonlyArray<readonly [string, Clear]> {
    return this.clears.size === 0 ? NONE : [...this.clears];
  }

  /** The clears `written` (from {@link clearsToWrite}) committed: they are no longer pending. */
  clearsCommitted(written: ReadonlyArray<readonly [string, Clear]>): void {
    for (const [at, clear] of written) if (this.clears.get(at) === clear) this.clears.delete(at);
    if (this.clears.size === 0) this.cancelClearTimer();
  }

  /** Commits the pending clears in a transaction of their own (the timer, or close), after the one in flight. */
  async flushClears(): Promise<void> {
    await this.flushing;
    await this.commitClears();
  }

  private async commitClears(): Promise<void> {
    this.cancelClearTimer();
    const written = this.clearsToWrite();
    if (written.length === 0 || this.backend.closed) return;
    try {
      await this.backend.transact((tx) => {
        for (const [, clear] of written) clear(tx);
      });
      this.clearsCommitted(written);
    } catch {
      // Kept for the next commit: clearing is housekeeping (unclaimed replies expire with their actor's markers).
      this.scheduleClears();
    }
  }

  /** Clears not carried by another commit within CLEAR_AFTER_MS commit on their own. */
  private scheduleClears(): void {
    if (this.clears.size === 0 || this.clearTimer !== undefined || this.stopped()) return;
    this.clearTimer = setTimeout(() => void this.flushClears(), CLEAR_AFTER_MS);
    this.clearTimer.unref();
  }

  private cancelClearTimer(): void {
    clearTimeout(this.clearTimer);
    this.clearTimer = undefined;
  }
}
