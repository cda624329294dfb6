/**
 * Idempotent dispatch and call: `dispatch.x(payload, { idempotencyKey })` enqueues at most once per
 * key and actor instance within IDEMPOTENCY_WINDOW_MS. Each key is stored twice: by key (to check)
 * and by time (to expire old keys with range reads, without scanning every key). A call's key also
 * records its message id, and its reply is kept as long as the key (see {@link keepReply}), so a
 * retried call gets the first one's reply.
 * @internal
 */
import type { Transaction } from '../backend/contract.js';
import { clearBlob, groupBlobs, writeBlob } from './blob.js';
import type { ActorKeys } from './keys.js';
import type { StoredReply } from './queue.js';
import { decodeValue, encodeValue } from '../state/codec.js';

/** How long an idempotency key is remembered (documented in README). */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;
const PRUNE_BATCH = 1_000;

/** Has `key` been used within the window? Adds a read conflict on it, so two racing producers cannot both enqueue. */
export async function seen(tx: Transaction, keys: ActorKeys, key: string): Promise<boolean> {
  return (await tx.get(keys.idempotency.pack([key]))) !== undefined;
}

/**
 * Which message first used `key`: undefined when the key is unused, '' when it was a dispatch's
 * (no message id is recorded). Adds a read conflict on the key like {@link seen}.
 */
export async function firstUse(tx: Transaction, keys: ActorKeys, key: string): Promise<string | undefined> {
  const value = await tx.get(keys.idempotency.pack([key]));
  return value === undefined ? undefined : Buffer.from(value).subarray(8).toString('latin1');
}

/** Remembers `key` as used now; for a call, by message `messageId` (whose reply is then kept). */
export function remember(tx: Transaction, keys: ActorKeys, key: string, now = Date.now(), messageId?: string): void {
  const time = Buffer.alloc(8);
  time.writeDoubleBE(now);
  tx.set(keys.idempotency.pack([key]), messageId === undefined ? time : Buffer.concat([time, Buffer.from(messageId, 'latin1')]));
  tx.set(keys.idempotencyByTime.pack(messageId === undefined ? [now, key] : [now, key, messageId]), Buffer.alloc(0));
}

/** Keeps the reply of an idempotent call (one whose envelope says `keep`) as long as its key. */
export function keepReply(tx: Transaction, keys: ActorKeys, messageId: string, reply: StoredReply): void {
  writeBlob(tx, keys.keptReplies, [messageId], encodeValue(reply));
}

/** The kept reply of an idempotent call, if it was processed (read without clearing it). */
export async function readKeptReply(tx: Transaction, keys: ActorKeys, messageId: string): Promise<StoredReply | undefined> {
  const kvs = await tx.getRange(keys.keptReplies.pack([messageId]), keys.keptReplies.range([messageId]).end);
  const bytes = groupBlobs(keys.keptReplies, kvs, 1)[0]?.bytes;
  return bytes === undefined ? undefined : (decodeValue(bytes) as StoredReply);
}

/** Forgets up to PRUNE_BATCH keys older than the window. */
export async function pruneIdempotencyKeys(tx: Transaction, keys: ActorKeys, now = Date.now()): Promise<void> {
  const { begin } = keys.idempotencyByTime.range();
  const end = keys.idempotencyByTime.pack([now - IDEMPOTENCY_WINDOW_MS]);
  const old = await tx.getRange(begin, end, { limit: PRUNE_BATCH, snapshot: true });
  for (const kv of old) {
    const [, key, messageId] = keys.idempotencyByTime.unpack(kv.key);
    if (typeof key === 'string') tx.clear(keys.idempotency.pack([key]));
    if (typeof messageId === 'string') clearBlob(tx, keys.keptReplies, [messageId]);
    tx.clear(kv.key);
  }
}
