/**
 * Byte helpers shared by the engines: the latin1 key form, limit checks, the int64 `add`
 * mutation and versionstamps.
 *
 * Inside the engines a key is kept as a latin1 string (one char per byte). JavaScript compares
 * strings by UTF-16 code unit, which for latin1 strings is exactly bytewise order, so `<` on
 * these strings is `Buffer.compare` on the keys, and they are cheap Map keys.
 * @internal
 */
import { LIMITS, type Bytes } from './contract.js';
import { InvalidOperationError, KeyTooLargeError, ValueTooLargeError } from './errors.js';

/** A key as a latin1 string (bytewise ordered). @internal */
export type KeyString = string;

/** @internal */
export function keyString(key: Bytes): KeyString {
  return (Buffer.isBuffer(key) ? key : Buffer.from(key.buffer, key.byteOffset, key.byteLength)).toString('latin1');
}

/** @internal */
export function keyBuffer(key: KeyString): Buffer {
  return Buffer.from(key, 'latin1');
}

/** A private copy of caller bytes (callers may reuse their buffers). @internal */
export function copyBytes(bytes: Bytes): Buffer {
  const out = Buffer.allocUnsafe(bytes.byteLength);
  out.set(bytes);
  return out;
}

/** The smallest key greater than `key`: `key + '\x00'`. @internal */
export function keyAfter(key: KeyString): KeyString {
  return key + '\x00';
}

/** @internal */
export function checkKey(key: Bytes): void {
  if (key.byteLength > LIMITS.keyBytes) throw new KeyTooLargeError(key.byteLength, LIMITS.keyBytes);
}

/** @internal */
export function checkValue(value: Bytes, key?: Bytes): void {
  if (value.byteLength <= LIMITS.valueBytes) return;
  if (key === undefined) throw new ValueTooLargeError(value.byteLength, LIMITS.valueBytes);
  throw new ValueTooLargeError(
    value.byteLength,
    LIMITS.valueBytes,
    `Value length ${value.byteLength} under key ${printable(key)} exceeds the limit of ${LIMITS.valueBytes} bytes (FoundationDB's value_too_large, 2103)`,
  );
}

/** A key for an error message: printable ASCII as is, other bytes as \xNN, at most 200 bytes shown. @internal */
export function printable(key: Bytes): string {
  let out = '';
  const shown = Math.min(key.byteLength, 200);
  for (let i = 0; i < shown; i++) {
    const c = key[i]!;
    out += c >= 0x20 && c < 0x7f && c !== 0x5c ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return `'${out}'${key.byteLength > shown ? `… (${key.byteLength} bytes)` : ''}`;
}

const UINT64 = (1n << 64n) - 1n;

/** An `add` delta as an unsigned 64-bit bigint (two's complement for negative deltas). @internal */
export function toDelta(delta: number | bigint): bigint {
  if (typeof delta === 'number') {
    if (!Number.isSafeInteger(delta)) throw new InvalidOperationError(`add() needs an integer delta, got ${delta}`);
    delta = BigInt(delta);
  } else if (typeof delta !== 'bigint') {
    throw new InvalidOperationError(`add() needs a number or bigint delta, got ${typeof delta}`);
  }
  return delta & UINT64;
}

/** Sum of two unsigned 64-bit deltas, modulo 2^64. @internal */
export function addDeltas(a: bigint, b: bigint): bigint {
  return (a + b) & UINT64;
}

/**
 * FoundationDB's ADD mutation with an 8-byte parameter: the current value read as a
 * little-endian integer (zero-padded or truncated to 8 bytes; a missing key is 0) plus `delta`,
 * modulo 2^64, as 8 bytes little-endian. @internal
 */
export function applyAdd(current: Buffer | undefined, delta: bigint): Buffer {
  let base = 0n;
  if (current !== undefined && current.length > 0) {
    if (current.length >= 8) base = current.readBigUInt64LE(0);
    else {
      const padded = Buffer.alloc(8);
      current.copy(padded, 0, 0, current.length);
      base = padded.readBigUInt64LE(0);
    }
  }
  const out = Buffer.allocUnsafe(8);
  out.writeBigUInt64LE((base + delta) & UINT64, 0);
  return out;
}

/** Length of a versionstamp: 8-byte big-endian commit version + 2-byte batch order. */
export const VERSIONSTAMP_BYTES = 10;

/** The 10-byte versionstamp of commit `version`, `order`-th in its batch. @internal */
export function versionstamp(version: number | bigint, order = 0): Buffer {
  const out = Buffer.allocUnsafe(VERSIONSTAMP_BYTES);
  out.writeBigUInt64BE(BigInt(version), 0);
  out.writeUInt16BE(order, 8);
  return out;
}

/** Throws unless `[offset, offset + 10)` lies inside `bytes`. @internal */
export function checkStampOffset(what: 'key' | 'value', bytes: Bytes, offset: number): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + VERSIONSTAMP_BYTES > bytes.byteLength) {
    throw new InvalidOperationError(
      `Versionstamp offset ${offset} does not leave 10 bytes inside the ${bytes.byteLength}-byte ${what}; ` +
        'build the key with packUnboundVersionstamp or pass the offset of the 10 placeholder bytes',
    );
  }
}

/** A copy of `bytes` with the 10 bytes at `offset` replaced by `stamp`. @internal */
export function fillStamp(bytes: Buffer, offset: number, stamp: Buffer): Buffer {
  const out = Buffer.from(bytes);
  stamp.copy(out, offset);
  return out;
}
