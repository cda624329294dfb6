/**
 * The reply of a retried idempotent call: the retry's message was not enqueued (its key was used),
 * so it waits for the reply of the message that first used the key, kept under the actor for as
 * long as the key (see store/idempotency.ts). That reply is never consumed: every retry reads it.
 * Retries are rare, so each waits on its own: a watch on the kept reply's key, re-read at least
 * every POLL_MS.
 * @internal
 */
import { ActorError, CallAbortedError, CallTimeoutError, DgenError } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { readKeptReply } from '../store/idempotency.js';
import type { ActorKeys } from '../store/keys.js';
import type { StoredReply } from '../store/queue.js';

/** The longest a retry waits between two reads of the kept reply (a safety net for a missed watch). */
const POLL_MS = 1_000;

/**
 * Waits for the kept reply of message `first` and settles like a call: the value, or the first
 * message's error; `call_timeout` / `call_aborted` name `first`. A key first used by a dispatch has
 * no reply to wait for: `idempotency_key_used`.
 */
export async function awaitKeptReply(rt: Runtime, name: string, keys: ActorKeys, first: string, action: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<unknown> {
  if (first === '') {
    throw new DgenError('idempotency_key_used', `call.${action} on '${name}': its idempotencyKey was used by a dispatch, which has no reply to wait for; use a key of its own for the call.`);
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    rt.assertOpen();
    if (signal?.aborted === true) throw new CallAbortedError(name, action, first);
    const { reply, watch } = await rt.backend.transact(async (tx) => {
      const kept = await readKeptReply(tx, keys, first);
      return { reply: kept, watch: kept === undefined ? tx.watch(keys.keptReplies.pack([first])) : undefined };
    });
    if (reply !== undefined) return settled(reply, action);
    const left = deadline - Date.now();
    if (left <= 0) {
      watch?.cancel();
      throw new CallTimeoutError(name, action, timeoutMs, first);
    }
    await wake(watch?.promise, Math.min(left, POLL_MS), signal);
    watch?.cancel();
  }
}

function settled(reply: StoredReply, action: string): unknown {
  if (reply.ok) return reply.value;
  throw new ActorError({ ...reply.error, action });
}

/** Resolves when the watch fires, `ms` pass, or the signal aborts. */
async function wake(watched: Promise<unknown> | undefined, ms: number, signal: AbortSignal | undefined): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  await Promise.race([
    watched,
    new Promise<void>((r) => (timer = setTimeout(r, ms))),
    new Promise<void>((r) => signal?.addEventListener('abort', (onAbort = () => r()), { once: true })),
  ]);
  clearTimeout(timer);
  if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
}
