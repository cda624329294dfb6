/**
 * Runs the thunk of a locked actor instance: claim the run (attempt + 1, under this consumer's
 * lease), run the thunk outside any transaction while renewing the lease (it gets the lease's
 * fencing token), then apply its recipe, release the lock and answer the locking call (with the
 * thunk's reply if it gave one) in one transaction that checks the fencing token. A thunk that
 * throws is re-run with backoff; after `thunkAttempts` runs its compensation (`onFailure`) is
 * applied, its message goes to the dead letters and the caller gets the error, in one transaction.
 * A crash leaves the lock for the next lease holder, which re-runs it (or gives up).
 * @internal
 */
import type { ActorDefinition, Compensation, Recipe, Thunk, ThunkContext } from '../define/actor.js';
import type { Transaction } from '../backend/contract.js';
import { CommitUnknownResultError } from '../backend/errors.js';
import { storedError, type Commit, type InstanceConsumer } from './consumer.js';
import { ActorError, DgenError } from '../errors.js';
import { produceWithPatches, type Draft, type Patch } from '../util/immer.js';
import type { Lease } from '../store/lease.js';
import { clearLock, readLock, writeLock, type LockRecord } from '../store/lock.js';
import { toDeadLettersRaw, type StoredError, type StoredReply } from '../store/queue.js';
import { validateValue } from '../state/codec.js';
import { decodeVersion } from '../store/version.js';
import { randomHex } from '../util/random-hex.js';
import { decodeEnvelope, type Envelope } from '../store/message.js';
import { evolve, isOutdated, type Evolved } from '../evolution/migrate-state.js';
import { leaveOutdated, type Outdated } from '../evolution/outdated.js';
import { readDefinitionVersion } from '../evolution/stored-version.js';

/** The lock moved on (another consumer took the lease) before this run could apply its result. */
export class StaleLockError extends DgenError {
  constructor(actor: string, id: string) {
    super('stale_lock', `The thunk result for '${actor}/${id}' was refused: this consumer lost the lock's lease (fencing token changed).`);
  }
}

export type ThunkResult = { readonly kind: 'released' | 'gone' | 'stopped' } | { readonly kind: 'standby'; readonly until: number } | Outdated;

/** What a thunk run finished with: the recipe to apply, and the reply for the locking call if it gave one. */
interface Finished<S> {
  readonly recipe: Recipe<S> | undefined;
  readonly reply?: { readonly value: unknown };
}

type Claim<S> = { kind: 'run'; lock: LockRecord; state: S } | { kind: 'exhausted'; lock: LockRecord } | { kind: 'gone' } | { kind: 'standby'; until: number } | Outdated;

export async function runLockedThunk<S>(c: InstanceConsumer<S>): Promise<ThunkResult> {
  for (;;) {
    // An ambiguous claim is claimed again under the same id: it never burns an attempt.
    const claimId = randomHex(8);
    const claim = await untilDecided(() => c.rt.backend.transact((tx) => claimRun(c, tx, claimId)));
    if (claim.kind === 'gone' || claim.kind === 'standby' || claim.kind === 'outdated') return claim;
    if (claim.kind === 'exhausted') {
      // The last run crashed (or its consumer stopped) after it failed: give up now.
      const error = claim.lock.lastError ?? { name: 'Error', message: `thunk '${claim.lock.thunk}' did not finish in ${claim.lock.attempt} run(s)`, code: 'thunk_failed' };
      await fail(c, claim.lock, error);
      emitFailed(c, claim.lock, error);
      return { kind: 'released' };
    }
    let outcome = await runWithLease(c, claim.lock, claim.state);
    if (c.stopping.aborted) return { kind: 'stopped' };
    if ('finished' in outcome) {
      try {
        const { messageId, action, thunk, attempt } = claim.lock;
        // Emitted before the caller is answered, so whoever awaits the call sees the event already.
        await complete(c, claim.lock, outcome.finished, () => c.rt.emit({ type: 'thunk-succeeded', actor: c.def.name, id: c.id, messageId, action, thunk, attempt }));
        return { kind: 'released' };
      } catch (e) {
        if (e instanceof StaleLockError) return { kind: 'standby', until: Date.now() + c.def.options.leaseMs };
        outcome = { error: e };
      }
    }
    if ('error' in outcome) {
      const error = storedError(outcome.error, 'thunk_failed');
      const willRetry = claim.lock.attempt < c.def.options.thunkAttempts;
      const { messageId, action, thunk, attempt } = claim.lock;
      c.rt.emit({ type: 'thunk-failed', actor: c.def.name, id: c.id, messageId, action, thunk, attempt, willRetry, error: outcome.error });
      // Kept with the lock, so that whoever gives up after a crash reports this error.
      await untilDecided(() =>
        c.rt.backend.transact(async (tx) => {
          const lock = await readLock(tx, c.keys);
          if (lock?.messageId === claim.lock.messageId) writeLock(tx, c.keys, { ...lock, lastError: error });
        }),
      );
      if (!willRetry) {
        await fail(c, claim.lock, error);
        emitFailed(c, claim.lock, outcome.error);
        return { kind: 'released' };
      }
      await new Promise((r) => setTimeout(r, c.def.options.thunkRetryMs * 2 ** (claim.lock.attempt - 1)));
    }
  }
}

/** The message of `lock` went to the dead letters. */
function emitFailed<S>(c: InstanceConsumer<S>, lock: LockRecord, error: unknown): void {
  c.rt.emit({ type: 'message-failed', actor: c.def.name, id: c.id, messageId: lock.messageId, action: lock.action, error, policy: 'dead-letter', attempts: lock.attempt });
}

/** Takes the next run of the lock for this consumer, with the committed state it runs on. */
async function claimRun<S>(c: InstanceConsumer<S>, tx: Transaction, claimId: string): Promise<Claim<S>> {
  const lease = await c.lease(tx);
  if (typeof lease === 'number') return { kind: 'standby', until: lease };
  const stored = await readDefinitionVersion(tx, c.keys);
  if (isOutdated(c.def, stored)) return leaveOutdated(tx, c.keys, c.owner, stored); // a newer host locked it: it runs the thunk
  const lock = await readLock(tx, c.keys);
  if (lock === undefined) return { kind: 'gone' };
  if (lock.claim === claimId && lock.owner === c.owner && lock.token === lease.token) {
    return { kind: 'run', lock, state: (await evolvedState(c, tx)).state }; // our claim committed
  }
  if (lock.attempt >= c.def.options.thunkAttempts) {
    // The last run may have been another consumer's (it crashed): take the lock over, so that
    // `fail` passes the fence and releases it.
    const owned: LockRecord = { ...lock, owner: c.owner, token: lease.token };
    if (lock.owner !== c.owner || lock.token !== lease.token) writeLock(tx, c.keys, owned);
    return { kind: 'exhausted', lock: owned };
  }
  const claimed: LockRecord = { ...lock, owner: c.owner, token: lease.token, attempt: lock.attempt + 1, claim: claimId };
  writeLock(tx, c.keys, claimed);
  const { state } = await evolvedState(c, tx);
  return { kind: 'run', lock: claimed, state };
}

/**
 * The committed state as this definition sees it: migrated when an older one locked it (the thunk
 * and its recipe are this definition's code). Refuses, like a lost fence, a state a newer
 * definition wrote meanwhile (an eager `dgen migrate`).
 */
async function evolvedState<S>(c: InstanceConsumer<S>, tx: Transaction): Promise<Evolved<S> & { version: ReturnType<typeof decodeVersion>; base: S }> {
  const [version, stored] = await Promise.all([tx.get(c.keys.version).then(decodeVersion), readDefinitionVersion(tx, c.keys)]);
  if (isOutdated(c.def, stored)) throw new StaleLockError(c.def.name, c.id);
  const base = await c.baseState(tx, version);
  return { ...evolve(c.def, base, stored, version.n > 0, c.id), version, base };
}

/**
 * Runs the thunk outside any transaction, renewing the lease; the signal fires if the lease is
 * lost or the consumer stops (then the thunk is abandoned: the lock stays for the next owner).
 */
async function runWithLease<S>(c: InstanceConsumer<S>, lock: LockRecord, state: S): Promise<{ finished: Finished<S> } | { error: unknown }> {
  const controller = new AbortController();
  const onStop = () => controller.abort(c.stopping.reason);
  c.stopping.addEventListener('abort', onStop, { once: true });
  const abandoned = new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true }));
  abandoned.catch(() => {}); // raced below; never left unhandled when the thunk throws at once
  if (c.stopping.aborted) onStop(); // stopped while the claim committed: a listener added now would never fire
  let renewing = false; // one renewal at a time: during a store recovery one rides it out, the next ticks skip
  const renew = setInterval(() => {
    if (renewing) return;
    renewing = true;
    c.rt.backend
      .transact((tx) => c.lease(tx))
      .then((lease) => {
        if (typeof lease === 'number' || lease.token !== lock.token) controller.abort(new StaleLockError(c.def.name, c.id));
      })
      .catch(() => {})
      .finally(() => (renewing = false));
  }, c.def.options.leaseMs / 3);
  try {
    const { run } = thunkParts(c.def, lock.thunk);
    if (run === undefined) throw new DgenError('unknown_thunk', `Actor '${c.def.name}' has no thunk named '${lock.thunk}' (the lock was written by another version of the code).`);
    const ctx: ThunkContext<S> = { state, key: `${c.def.name}/${c.id}/${lock.messageId}`, actorId: c.id, signal: controller.signal, attempt: lock.attempt, fencingToken: lock.token };
    const running = () => Promise.race([(run as (args: unknown, ctx: ThunkContext<S>) => unknown)(lock.args, ctx), abandoned]);
    const result = await c.rt.observer.thunk(c.def.name, c.id, lock.thunk, lockedMessage(lock), lock.attempt, running);
    return { finished: finishedOf(c, lock.thunk, result) };
  } catch (error) {
    return { error };
  } finally {
    clearInterval(renew);
    c.stopping.removeEventListener('abort', onStop);
  }
}

/** The message that locked, as stored with the lock (its trace context is the thunk span's parent). */
function lockedMessage(lock: LockRecord): Envelope | undefined {
  try {
    return decodeEnvelope(lock.raw);
  } catch {
    return undefined;
  }
}

/** Checks this run still owns the lock under the same lease (fencing token). */
async function fence<S>(c: InstanceConsumer<S>, tx: Transaction, lock: LockRecord): Promise<Lease> {
  const lease = await c.lease(tx);
  const current = await readLock(tx, c.keys);
  if (typeof lease === 'number' || lease.token !== lock.token || current?.messageId !== lock.messageId || current.token !== lock.token || current.owner !== c.owner) {
    throw new StaleLockError(c.def.name, c.id);
  }
  return lease;
}

/** A thunk declared as a function or as `{ run, onFailure }`. */
function thunkParts<S>(def: ActorDefinition<S>, name: string): { run?: Thunk<S>; onFailure?: Compensation<S> } {
  const entry = Object.hasOwn(def.thunks, name) ? def.thunks[name] : undefined;
  return typeof entry === 'function' ? { run: entry } : (entry ?? {});
}

/** Checks what a thunk returned: a recipe, `{ recipe, reply }` or nothing; the reply must be storable. */
function finishedOf<S>(c: InstanceConsumer<S>, thunk: string, result: unknown): Finished<S> {
  if (result === undefined || typeof result === 'function') return { recipe: result as Recipe<S> | undefined };
  const r = result as { recipe?: unknown; reply?: unknown } | null;
  const keys = r !== null && typeof r === 'object' && !Array.isArray(r) ? Object.keys(r) : ['?'];
  if (keys.some((k) => k !== 'recipe' && k !== 'reply') || (r!.recipe !== undefined && typeof r!.recipe !== 'function')) {
    throw new DgenError('invalid_recipe', `Thunk '${thunk}' of '${c.def.name}' must return a recipe function, { recipe, reply }, or nothing.`);
  }
  if (!('reply' in r!)) return { recipe: r!.recipe as Recipe<S> | undefined };
  validateValue(r!.reply, `reply of thunk '${thunk}'`);
  return { recipe: r!.recipe as Recipe<S> | undefined, reply: { value: r!.reply } };
}

/** The locking message, as the outcome its caller waits for. */
function outcomeOf(lock: LockRecord, reply: StoredReply) {
  return { envelope: { id: lock.messageId, action: lock.action, wantsReply: lock.wantsReply, replyTo: lock.replyTo, keep: lock.keep }, reply };
}

/**
 * Applies the recipe, releases the lock and delivers the locking message's reply (the thunk's,
 * else the reducer's), in one transaction.
 */
async function complete<S>(c: InstanceConsumer<S>, lock: LockRecord, finished: Finished<S>, committed: () => void): Promise<void> {
  const { recipe } = finished;
  const reply: StoredReply = finished.reply === undefined ? lock.reply : { ok: true, value: finished.reply.value };
  await untilDecided(() => c.commitChange(async (tx, batchId): Promise<Commit<S>> => {
    await fence(c, tx, lock);
    const { version, base, state: evolved, patches: migration, write, failure } = await evolvedState(c, tx);
    if (failure !== undefined) throw failure;
    const [state, patches] = recipe === undefined ? [evolved, []] : produceWithPatches(evolved, (draft: Draft<S>) => void recipe(draft));
    for (const p of patches) if (p.op !== 'remove') validateValue(p.value, `state (recipe of ${lock.thunk})`);
    clearLock(tx, c.keys);
    return c.writeState(tx, batchId, version, base, state as S, [...migration, ...patches], [outcomeOf(lock, reply)], write);
  }, committed));
}

/**
 * Runs a commit again while it ends in `commit_unknown_result` that did not apply (commitChange
 * has checked that): a storage fault while releasing the lock is not the thunk's failure, and must
 * not make a thunk that succeeded give up, nor a compensation be skipped.
 */
async function untilDecided<T>(commit: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await commit();
    } catch (e) {
      if (!(e instanceof CommitUnknownResultError)) throw e;
    }
  }
}

/**
 * Gives up: runs the thunk's compensation (`onFailure`), moves the message to the dead letters,
 * answers the caller with the error and releases the lock, all in one transaction, so the
 * compensation is applied exactly once (an ambiguous commit is resolved by the version key).
 */
async function fail<S>(c: InstanceConsumer<S>, lock: LockRecord, error: StoredError): Promise<void> {
  await untilDecided(() => c.commitChange(async (tx, batchId): Promise<Commit<S>> => {
    await fence(c, tx, lock);
    const { version, base, state: evolved, patches: migration, write, failure } = await evolvedState(c, tx);
    // A failed migration leaves the stored state as it is: no compensation on a state of the wrong shape.
    const { state, patches, letter } = failure === undefined ? compensate(c, lock, evolved, error) : { state: base, patches: [], letter: { ...error, message: `${error.message} (its compensation did not run: ${failure.message})` } };
    clearLock(tx, c.keys);
    toDeadLettersRaw(tx, c.keys, lock.items, lock.raw, letter, lock.attempt);
    return c.writeState(tx, batchId, version, base, state, [...migration, ...patches], [outcomeOf(lock, { ok: false, error })], write);
  }));
}

/**
 * Applies the thunk's `onFailure` to the state. A compensation that throws (or makes a state
 * that cannot be stored) changes nothing, like a reducer that throws; the dead letter says why.
 */
function compensate<S>(c: InstanceConsumer<S>, lock: LockRecord, base: S, error: StoredError): { state: S; patches: Patch[]; letter: StoredError } {
  const { onFailure } = thunkParts(c.def, lock.thunk);
  if (onFailure === undefined) return { state: base, patches: [], letter: error };
  try {
    const thrown = new ActorError({ ...error, action: lock.action });
    const [state, patches] = produceWithPatches(base, (draft: Draft<S>) => void (onFailure as (d: Draft<S>, e: ActorError, a: unknown) => void)(draft, thrown, lock.args));
    for (const p of patches) if (p.op !== 'remove') validateValue(p.value, `state (onFailure of ${lock.thunk})`);
    return { state: state as S, patches, letter: error };
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return { state: base, patches: [], letter: { ...error, message: `${error.message} (and its compensation onFailure failed, changing nothing: ${why})` } };
  }
}
