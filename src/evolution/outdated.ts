/**
 * A host whose definition is older than an instance's stored version (or than the producer of its
 * next message) leaves the instance to newer hosts: it gives the lease up in the same transaction,
 * writes nothing else, reports a `definition-outdated` event, and looks again after a backoff that
 * doubles each time, so an old host in a rolling deploy never spins on instances it cannot serve.
 * @internal
 */
import type { Transaction } from '../backend/contract.js';
import type { ActorKeys } from '../store/keys.js';
import { releaseLease } from '../store/lease.js';

/** First pause before an outdated host looks at the instance again; doubled up to {@link OUTDATED_MAX_MS}. */
export const OUTDATED_FIRST_MS = 1_000;
export const OUTDATED_MAX_MS = 30_000;

/** Why a host left an instance: the stored state's version, or a queued message's producer version. */
export interface Outdated {
  readonly kind: 'outdated';
  readonly stored: number;
}

/** Gives up the lease this transaction may have just taken, so a newer host takes over at once. */
export async function leaveOutdated(tx: Transaction, keys: ActorKeys, owner: string, stored: number): Promise<Outdated> {
  await releaseLease(tx, keys, owner);
  return { kind: 'outdated', stored };
}

/** When to look again after the `streak`-th outdated finding in a row (1, 2, …), with jitter so hosts spread out. */
export function outdatedRetryAt(streak: number, now = Date.now()): number {
  const base = Math.min(OUTDATED_MAX_MS, OUTDATED_FIRST_MS * 2 ** Math.max(0, streak - 1));
  return now + base * (0.75 + Math.random() * 0.5);
}
