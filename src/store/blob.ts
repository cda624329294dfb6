/**
 * Values that may exceed the store's 100,000-byte value limit are written as a head key plus
 * chunk keys: `(…items)` holds the bytes when they fit, or a chunk count, and `(…items, i)` holds
 * chunk i. Tuple order puts the chunks right after their head, so one range read returns whole
 * blobs in order.
 * @internal
 */
import type { KeyValue, Transaction } from '../backend/contract.js';
import type { Subspace, TupleItem } from '../backend/subspace.js';

/** Bytes per chunk: well under the value limit. */
export const CHUNK_BYTES = 90_000;

const INLINE = 0x00;
const CHUNKED = 0x01;

/** The head value and chunk values that store `bytes`. */
export function splitBlob(bytes: Uint8Array): { head: Buffer; chunks: Buffer[] } {
  if (bytes.length <= CHUNK_BYTES) return { head: Buffer.concat([Buffer.of(INLINE), bytes]), chunks: [] };
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += CHUNK_BYTES) chunks.push(Buffer.from(bytes.subarray(at, at + CHUNK_BYTES)));
  const head = Buffer.alloc(5);
  head[0] = CHUNKED;
  head.writeUInt32BE(chunks.length, 1);
  return { head, chunks };
}

/** Writes `bytes` as a blob at `items` in `sub`. */
export function writeBlob(tx: Transaction, sub: Subspace, items: readonly TupleItem[], bytes: Uint8Array): void {
  const { head, chunks } = splitBlob(bytes);
  tx.set(sub.pack(items), head);
  chunks.forEach((c, i) => tx.set(sub.pack([...items, i]), c));
}

/** Clears the blob at `items` with its chunks. */
export function clearBlob(tx: Transaction, sub: Subspace, items: readonly TupleItem[]): void {
  tx.clear(sub.pack(items));
  const { begin, end } = sub.range(items);
  tx.clearRange(begin, end);
}

/** A blob read back: its head tuple, every key it spans, and its bytes (undefined when the read cut it short). */
export interface StoredBlob {
  readonly items: TupleItem[];
  readonly keys: Buffer[];
  readonly bytes: Buffer | undefined;
}

/** Groups a range read of blobs of `headLength`-element tuples into whole blobs, in key order. */
export function groupBlobs(sub: Subspace, kvs: readonly KeyValue[], headLength: number): StoredBlob[] {
  const out: StoredBlob[] = [];
  let i = 0;
  while (i < kvs.length) {
    const { key, value } = kvs[i]!;
    const items = sub.unpack(key);
    i++;
    if (items.length !== headLength || value.length === 0) continue; // stray chunk without its head
    if (value[0] === INLINE) {
      out.push({ items, keys: [key], bytes: value.subarray(1) });
      continue;
    }
    const count = value.length >= 5 ? value.readUInt32BE(1) : 0;
    const keys = [key];
    const parts: Buffer[] = [];
    while (i < kvs.length && parts.length < count && sub.unpack(kvs[i]!.key).length === headLength + 1) {
      keys.push(kvs[i]!.key);
      parts.push(kvs[i]!.value);
      i++;
    }
    out.push({ items, keys, bytes: parts.length === count ? Buffer.concat(parts) : undefined });
  }
  return out;
}
