/**
 * The inline path: a message sent to an idle instance that this process serves is processed in
 * the transaction that would have enqueued it, one commit instead of two (DGen's inline path).
 * Only the plain case goes inline — lease held, not halted, not locked, queue empty, and every
 * message applies without failing or locking; otherwise the caller enqueues as usual, in the
 * same transaction. Correctness does not rest on "idle": the transaction reads the version key
 * and the whole (empty) queue range, so a concurrent batch or enqueue makes it retry.
 * @internal
 */
import type { Transaction } from '../backend/contract.js';
import { randomHex } from '../util/random-hex.js';
import { together } from '../util/together.js';
import type { Commit, InstanceConsumer, Outcome } from './consumer.js';
import type { Patch } from '../util/immer.js';
import { readLock } from '../store/lock.js';
import type { Outgoing } from '../store/queue.js';
import { applyMessage } from './reduce.js';
import { decodeVersion } from '../store/version.js';
import { writeTimerOps } from '../time/schedule.js';
import { evolve, isOutdated } from '../evolution/migrate-state.js';
import { isFromNewer, upcastMessage } from '../evolution/upcast.js';
import { readDefinitionVersion } from '../evolution/stored-version.js';
import { releaseLease } from '../store/lease.js';

/**
 * Applies the `sent` messages inline and writes the resulting state, or returns undefined (nothing
 * written but the lease) to enqueue them instead. `sent` may be a promise (the sender's idempotency
 * check): this path's reads are issued first, so both go out together.
 */
export async function processInline<S>(c: InstanceConsumer<S>, tx: Transaction, sent: readonly Outgoing[] | Promise<readonly Outgoing[]>): Promise<Commit<S> | undefined> {
  const { begin, end } = c.keys.queue.range();
  // Independent reads go out together: on FoundationDB each awaited read is a network round trip.
  const [lease, halt, lock, queued, versionBytes, stored] = await together(
    () => c.lease(tx),
    () => tx.get(c.keys.halt),
    () => readLock(tx, c.keys),
    () => tx.getRange(begin, end, { limit: 1, snapshot: true }),
    () => tx.get(c.keys.version),
    () => readDefinitionVersion(tx, c.keys),
  );
  const messages = await sent;
  if (typeof lease !== 'number' && isOutdated(c.def, stored)) await releaseLease(tx, c.keys, c.owner); // left to newer hosts (see evolution/outdated.ts)
  if (messages.length === 0 || typeof lease === 'number' || halt !== undefined || lock !== undefined || queued.length > 0 || isOutdated(c.def, stored)) return undefined;
  tx.addReadConflictRange(begin, end); // the queue is empty, and must stay so until this commits
  const version = decodeVersion(versionBytes);
  const base: S = await c.baseState(tx, version);
  const evolved = evolve(c.def, base, stored, version.n > 0, c.id);
  if (evolved.failure !== undefined) return undefined; // the queue's path fails the messages with it
  let state: S = evolved.state;
  const patches: Patch[] = [...evolved.patches];
  const outcomes: Outcome<S>[] = [];
  for (const { envelope } of messages) {
    if (isFromNewer(c.def, envelope)) return undefined; // left in the queue for newer hosts
    let applied;
    try {
      applied = applyMessage(c.def, state, upcastMessage(c.def, envelope), c.id, c.rt.clock.now());
    } catch {
      return undefined; // failures take the queue's path: dead letters, halts, events
    }
    if (applied.lock !== undefined) return undefined;
    state = applied.state;
    patches.push(...applied.patches);
    outcomes.push({ envelope, applied });
  }
  let commit: Commit<S>;
  try {
    commit = c.writeState(tx, randomHex(16), version, base, state, patches, outcomes, evolved.write);
  } catch {
    return undefined; // a state the store refuses: the queue's path isolates and dead-letters it (the store plans before it writes)
  }
  c.writeSends(tx, outcomes);
  await writeTimerOps(tx, c.rt.layout, outcomes.flatMap((o) => o.applied?.timers ?? []));
  return commit;
}
