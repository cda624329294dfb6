/**
 * The durable queue of one actor instance: versionstamped message keys (so producers never
 * conflict and queue order is commit order), enqueue markers, replies and dead letters.
 * @internal
 */
import * as tuple from 'fdb-tuple';
import type { Transaction } from '../backend/contract.js';
import { clearBlob, groupBlobs, splitBlob, writeBlob } from './blob.js';
import type { ActorKeys } from './keys.js';
import type { TupleItem } from '../backend/subspace.js';
import { MessageTooLargeError } from '../errors.js';
import { CorruptMessageError, decodeEnvelope, encodeEnvelope, idFloor, newMessageId, type Envelope, type TraceContext } from './message.js';
import { decodeValue, encodeValue } from '../state/codec.js';

/** Largest encoded message accepted by dispatch/call (documented in README). */
export const MAX_MESSAGE_BYTES = 1_000_000;

const EMPTY = Buffer.alloc(0);

/** A message ready to enqueue. */
export interface Outgoing {
  readonly envelope: Envelope;
  readonly bytes: Buffer;
  /** Enqueue at most once per key (see idempotency.ts). */
  readonly idempotencyKey?: string | undefined;
  /**
   * Set by the sender when the key was already used: the id of the message that used it first
   * ('' for a dispatch's), whose reply a retried call waits for. This message was not enqueued.
   */
  duplicateOf?: string | undefined;
}

/**
 * A new message ready to enqueue: id, enqueue time, encoded bytes. Throws `unserializable_value`
 * for a payload that cannot be stored and `message_too_large` over MAX_MESSAGE_BYTES.
 */
export function outgoing(action: string, payload: unknown, wantsReply: boolean, idempotencyKey?: string, replyTo?: string, at = Date.now(), trace?: TraceContext, version = 1): Outgoing {
  const keep = wantsReply && idempotencyKey !== undefined ? { keep: true as const } : {};
  const envelope: Envelope = { id: newMessageId(), action, payload, at, wantsReply, ...(replyTo === undefined ? {} : { replyTo }), ...keep, ...(trace === undefined ? {} : { trace }), ...(version === 1 ? {} : { version }) };
  const bytes = encodeEnvelope(envelope);
  if (bytes.length > MAX_MESSAGE_BYTES) throw new MessageTooLargeError(bytes.length, MAX_MESSAGE_BYTES);
  return { envelope, bytes, idempotencyKey };
}

/** A message read from the queue. */
export interface Queued {
  /** The head tuple: (versionstamp). */
  readonly items: TupleItem[];
  readonly keys: Buffer[];
  readonly raw: Buffer;
  /** The decoded message, or why it cannot be decoded. */
  readonly envelope: Envelope | CorruptMessageError;
}

/** An error as stored for a caller in another process. */
export interface StoredError {
  readonly name: string;
  readonly message: string;
  readonly code?: string | undefined;
}

/** The outcome of a call, as stored under its reply key. */
export type StoredReply = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: StoredError };

/** Appends messages in order (user versions 0, 1, …), with markers, and flags the instance as having work. */
export function enqueue(tx: Transaction, keys: ActorKeys, messages: readonly Outgoing[]): void {
  messages.forEach((m, userVersion) => {
    const { head, chunks } = splitBlob(m.bytes);
    const h = keys.queue.packVersionstamped([], userVersion);
    tx.setVersionstampedKey(h.key, h.stampOffset, head);
    chunks.forEach((chunk, i) => {
      const c = keys.queue.packVersionstamped([], userVersion, [i]);
      tx.setVersionstampedKey(c.key, c.stampOffset, chunk);
    });
  });
  mark(tx, keys, messages);
  tx.set(keys.work, EMPTY);
  tx.add(keys.notify, 1);
}

/** The marker value of messages processed inline (queued ones have an empty marker). */
const INLINE = Buffer.of(1);

/** Records that these messages were accepted (queued, or processed `inline`), for {@link landed}. */
export function mark(tx: Transaction, keys: ActorKeys, messages: readonly Outgoing[], inline = false): void {
  for (const m of messages) tx.set(keys.markers.pack([m.envelope.id]), inline ? INLINE : EMPTY);
}

/**
 * Takes a read conflict on the markers of `messages`, so this enqueue and any other attempt of it
 * cannot both commit: whichever commits second has read (or conflicts on) the first's markers.
 * Costs no read.
 */
export function guardMarkers(tx: Transaction, keys: ActorKeys, messages: readonly Outgoing[]): void {
  for (const m of messages) tx.addReadConflictKey(keys.markers.pack([m.envelope.id]));
}

/**
 * Did an earlier attempt of this enqueue land? Reads the markers of `messages` (all are written
 * together, but an idempotency key may have left some out): `inline` or `queue` for the way it
 * landed, undefined when none did.
 */
export async function landed(tx: Transaction, keys: ActorKeys, messages: readonly Outgoing[]): Promise<'inline' | 'queue' | undefined> {
  const found = (await Promise.all(messages.map((m) => tx.get(keys.markers.pack([m.envelope.id]))))).find((v) => v !== undefined);
  if (found === undefined) return undefined;
  return found.equals(INLINE) ? 'inline' : 'queue';
}

/**
 * Reads the next messages (snapshot read) and adds a read conflict on exactly the keys taken,
 * so producers appending meanwhile never abort the batch.
 */
export async function take(tx: Transaction, keys: ActorKeys, maxMessages: number, maxBytes: number, seen?: { whole: boolean }): Promise<Queued[]> {
  const out = await peek(tx, keys, maxMessages, maxBytes, seen);
  claim(tx, keys, out);
  return out;
}

/**
 * {@link take}'s read alone, with no read conflict: a batch issues it together with its other
 * reads (one round trip to FoundationDB instead of several) and {@link claim}s what it processes.
 * `seen.whole` tells whether it read every queued message.
 */
export async function peek(tx: Transaction, keys: ActorKeys, maxMessages: number, maxBytes: number, seen?: { whole: boolean }): Promise<Queued[]> {
  const { begin, end } = keys.queue.range();
  const kvs = await tx.getRange(begin, end, { limit: maxMessages, snapshot: true });
  let blobs = groupBlobs(keys.queue, kvs, 1);
  if (seen !== undefined) seen.whole = kvs.length < maxMessages; // the read reached the end of the queue
  if (blobs[0] !== undefined && blobs[0].bytes === undefined) {
    if (seen !== undefined) seen.whole = false;
    // The first message is chunked beyond the read: fetch it whole, alone.
    const whole = await tx.getRange(begin, keys.queue.range(blobs[0].items).end, { snapshot: true });
    blobs = groupBlobs(keys.queue, whole, 1).slice(0, 1);
  }
  const out: Queued[] = [];
  let bytes = 0;
  for (const b of blobs) {
    if (b.bytes === undefined || (out.length > 0 && bytes + b.bytes.length > maxBytes)) break;
    bytes += b.bytes.length;
    out.push({ items: b.items, keys: b.keys, raw: b.bytes, envelope: decodeOrError(b.bytes) });
  }
  if (seen !== undefined && out.length < blobs.length) seen.whole = false; // some left for the next batch
  return out;
}

/** Makes the messages of {@link peek} conflict with any other transaction that takes or removes them. */
export function claim(tx: Transaction, keys: ActorKeys, messages: readonly Queued[]): void {
  if (messages.length > 0) tx.addReadConflictRange(keys.queue.range().begin, keyAfter(messages[messages.length - 1]!.keys.at(-1)!));
}

/**
 * In the transaction of a batch that took every queued message: clears the instance's "has work"
 * flag, which saves the commit of {@link clearWorkIfIdle}. It reads the flag, so an enqueue (which
 * sets it) committing meanwhile fails the batch with a conflict instead of leaving a message
 * without its flag. Call it before the batch enqueues anything (a reducer sending to its own actor).
 */
export function clearWorkInBatch(tx: Transaction, keys: ActorKeys): void {
  tx.addReadConflictKey(keys.work);
  tx.clear(keys.work);
}

function decodeOrError(bytes: Buffer): Envelope | CorruptMessageError {
  try {
    return decodeEnvelope(bytes);
  } catch (e) {
    return e instanceof CorruptMessageError ? e : new CorruptMessageError(String(e), e);
  }
}

/**
 * Removes a taken message: clears exactly the keys it was read from (its head and every chunk, as
 * {@link take} returns only whole messages), no range clear.
 */
export function remove(tx: Transaction, _keys: ActorKeys, m: Queued): void {
  for (const key of m.keys) tx.clear(key);
}

/**
 * Clears the instance's "has work" flag if its queue is empty and no thunk holds its lock.
 * Conflicts with any enqueue that commits meanwhile, so a flag is never cleared over a waiting
 * message; and a lock keeps it, so when the consumer running the thunk dies, a scan finds the
 * instance and the next consumer re-runs the thunk. Returns whether it was idle.
 */
export async function clearWorkIfIdle(tx: Transaction, keys: ActorKeys): Promise<boolean> {
  const { begin, end } = keys.queue.range();
  const head = await tx.getRange(begin, end, { limit: 1 });
  if (head.length > 0) return false;
  if ((await tx.getRange(keys.lock.prefix, keys.lock.range().end, { limit: 1 })).length > 0) return false;
  tx.clear(keys.work);
  return true;
}

/**
 * Stores a call's outcome for a caller in another process, and, when the call named the inbox of
 * its process, a pointer there and a bump of the inbox's notify key: the caller's process watches
 * that one key for all its calls (see runtime/replies.ts).
 */
export function writeReply(tx: Transaction, keys: ActorKeys, id: string, reply: StoredReply, replyTo?: string): void {
  const bytes = encodeValue(reply);
  writeBlob(tx, keys.replies, [id], bytes);
  if (replyTo === undefined) return;
  const inbox = keys.inbox(replyTo);
  // A small reply rides in its pointer too: the caller's listener reads a page of replies in one
  // range read instead of one read per reply under each actor.
  tx.set(inbox.entries.pack([id]), bytes.length <= POINTER_REPLY_BYTES ? Buffer.concat([keys.address, tuple.pack([bytes])]) : keys.address);
  tx.add(inbox.notify, 1);
}

/** Replies up to this size are copied into their pointer (see {@link writeReply}). */
const POINTER_REPLY_BYTES = 8_192;

/** A reply pointer read back: the actor the reply is stored under, and the reply when it rode in the pointer. */
export interface ReplyPointer {
  readonly name: string;
  readonly id: string;
  readonly reply: StoredReply | undefined;
}

/** Decodes the value of a reply pointer written by {@link writeReply}. */
export function readPointer(value: Buffer): ReplyPointer {
  const [name, id, bytes] = tuple.unpack(value) as [string, string, Buffer | undefined];
  return { name, id, reply: bytes === undefined ? undefined : (decodeValue(bytes) as StoredReply) };
}

/** Reads a call's stored outcome, if it is there (cleared later with {@link clearReply}). */
export async function readReply(tx: Transaction, keys: ActorKeys, id: string): Promise<StoredReply | undefined> {
  const kvs = await tx.getRange(keys.replies.pack([id]), keys.replies.range([id]).end, { snapshot: true });
  const blob = groupBlobs(keys.replies, kvs, 1)[0];
  return blob?.bytes === undefined ? undefined : (decodeValue(blob.bytes) as StoredReply);
}

/** Clears a call's stored outcome (a blind write: it takes no read conflict). */
export function clearReply(tx: Transaction, keys: ActorKeys, id: string): void {
  clearBlob(tx, keys.replies, [id]);
}

/** A message moved out of the queue because it failed. */
export interface DeadLetter {
  readonly message: Uint8Array;
  readonly error: StoredError;
  readonly attempts: number;
  readonly at: number;
}

/** Moves a taken message to the dead letters, keeping its queue position as its key. */
export function toDeadLetters(tx: Transaction, keys: ActorKeys, m: Queued, error: StoredError, attempts: number): void {
  remove(tx, keys, m);
  toDeadLettersRaw(tx, keys, m.items, m.raw, error, attempts);
}

/** Writes a dead letter for a message no longer in the queue (e.g. one whose thunk kept failing). */
export function toDeadLettersRaw(tx: Transaction, keys: ActorKeys, items: TupleItem[], raw: Uint8Array, error: StoredError, attempts: number): void {
  const letter: DeadLetter = { message: raw, error, attempts, at: Date.now() };
  writeBlob(tx, keys.deadLetters, items, encodeValue(letter));
  tx.set(keys.index, EMPTY); // listed by admin.instances() even when it never stored a state
}

/** Forgets enqueue markers and unclaimed replies older than `maxAgeMs`. */
export function pruneOld(tx: Transaction, keys: ActorKeys, maxAgeMs: number, now = Date.now()): void {
  const floor = idFloor(now - maxAgeMs);
  for (const sub of [keys.markers, keys.replies]) tx.clearRange(sub.range().begin, sub.pack([floor]));
}

/** The first key after `key` in byte order. */
export function keyAfter(key: Uint8Array): Buffer {
  return Buffer.concat([key, Buffer.of(0)]);
}
