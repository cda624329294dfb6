import { randomHex } from '../util/random-hex.js';
import { decodeValue, encodeValue, validateValue } from '../state/codec.js';
import { DgenError } from '../errors.js';

/**
 * A queued message. Ids start with the enqueue time (48-bit ms, hex), so markers and replies keyed
 * by id are ordered by age and can be pruned with one range clear.
 * @internal
 */
export interface Envelope {
  readonly id: string;
  readonly action: string;
  readonly payload: unknown;
  /** Enqueue time, ms since epoch: what `ctx.now()` returns. */
  readonly at: number;
  /** The producer waits for a reply (a `call`). */
  readonly wantsReply: boolean;
  /**
   * The reply inbox of the calling process (see runtime/replies.ts): the consumer that answers
   * the call leaves a pointer there, so one listener per process finds every reply it waits for.
   */
  readonly replyTo?: string | undefined;
  /** A call sent with an idempotency key: its reply is also kept for retries (see idempotency.ts). */
  readonly keep?: true | undefined;
  /** The version of the producer's definition (absent: 1), so a newer consumer can upcast the payload (see evolution/). */
  readonly version?: number | undefined;
  /** The W3C trace context of the span the message was sent in (see observe/trace-context.ts). */
  readonly trace?: TraceContext | undefined;
}

/** W3C trace context headers, as a message carries them. @internal */
export interface TraceContext {
  readonly traceparent: string;
  readonly tracestate?: string | undefined;
}

/** A fresh message id: 12 hex digits of ms time, 20 of randomness. @internal */
export function newMessageId(now = Date.now()): string {
  return idFloor(now).slice(0, 12) + randomHex(10);
}

/** The smallest id of a message enqueued at `time`: bound for pruning by age. @internal */
export function idFloor(time: number): string {
  return Math.max(0, Math.floor(time)).toString(16).padStart(12, '0') + '0'.repeat(20);
}

/** Encodes a message; a payload that cannot be stored fails with `unserializable_value` naming its path. @internal */
export function encodeEnvelope(e: Envelope): Buffer {
  validateValue(e.payload, 'payload');
  const fields: unknown[] = [e.id, e.action, e.payload, e.at, e.wantsReply];
  const versioned = e.version !== undefined && e.version !== 1;
  if (e.replyTo !== undefined || e.keep === true || versioned || e.trace !== undefined) fields.push(e.replyTo ?? null);
  if (e.keep === true || versioned || e.trace !== undefined) fields.push(e.keep === true);
  if (versioned || e.trace !== undefined) fields.push(e.version ?? 1);
  // The trace context rides in its own trailing slot, an object recognised by its shape, so
  // envelopes written without it (or with other optional slots) keep decoding.
  if (e.trace !== undefined) fields.push(e.trace.tracestate === undefined ? { tp: e.trace.traceparent } : { tp: e.trace.traceparent, ts: e.trace.tracestate });
  return encodeValue(fields);
}

/** @internal */
export function decodeEnvelope(bytes: Uint8Array): Envelope {
  let v: unknown;
  try {
    v = decodeValue(bytes);
  } catch (cause) {
    throw new CorruptMessageError('the stored bytes do not decode', cause);
  }
  if (!Array.isArray(v) || v.length < 5 || v.length > MAX_SLOTS || typeof v[0] !== 'string' || typeof v[1] !== 'string' || typeof v[3] !== 'number') {
    throw new CorruptMessageError('the stored value is not a message envelope');
  }
  const replyTo = typeof v[5] === 'string' ? v[5] : undefined;
  const trace = traceSlot(v);
  const version = typeof v[7] === 'number' && v[7] !== 1 ? { version: v[7] } : {};
  return { id: v[0], action: v[1], payload: v[2], at: v[3], wantsReply: v[4] === true, ...(replyTo === undefined ? {} : { replyTo }), ...(v[6] === true ? { keep: true as const } : {}), ...(trace === undefined ? {} : { trace }), ...version };
}

/** Slots an envelope may have: five fixed, reply inbox, keep flag, producer version, and room for trailing optional slots. */
const MAX_SLOTS = 9;

/** The trace context among the trailing slots (an object `{ tp, ts? }`), if any. */
function traceSlot(v: readonly unknown[]): TraceContext | undefined {
  for (let i = 7; i < v.length; i++) {
    const slot = v[i] as { tp?: unknown; ts?: unknown } | null;
    if (slot === null || typeof slot !== 'object' || typeof slot.tp !== 'string') continue;
    return typeof slot.ts === 'string' ? { traceparent: slot.tp, tracestate: slot.ts } : { traceparent: slot.tp };
  }
  return undefined;
}

/** A stored message that cannot be decoded. It is moved to the dead letters instead of blocking the queue. */
export class CorruptMessageError extends DgenError {
  constructor(detail: string, cause?: unknown) {
    super('corrupt_message', `Corrupt queued message: ${detail}.`, { cause });
  }
}
