/**
 * One call waiting for its reply. A single object is the waiter the reply listener settles
 * (runtime/replies.ts), the timer's argument and the abort listener (`handleEvent`), so a waiting
 * call costs this object, its promise and a timer: no closures, no suspended async frame
 * (BENCHMARKS.md, "memory per pending call").
 *
 * A call first settles its enqueue: if the enqueue fails that error is the answer (the message is
 * not stored); a timeout or an abort is reported only once the message is stored, as such. A reply
 * may arrive before the enqueue's promise resolves (a consumer of this process processed it
 * inline): it is kept until then.
 * @internal
 */
import { ActorError, CallAbortedError, CallTimeoutError } from '../errors.js';
import type { Waiter } from '../runtime/replies.js';
import type { Runtime } from '../runtime/runtime.js';
import type { ActorKeys } from '../store/keys.js';
import type { StoredReply } from '../store/queue.js';

export class PendingCall implements Waiter {
  readonly late: boolean;
  private enqueued: boolean;
  private done = false;
  private reply: StoredReply | undefined;
  /** A timeout or abort that came before the enqueue committed: reported once it did. */
  private early: Error | undefined;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly rt: Runtime,
    private readonly name: string,
    readonly keys: ActorKeys,
    private readonly id: string,
    private readonly action: string,
    private readonly timeoutMs: number,
    private readonly signal: AbortSignal | undefined,
    sent: Promise<void> | undefined,
    private readonly resolve: (value: unknown) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    this.late = sent === undefined;
    this.enqueued = sent === undefined;
    rt.replies.expect(id, this);
    this.timer = timeoutMs === Infinity ? undefined : setTimeout(expire, timeoutMs, this);
    if (signal !== undefined) {
      if (signal.aborted) this.handleEvent();
      else signal.addEventListener('abort', this, { once: true });
    }
    sent?.then(
      () => this.onEnqueued(),
      (e: unknown) => this.finish(e),
    );
  }

  /** The reply arrived (from the listener or a consumer of this process). */
  settle(reply: StoredReply): void {
    if (!this.enqueued) this.reply = reply;
    else this.finish(undefined, reply);
  }

  /** The call ends without its reply (the system closed); reported once its enqueue settled. */
  fail(error: Error): void {
    this.stop(error);
  }

  /** The signal fired. */
  handleEvent(): void {
    this.stop(new CallAbortedError(this.name, this.action, this.id));
  }

  timedOut(): void {
    this.stop(new CallTimeoutError(this.name, this.action, this.timeoutMs, this.id));
  }

  private stop(error: Error): void {
    if (this.enqueued) this.finish(error);
    else this.early ??= error;
  }

  private onEnqueued(): void {
    this.enqueued = true;
    if (this.reply !== undefined) this.finish(undefined, this.reply);
    else if (this.early !== undefined) this.finish(this.early);
  }

  private finish(error: unknown, reply?: StoredReply): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    this.signal?.removeEventListener('abort', this);
    this.rt.replies.forget(this.id, this);
    if (reply === undefined) this.reject(error);
    else if (reply.ok) this.resolve(reply.value);
    else this.reject(new ActorError({ ...reply.error, action: this.action }));
  }
}

function expire(call: PendingCall): void {
  call.timedOut();
}
