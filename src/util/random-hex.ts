import { randomBytes } from 'node:crypto';

/**
 * Random bytes are drawn 4 KiB at a time and handed out once each: a `randomBytes` call costs
 * about 2 µs, as much as applying a small reducer, and every message needs 10 bytes.
 */
let pool = Buffer.alloc(0);
let poolAt = 0;

/** `bytes` random bytes as hex (message ids, batch ids). @internal */
export function randomHex(bytes: number): string {
  if (poolAt + bytes > pool.length) {
    pool = randomBytes(4096);
    poolAt = 0;
  }
  const hex = pool.toString('hex', poolAt, poolAt + bytes);
  poolAt += bytes;
  return hex;
}
