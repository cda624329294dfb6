/**
 * The consumer lease of one actor instance: keeps one consumer active and the others on standby.
 * Correctness never rests on it (every batch is a serializable transaction); it only avoids
 * consumers aborting each other's batches. Expiry uses wall clocks, so machines serving the same
 * actors should keep them in sync (NTP); skew only delays a takeover.
 * @internal
 */
import type { Transaction } from '../backend/contract.js';
import type { ActorKeys } from './keys.js';
import { decodeValue, encodeValue } from '../state/codec.js';

export interface Lease {
  readonly owner: string;
  /** ms since epoch. */
  readonly expires: number;
  /** Fencing token: grows by one each time the lease changes owner. */
  readonly token: number;
}

/** `taken`: this check took the lease from another consumer (its lease expired or was released). */
export type LeaseCheck = { readonly held: true; readonly lease: Lease; readonly taken?: boolean } | { readonly held: false; readonly until: number };

export async function readLease(tx: Transaction, keys: Pick<ActorKeys, 'lease'>, snapshot = false): Promise<Lease | undefined> {
  const raw = await tx.get(keys.lease, { snapshot });
  if (raw === undefined) return undefined;
  const v = decodeValue(raw) as Partial<Lease> | undefined;
  return typeof v?.owner === 'string' && typeof v.expires === 'number' && typeof v.token === 'number' ? (v as Lease) : undefined;
}

/**
 * Holds the lease for `owner` inside a batch: takes it when free or expired, renews it when past
 * half its life, and reports who holds it otherwise. Reading the key makes a takeover by another
 * consumer abort this transaction.
 */
export async function holdLease(tx: Transaction, keys: Pick<ActorKeys, 'lease'>, owner: string, leaseMs: number, now = Date.now()): Promise<LeaseCheck> {
  const current = await readLease(tx, keys);
  if (current !== undefined && current.owner !== owner && current.expires > now) return { held: false, until: current.expires };
  if (current?.owner === owner && current.expires - now > leaseMs / 2) return { held: true, lease: current };
  const token = current?.owner === owner ? current.token : (current?.token ?? 0) + 1;
  const lease: Lease = { owner, expires: now + leaseMs, token };
  tx.set(keys.lease, encodeValue(lease));
  return { held: true, lease, taken: current !== undefined && current.owner !== owner };
}

/** Gives the lease up so a standby can take over at once. */
export async function releaseLease(tx: Transaction, keys: Pick<ActorKeys, 'lease'>, owner: string): Promise<void> {
  const current = await readLease(tx, keys);
  if (current?.owner === owner) tx.set(keys.lease, encodeValue({ ...current, expires: 0 }));
}
