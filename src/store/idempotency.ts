/**
 * Idempotent dispatch: `dispatch.x(payload, { idempotencyKey })` enqueues at most once per key and
 * actor instance within IDEMPOTENCY_WINDOW_MS. Each key is stored twice: by key (to check) and by
 * time (to expire old keys with range reads, without scanning every key).
 * @internal
 */
import type { Transaction } from '../backend/contract.js';
import type { ActorKeys } from './keys.js';

/** How long an idempotency key is remembered (documented in README). */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;
const PRUNE_BATCH = 1_000;

/** Has `key` been used within the window? Adds a read conflict on it, so two racing producers cannot both enqueue. */
export async function seen(tx: Transaction, keys: ActorKeys, key: string): Promise<boolean> {
  return (await tx.get(keys.idempotency.pack([key]))) !== undefined;
}

/** Remembers `key` as used now. */
export function remember(tx: Transaction, keys: ActorKeys, key: string, now = Date.now()): void {
  const time = Buffer.alloc(8);
  time.writeDoubleBE(now);
  tx.set(keys.idempotency.pack([key]), time);
  tx.set(keys.idempotencyByTime.pack([now, key]), Buffer.alloc(0));
}

/** Forgets up to PRUNE_BATCH keys older than the window. */
export async function pruneIdempotencyKeys(tx: Transaction, keys: ActorKeys, now = Date.now()): Promise<void> {
  const { begin } = keys.idempotencyByTime.range();
  const end = keys.idempotencyByTime.pack([now - IDEMPOTENCY_WINDOW_MS]);
  const old = await tx.getRange(begin, end, { limit: PRUNE_BATCH, snapshot: true });
  for (const kv of old) {
    const [, key] = keys.idempotencyByTime.unpack(kv.key);
    if (typeof key === 'string') tx.clear(keys.idempotency.pack([key]));
    tx.clear(kv.key);
  }
}
