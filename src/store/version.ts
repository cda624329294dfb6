/**
 * The value of an actor's version key: a counter bumped by every batch, and the id of the batch
 * that wrote it, so a consumer can tell after `commit_unknown_result` whether its batch committed.
 * @internal
 */
export interface StateVersion {
  /** 0 when the instance has no stored state. */
  readonly n: number;
  readonly batch: string;
}

export const NO_VERSION: StateVersion = Object.freeze({ n: 0, batch: '' });

export function encodeVersion(v: StateVersion): Buffer {
  const head = Buffer.alloc(8);
  head.writeBigUInt64BE(BigInt(v.n));
  return Buffer.concat([head, Buffer.from(v.batch, 'hex')]);
}

export function decodeVersion(bytes: Uint8Array | undefined): StateVersion {
  if (bytes === undefined || bytes.length < 8) return NO_VERSION;
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  return { n: Number(b.readBigUInt64BE(0)), batch: b.subarray(8).toString('hex') };
}
