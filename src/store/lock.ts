/**
 * The durable lock of an actor instance while a thunk (a locked side effect) runs. It is written
 * in the same transaction as the state changes of the message that asked for it, pauses the
 * queue, and is released in the transaction that applies the thunk's recipe. It records who runs
 * the thunk (owner and the fencing token of their lease) and how many runs have started, so a
 * crashed run is re-run by the next lease holder and a stale one can never apply its result.
 * @internal
 */
import type { Transaction } from '../backend/contract.js';
import { clearBlob, groupBlobs, writeBlob } from './blob.js';
import type { ActorKeys } from './keys.js';
import type { TupleItem } from '../backend/subspace.js';
import type { StoredError, StoredReply } from './queue.js';
import { decodeValue, encodeValue } from '../state/codec.js';

export interface LockRecord {
  readonly thunk: string;
  readonly args: unknown;
  /** The message whose reducer locked: its id is the thunk's idempotency key. */
  readonly messageId: string;
  readonly action: string;
  readonly wantsReply: boolean;
  /** The reply inbox of the caller's process (see runtime/replies.ts). */
  readonly replyTo?: string | undefined;
  /** An idempotent call: its reply is also kept (see idempotency.ts). */
  readonly keep?: true | undefined;
  /** The reducer's reply, delivered once the thunk has finished. */
  readonly reply: StoredReply;
  /** The message as it was queued, and its queue position, for the dead letters if the thunk keeps failing. */
  readonly raw: Uint8Array;
  readonly items: TupleItem[];
  /** Consumer running the thunk now, and the fencing token of its lease. */
  readonly owner: string;
  readonly token: number;
  /** Runs started so far. */
  readonly attempt: number;
  /** The id of the claim that started the current run (a claim retried after an ambiguous commit finds itself). */
  readonly claim?: string | undefined;
  readonly lastError?: StoredError | undefined;
}

export async function readLock(tx: Transaction, keys: ActorKeys, snapshot = false): Promise<LockRecord | undefined> {
  const kvs = await tx.getRange(keys.lock.prefix, keys.lock.range().end, { snapshot });
  const bytes = groupBlobs(keys.lock, kvs, 0)[0]?.bytes;
  return bytes === undefined ? undefined : (decodeValue(bytes) as LockRecord);
}

export function writeLock(tx: Transaction, keys: ActorKeys, lock: LockRecord): void {
  clearLock(tx, keys);
  writeBlob(tx, keys.lock, [], encodeValue(lock));
}

export function clearLock(tx: Transaction, keys: ActorKeys): void {
  clearBlob(tx, keys.lock, []);
}
