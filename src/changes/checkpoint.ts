/**
 * A listener's checkpoint: the position of the last change it has handled (or passed over), how
 * many feed entries it has passed in all (its lag is the feed's count minus that), and the change
 * it halted at, if any.
 * @internal
 */
import type { Transaction } from '../backend/contract.js';
import { decodeValue, encodeValue } from '../state/codec.js';
import type { StoredError } from '../store/queue.js';

export interface Checkpoint {
  /** The definition whose feed the listener follows. */
  readonly on: string;
  readonly position: Buffer | undefined;
  readonly passed: number;
  readonly halted?: { readonly cursor: string; readonly error: StoredError; readonly at: number } | undefined;
}

export async function readCheckpoint(tx: Transaction, key: Buffer, snapshot = false): Promise<Checkpoint | undefined> {
  const raw = await tx.get(key, { snapshot });
  if (raw === undefined) return undefined;
  const v = decodeValue(raw) as { on: string; position: string; passed: number; halted?: Checkpoint['halted'] };
  return { on: v.on, position: v.position === '' ? undefined : Buffer.from(v.position, 'hex'), passed: v.passed, ...(v.halted === undefined ? {} : { halted: v.halted }) };
}

export function writeCheckpoint(tx: Transaction, key: Buffer, c: Checkpoint): void {
  tx.set(key, encodeValue({ on: c.on, position: c.position?.toString('hex') ?? '', passed: c.passed, ...(c.halted === undefined ? {} : { halted: c.halted }) }));
}

export function samePosition(a: Buffer | undefined, b: Buffer | undefined): boolean {
  return a === undefined ? b === undefined : b !== undefined && a.equals(b);
}
