/**
 * `system.listen`: a named, durable consumer of a definition's change feed. One process at a time
 * is active (a lease); the others stand by. Each round reads a page after the stored checkpoint,
 * runs the handler on each change in feed order, and commits what the handlers sent together with
 * the new checkpoint in one transaction that checks the checkpoint and the lease have not moved:
 * sends reach dgen exactly once, while the handler itself may run again (after a crash, a lost
 * lease or a conflict), so its other effects are at-least-once under the change's key.
 * @internal
 */
import type { Transaction, Watch } from '../backend/contract.js';
import type { ActorDefinition } from '../define/actor.js';
import type { Runtime } from '../runtime/runtime.js';
import { holdLease, releaseLease } from '../store/lease.js';
import { enqueue, type StoredError } from '../store/queue.js';
import { encodeValue } from '../state/codec.js';
import { randomHex } from '../util/random-hex.js';
import type { Change } from './change.js';
import { readCheckpoint, samePosition, writeCheckpoint, type Checkpoint } from './checkpoint.js';
import { encodeCursor, stampItem } from './cursor.js';
import { toChange } from './feed.js';
import { feedKeys, listenerKeys, type FeedKeys, type ListenerKeys } from './keys.js';
import { listenerTx, type ListenerSend, type ListenerTx } from './listener-tx.js';
import { isExpired, lastPosition, readCount, readLowWater, readPage, type FeedEntry } from './page.js';

/**
 * What a listener does with a change its handler keeps failing on: stop there, or set it aside and go on.
 *
 * @example
 * ```ts
 * const onFailure: ListenerFailurePolicy = 'dead-letter';
 * system.listen({ name: 'mailer', on: Order, onFailure, handler: sendReceipt });
 * ```
 */
export type ListenerFailurePolicy = 'halt' | 'dead-letter';

/** The settings of a running listener, resolved. */
export interface ListenerSettings {
  readonly name: string;
  readonly def: ActorDefinition<unknown>;
  readonly actions: ReadonlySet<string> | undefined;
  readonly handler: (change: Change, tx: ListenerTx) => unknown;
  readonly batchSize: number;
  readonly from: 'start' | 'now';
  readonly onFailure: ListenerFailurePolicy;
  readonly attempts: number;
  readonly retryMs: number;
  readonly leaseMs: number;
}

type Round = { readonly kind: 'standby'; readonly until: number } | { readonly kind: 'idle' | 'halted'; readonly watch: Watch } | { readonly kind: 'done' | 'moved' };

export class Listener {
  private readonly owner = randomHex(8);
  private readonly feed: FeedKeys;
  private readonly keys: ListenerKeys;
  private readonly stopper = new AbortController();
  private watch: Watch | undefined;
  private reportedHalt: string | undefined;
  readonly running: Promise<void>;

  constructor(
    private readonly rt: Runtime,
    private readonly s: ListenerSettings,
  ) {
    this.feed = feedKeys(rt.layout, s.def.name);
    this.keys = listenerKeys(rt.layout, s.name);
    const stop = () => void this.stop();
    rt.shutdown.signal.addEventListener('abort', stop);
    this.running = this.loop().finally(() => rt.shutdown.signal.removeEventListener('abort', stop));
  }

  private get stopped(): boolean {
    return this.stopper.signal.aborted || this.rt.closed || this.rt.backend.closed;
  }

  async stop(): Promise<void> {
    if (!this.stopper.signal.aborted) this.stopper.abort();
    this.watch?.cancel();
    await this.running;
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        const r = await this.round();
        failures = 0;
        if (r.kind === 'standby') await this.sleep(Math.min(this.s.leaseMs, Math.max(1, r.until - Date.now())));
        else if (r.kind === 'idle' || r.kind === 'halted') await this.wait(r.watch);
      } catch (e) {
        if (this.stopped) break;
        this.rt.emit({ type: 'listener-error', listener: this.s.name, error: e });
        await this.sleep(Math.min(5_000, this.s.retryMs * 2 ** failures++));
      }
    }
    await this.rt.backend.transact((tx) => releaseLease(tx, this.keys, this.owner), { idempotent: true }).catch(() => undefined);
  }

  /** Waits for the feed (or a resumed halt) to move, and at most a third of the lease, so it is renewed. */
  private async wait(watch: Watch): Promise<void> {
    this.watch = watch;
    if (this.stopped) watch.cancel();
    const timer = setTimeout(() => watch.cancel(), this.s.leaseMs / 3);
    await watch.promise;
    clearTimeout(timer);
  }

  private sleep(ms: number): Promise<void> {
    const signal = this.stopper.signal;
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** One round: hold the lease, read a page, handle it, commit. */
  private async round(): Promise<Round> {
    const read = await this.rt.backend.transact(async (tx) => {
      const lease = await holdLease(tx, this.keys, this.owner, this.s.leaseMs);
      if (!lease.held) return { kind: 'standby' as const, until: lease.until };
      const cp = (await readCheckpoint(tx, this.keys.checkpoint)) ?? (await this.initial(tx));
      if (cp.halted !== undefined) return { kind: 'halted' as const, cp, watch: tx.watch(this.keys.checkpoint), token: lease.lease.token };
      if (cp.position !== undefined && isExpired(cp.position, await readLowWater(tx, this.feed))) {
        const halted = { cursor: encodeCursor(cp.position), error: { name: 'CursorExpiredError', code: 'cursor_expired', message: `The feed of '${this.s.def.name}' was pruned past this listener's checkpoint.` }, at: Date.now() };
        writeCheckpoint(tx, this.keys.checkpoint, { ...cp, halted });
        return { kind: 'halted' as const, cp: { ...cp, halted }, watch: tx.watch(this.keys.checkpoint), token: lease.lease.token };
      }
      const entries = await readPage(tx, this.feed, cp.position, this.s.batchSize);
      const watch = entries.length === 0 ? tx.watch(this.feed.count) : undefined;
      return { kind: 'page' as const, cp, entries, watch, token: lease.lease.token };
    });
    if (read.kind === 'standby') return read;
    if (read.kind === 'halted') {
      this.reportHalt(read.cp);
      return { kind: 'halted', watch: read.watch };
    }
    this.reportedHalt = undefined;
    if (read.watch !== undefined) return { kind: 'idle', watch: read.watch };
    return this.handle(read.cp, read.entries, read.token);
  }

  /** The checkpoint of a listener that has none yet: before the oldest entry kept, or after the newest. */
  private async initial(tx: Transaction): Promise<Checkpoint> {
    const lw = await readLowWater(tx, this.feed);
    const cp: Checkpoint = this.s.from === 'now' ? { on: this.s.def.name, position: await lastPosition(tx, this.feed), passed: await readCount(tx, this.feed) } : { on: this.s.def.name, position: lw.position, passed: lw.pruned };
    writeCheckpoint(tx, this.keys.checkpoint, cp);
    return cp;
  }

  /** Runs the handler over the page, then commits the sends with the checkpoint. */
  private async handle(cp: Checkpoint, entries: FeedEntry[], token: number): Promise<Round> {
    const sends: ListenerSend[] = [];
    let done = 0;
    for (const e of entries) {
      if (this.stopped) break;
      if (!this.wanted(e)) {
        done++;
        continue;
      }
      const ran = await this.runHandler(e);
      if (ran.ok) {
        sends.push(...ran.sends);
        done++;
        continue;
      }
      // The changes before it commit with what the failure leaves: a halt, or a dead letter and the cursor past it.
      const moved = await this.commit(cp, entries.slice(0, done), sends, token, { entry: e, error: ran.error });
      if (moved) return { kind: 'moved' };
      this.rt.emit(this.s.onFailure === 'halt' ? { type: 'listener-halted', listener: this.s.name, cursor: encodeCursor(e.position), error: ran.thrown } : { type: 'listener-dead-lettered', listener: this.s.name, cursor: encodeCursor(e.position), error: ran.thrown });
      if (this.s.onFailure === 'halt') this.reportedHalt = encodeCursor(e.position);
      return { kind: 'done' };
    }
    if (done === 0) return { kind: 'done' };
    return (await this.commit(cp, entries.slice(0, done), sends, token)) ? { kind: 'moved' } : { kind: 'done' };
  }

  private wanted(e: FeedEntry): boolean {
    return this.s.actions === undefined || e.messages.some((m) => this.s.actions!.has(m.action));
  }

  /** Runs the handler on one change, retried with backoff; its sends, or the error it kept failing with. */
  private async runHandler(e: FeedEntry): Promise<{ ok: true; sends: ListenerSend[] } | { ok: false; error: StoredError; thrown: unknown }> {
    const change = toChange(this.s.def, e, undefined);
    const cursor = encodeCursor(e.position);
    for (let attempt = 1; ; attempt++) {
      const sends: ListenerSend[] = [];
      try {
        await this.s.handler(change, listenerTx(this.rt, `${this.s.name}/${cursor}`, sends));
        return { ok: true, sends };
      } catch (thrown) {
        const willRetry = attempt < this.s.attempts && !this.stopped;
        this.rt.emit({ type: 'listener-failed', listener: this.s.name, cursor, attempt, willRetry, error: thrown });
        if (!willRetry) return { ok: false, error: errorOf(thrown), thrown };
        await this.sleep(this.s.retryMs * 2 ** (attempt - 1));
      }
    }
  }

  /**
   * Commits the handled `entries` (their sends, and the checkpoint after the last), and a failure
   * at the entry after them, if any. True when the checkpoint or the lease moved meanwhile
   * (another process handled these changes): nothing was written.
   */
  private async commit(cp: Checkpoint, entries: FeedEntry[], sends: ListenerSend[], token: number, failure?: { entry: FeedEntry; error: StoredError }): Promise<boolean> {
    const moved = await this.rt.backend.transact(
      async (tx) => {
        const [now, lease] = await Promise.all([readCheckpoint(tx, this.keys.checkpoint), holdLease(tx, this.keys, this.owner, this.s.leaseMs)]);
        if (now === undefined || !samePosition(now.position, cp.position) || now.halted !== undefined || !lease.held || lease.lease.token !== token) return true;
        const byTarget = new Map<string, ListenerSend[]>();
        for (const send of sends) byTarget.set(JSON.stringify([send.name, send.id]), [...(byTarget.get(JSON.stringify([send.name, send.id])) ?? []), send]);
        for (const group of byTarget.values()) enqueue(tx, this.rt.layout.actor(group[0]!.name, group[0]!.id), group.map((s) => s.out));
        let next: Checkpoint = { ...cp, position: entries.at(-1)?.position ?? cp.position, passed: cp.passed + entries.length };
        if (failure !== undefined) {
          const cursor = encodeCursor(failure.entry.position);
          if (this.s.onFailure === 'halt') next = { ...next, halted: { cursor, error: failure.error, at: Date.now() } };
          else {
            tx.set(this.keys.deadLetters.pack([stampItem(failure.entry.position)]), encodeValue({ id: failure.entry.id, version: failure.entry.version, messages: failure.entry.messages, error: failure.error, at: Date.now() }));
            next = { ...next, position: failure.entry.position, passed: next.passed + 1 };
          }
        }
        writeCheckpoint(tx, this.keys.checkpoint, next);
        return false;
      },
      { idempotent: true }, // the checkpoint check makes a second commit of the same body write nothing
    );
    if (!moved) for (const send of sends) this.rt.enqueued$.next({ name: send.name, id: send.id });
    return moved;
  }

  private reportHalt(cp: Checkpoint): void {
    if (cp.halted === undefined || this.reportedHalt === cp.halted.cursor) return;
    this.reportedHalt = cp.halted.cursor;
    this.rt.emit({ type: 'listener-halted', listener: this.s.name, cursor: cp.halted.cursor, error: cp.halted.error });
  }
}

/** A handler's error as stored in a halt or a dead letter: class name, message, and its code or `listener_failed`. */
function errorOf(e: unknown): StoredError {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e), code: 'listener_failed' };
  const code = (e as { code?: unknown }).code;
  return { name: e.name, message: e.message, code: typeof code === 'string' ? code : 'listener_failed' };
}
