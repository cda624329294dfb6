/**
 * Replies for the calls of one process: one listener, not one transaction per waiting call.
 *
 * Every call this process makes carries its inbox id (`Envelope.replyTo`). A consumer in another
 * process that answers it writes the reply under the actor (as always), plus a pointer under this
 * inbox and a bump of the inbox's notify key, in the batch's own transaction. This listener
 * watches that one key; when it changes it reads the pointers in pages and, in the same
 * transaction, the replies they point to, clears both and settles the callers. A wake-up costs a
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
import * as tuple from 'fdb-tuple';
import type { Backend, Watch } from '../backend/contract.js';
import { isDgenError } from '../errors.js';
import type { ActorKeys, Layout } from '../store/keys.js';
import { consumeReply, type StoredReply } from '../store/queue.js';

/** Pointers (and late replies) read per transaction. */
const PAGE = 512;
/** How often replies of messages sent by other processes are looked for. */
const LATE_POLL_MS = 100;
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

type ReadPage = { readonly replies: Array<[string, StoredReply]>; readonly more: boolean; readonly watch: Watch | undefined };

export class ReplyInbox {
  /** This process's inbox id: calls carry it, consumers point their replies at it. */
  readonly id = randomHex(8);
  readonly waiters = new Map<string, Waiter>();
  private late = 0;
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;

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
   * One transaction: the next page of pointers and the replies they point to (cleared, for
   * callers still waiting; a pointer without a waiter is dropped and its reply left for
   * `ref.reply`), the replies of late waiters, and a watch on the notify key when the page was the last.
   */
  private async readPage(): Promise<ReadPage> {
    const inbox = this.layout.inbox(this.id);
    let read: ReadPage | undefined;
    const body = async (tx: Parameters<Parameters<Backend['transact']>[0]>[0]): Promise<ReadPage> => {
      read = undefined;
      const { begin, end } = inbox.entries.range();
      const pointers = await tx.getRange(begin, end, { limit: PAGE });
      const lookups: Array<Promise<[string, StoredReply | undefined]>> = [];
      for (const kv of pointers) {
        tx.clear(kv.key);
        const id = inbox.entries.unpack(kv.key)[0] as string;
        if (!this.waiters.has(id)) continue;
        const [name, actorId] = tuple.unpack(kv.value) as [string, string];
        lookups.push(consumeReply(tx, this.layout.actor(name, actorId), id).then((r) => [id, r]));
      }
      if (this.late > 0) {
        let n = 0;
        for (const [id, w] of this.waiters) {
          if (w.late !== true || w.keys === undefined || n++ >= PAGE) continue;
          lookups.push(consumeReply(tx, w.keys, id).then((r) => [id, r]));
        }
      }
      const replies = (await Promise.all(lookups)).filter((r): r is [string, StoredReply] => r[1] !== undefined);
      const more = pointers.length === PAGE;
      read = { replies, more: true, watch: undefined }; // after an ambiguous commit: look again at once
      return { replies, more, watch: more ? undefined : tx.watch(inbox.notify) };
    };
    try {
      return await this.backend.transact(body);
    } catch (e) {
      // Clearing is housekeeping: when only that commit is ambiguous, the replies read are still the answer.
      if (read !== undefined && isDgenError(e, 'commit_unknown_result')) return read;
      throw e;
    }
  }
}
