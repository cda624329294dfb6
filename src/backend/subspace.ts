/**
 * An immutable, tuple-encoded key prefix, like node-foundationdb's subspaces: every engine lays
 * out its keys with FoundationDB's tuple encoding, so the layout is the same everywhere.
 * @internal
 */
import * as tuple from 'fdb-tuple';
import type { Bytes } from './contract.js';

/** One element of a tuple key. */
export type TupleItem = tuple.TupleItem;

/** An immutable key prefix, like node-foundationdb's subspaces. @internal */
export class Subspace {
  constructor(readonly prefix: Buffer) {}

  /** A nested subspace: this prefix followed by the tuple encoding of `items`. */
  at(...items: TupleItem[]): Subspace {
    return new Subspace(this.pack(items));
  }

  pack(items: readonly TupleItem[] = []): Buffer {
    return items.length === 0 ? this.prefix : Buffer.concat([this.prefix, tuple.pack(items as TupleItem[])]);
  }

  /** The tuple elements of `key` after this prefix. */
  unpack(key: Bytes): TupleItem[] {
    if (!this.contains(key)) throw new RangeError('key is outside the subspace');
    return tuple.unpack(Buffer.from(key.subarray(this.prefix.length)));
  }

  contains(key: Bytes): boolean {
    return key.length >= this.prefix.length && Buffer.from(key.buffer, key.byteOffset, this.prefix.length).equals(this.prefix);
  }

  /** [begin, end) of every key strictly inside this subspace, after the tuple `items`. */
  range(items: readonly TupleItem[] = []): { begin: Buffer; end: Buffer } {
    const p = this.pack(items);
    return { begin: Buffer.concat([p, ZERO]), end: Buffer.concat([p, FF]) };
  }

  /**
   * A key of the tuple (`...before`, versionstamp, `...after`) whose stamp the commit fills in,
   * with `userVersion` as its last 2 bytes. Returns the key and the offset of the 10 bytes the
   * commit replaces (see `Transaction.setVersionstampedKey`).
   */
  packVersionstamped(before: readonly TupleItem[], userVersion: number, after: readonly TupleItem[] = []): { key: Buffer; stampOffset: number } {
    const items = [...before, { type: 'unbound versionstamp', code: userVersion } as TupleItem, ...after];
    const { data, stampPos } = tuple.packUnboundVersionstamp(items);
    return { key: Buffer.concat([this.prefix, data]), stampOffset: this.prefix.length + stampPos };
  }
}

const ZERO = Buffer.from([0x00]);
const FF = Buffer.from([0xff]);
