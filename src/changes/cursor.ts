/**
 * Cursors: the 12-byte position of a feed entry (10-byte versionstamp of the batch's commit and a
 * 2-byte order within that commit), handed to users as 24 hex digits, so cursors compare as strings
 * in commit order.
 * @internal
 */
import type { TupleItem } from '../backend/subspace.js';
import { InvalidOptionsError } from '../errors.js';

const CURSOR = /^[0-9a-f]{24}$/;

export function encodeCursor(position: Buffer): string {
  return position.toString('hex');
}

/** Parses a user's cursor; `api` names the call for the error. */
export function decodeCursor(api: string, cursor: unknown): Buffer {
  if (typeof cursor !== 'string' || !CURSOR.test(cursor)) throw new InvalidOptionsError(api, 'from', `must be a cursor (24 hex digits from a change's \`cursor\`), 'start' or 'now', got ${typeof cursor === 'string' ? JSON.stringify(cursor.slice(0, 40)) : typeof cursor}`);
  return Buffer.from(cursor, 'hex');
}

/** The position of a feed entry from its key's tuple. */
export function positionOf(items: readonly TupleItem[]): Buffer {
  const stamp = items[0] as { type?: string; value?: Buffer } | undefined;
  if (stamp?.type !== 'versionstamp' || !Buffer.isBuffer(stamp.value)) throw new Error('a change feed key without a versionstamp');
  return stamp.value;
}

/** The tuple item of a position. */
export function stampItem(position: Buffer): TupleItem {
  return { type: 'versionstamp', value: position } as TupleItem;
}
