/**
 * The parts of `system.admin` an inspector needs beyond listing and repair: a stored state read a
 * subtree at a time, the recent commits with their patches, the state as of one of them, the
 * version as it moves, and a dispatch checked against the definition.
 * @internal
 */
import { Observable } from 'rxjs';
import type { ActorDefinition } from '../define/actor.js';
import { DgenError, UnknownActionError } from '../errors.js';
import { readNode, type NodeKind } from '../state/node.js';
import { StateStore } from '../state/store.js';
import { groupBlobs } from '../store/blob.js';
import { decodeHistory } from '../store/history.js';
import type { ActorKeys } from '../store/keys.js';
import { enqueue, landed, outgoing } from '../store/queue.js';
import { decodeVersion } from '../store/version.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Transaction, Watch } from '../backend/contract.js';
import { applyPatches, type Patch } from '../util/immer.js';

/**
 * One node of a stored state and a page of its children, as `admin.stateNode` reads it.
 * Addresses and cursors are hex strings, opaque to callers.
 *
 * @example
 * ```ts
 * const root = await system.admin.stateNode(Counter, 'a');
 * for (const c of root?.children ?? []) console.log(c.label, c.kind, c.value);
 * ```
 */
export interface StateNode {
  readonly kind: NodeKind;
  /** A leaf's value. */
  readonly value?: unknown;
  readonly children: ReadonlyArray<{ readonly label: unknown; readonly address: string; readonly kind: NodeKind; readonly value?: unknown }>;
  /** The cursor of the next page (`after`), absent on the last one. */
  readonly next?: string;
}

/**
 * A recent commit of an instance: the version it wrote and immer's patches from the version
 * before (null when they were too large to keep).
 * @example
 * ```ts
 * for (const c of await system.admin.commits(Counter, 'a', { limit: 10 })) console.log(c.version, c.patches);
 * ```
 */
export interface CommitEntry {
  readonly version: number;
  readonly patches: readonly Patch[] | null;
}

/** The history of an instance does not reach back to the version asked for. */
export class HistoryUnavailableError extends DgenError {
  constructor(message: string) {
    super('history_unavailable', message);
  }
}

/** The system does not know the definition an operation needs (its initial state or its reducers). */
export class UnknownDefinitionError extends DgenError {
  constructor(name: string, what: string) {
    super('unknown_definition', `${what} needs the definition of actor '${name}': use a system where it is registered (system.ref or system.serve), or pass the definition itself.`);
  }
}

const HEX = /^(?:[0-9a-f]{2})*$/;

function hex(what: string, s: string | undefined): Buffer | undefined {
  if (s === undefined) return undefined;
  if (typeof s !== 'string' || !HEX.test(s) || s.length > 20_000) throw new DgenError('invalid_address', `${what} '${String(s).slice(0, 40)}' is not a node address (hex digits, as listed by stateNode()).`);
  return Buffer.from(s, 'hex');
}

export function checkLimit(limit: unknown, fallback: number, max = 10_000): number {
  if (limit === undefined) return fallback;
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1 || limit > max) throw new DgenError('invalid_limit', `limit must be an integer from 1 to ${max.toLocaleString('en-US')}, got ${String(limit)}.`);
  return limit;
}

export async function stateNode(rt: Runtime, keys: ActorKeys, address = '', options: { readonly after?: string; readonly limit?: number } = {}): Promise<StateNode | undefined> {
  const at = hex('address', address)!;
  const after = hex('after', options.after);
  const limit = checkLimit(options.limit, 100);
  const node = await rt.backend.transact((tx) => readNode(tx, keys.state, at, after === undefined ? { limit } : { after, limit }), { idempotent: true });
  if (node === undefined) return undefined;
  const children = node.children.map((c) => ({ ...c, address: c.address.toString('hex') }));
  const view: StateNode = { kind: node.kind, children, ...('value' in node ? { value: node.value } : {}) };
  return node.next === undefined ? view : { ...view, next: node.next.toString('hex') };
}

/** Recent commits, newest first, before version `before` (exclusive) when given. */
export async function commits(rt: Runtime, keys: ActorKeys, options: { readonly limit?: number; readonly before?: number } = {}): Promise<CommitEntry[]> {
  const limit = checkLimit(options.limit, 20);
  const { before } = options;
  if (before !== undefined && (!Number.isSafeInteger(before) || before < 1)) throw new DgenError('invalid_version', `before must be a version (a positive integer), got ${String(before)}.`);
  const end = before === undefined ? keys.history.range().end : keys.history.pack([before]);
  const kvs = await rt.backend.transact((tx) => tx.getRange(keys.history.range().begin, end, { reverse: true, limit: limit * 16, snapshot: true }), { idempotent: true });
  const blobs = groupBlobs(keys.history, [...kvs].reverse(), 1).filter((b) => b.bytes !== undefined);
  return blobs
    .reverse()
    .slice(0, limit)
    .map((b) => ({ version: b.items[0] as number, patches: decodeHistory(b.bytes!).patches }));
}

/**
 * The state as of `version`: the definition's initial state with the kept patches of versions 1
 * to `version` applied (the current version is read as stored). Patches are kept forwards only
 * (HISTORY_KEEP batches), so an earlier version is reachable while the history from version 1 is whole.
 */
export async function stateAt(rt: Runtime, keys: ActorKeys, def: ActorDefinition<unknown> | undefined, name: string, version: number): Promise<unknown> {
  if (!Number.isSafeInteger(version) || version < 0) throw new DgenError('invalid_version', `version must be an integer ≥ 0, got ${String(version)}.`);
  if (def === undefined) throw new UnknownDefinitionError(name, 'The state as of a version');
  const { current, blobs, stored } = await rt.backend.transact(async (tx) => {
    const current = decodeVersion(await tx.get(keys.version, { snapshot: true })).n;
    if (version === current && current > 0) return { current, blobs: [], stored: await new StateStore(keys.state).load(tx, { snapshot: true }) };
    const kvs = await tx.getRange(keys.history.pack([1]), keys.history.range([version]).end, { snapshot: true });
    return { current, blobs: groupBlobs(keys.history, kvs, 1), stored: undefined };
  }, { idempotent: true });
  if (version > current) throw new HistoryUnavailableError(`Version ${version} of '${name}' is not committed yet (the current version is ${current}).`);
  if (stored !== undefined) return stored.state;
  let state = def.initialState();
  for (let v = 1; v <= version; v++) {
    const blob = blobs[v - 1];
    const patches = blob?.items[0] === v && blob.bytes !== undefined ? decodeHistory(blob.bytes).patches : undefined;
    if (patches === undefined || patches === null) throw new HistoryUnavailableError(`The history of '${name}' no longer holds the patches of version ${v}: only the most recent batches are kept, forwards, so the states before them cannot be rebuilt.`);
    state = applyPatches(state as object, patches);
  }
  return state;
}

/**
 * The instance's version now, then after every commit that moves it. The version is read and the
 * watch set in one transaction, so no commit falls between them unseen.
 */
export function versions(rt: Runtime, keys: ActorKeys): Observable<number> {
  return new Observable<number>((subscriber) => {
    let stopped = false;
    let watch: Watch | undefined;
    const loop = async () => {
      while (!stopped && !rt.backend.closed) {
        try {
          const read = await rt.backend.transact(async (tx) => ({ n: decodeVersion(await tx.get(keys.version)).n, watch: tx.watch(keys.version) }), { idempotent: true });
          watch = read.watch;
          if (stopped) break;
          subscriber.next(read.n);
          await read.watch.promise;
        } catch {
          if (!rt.backend.closed) await new Promise((r) => setTimeout(r, 100)); // storage hiccup: read again
        }
      }
      watch?.cancel();
      subscriber.complete();
    };
    const stop = () => {
      stopped = true;
      watch?.cancel();
    };
    rt.shutdown.signal.addEventListener('abort', stop, { once: true });
    void loop();
    return () => {
      stop();
      rt.shutdown.signal.removeEventListener('abort', stop);
    };
  });
}

/** Enqueues one message after checking its action against the definition. Returns its message id. */
export async function dispatchChecked(rt: Runtime, keys: ActorKeys, def: ActorDefinition<unknown> | undefined, name: string, id: string, action: string, payload: unknown): Promise<string> {
  if (def === undefined) throw new UnknownDefinitionError(name, 'A dispatch');
  if (typeof action !== 'string' || !Object.hasOwn(def.reducers, action)) throw new UnknownActionError(name, String(action));
  const message = outgoing(action, payload, false, undefined, undefined, def.version);
  await rt.backend.transact(async (tx) => {
    if ((await landed(tx, keys, [message])) === undefined) enqueue(tx, keys, [message]); // a retry after an unknown commit result
  });
  rt.enqueued$.next({ name, id });
  return message.envelope.id;
}

/**
 * A definition in the inspector's overview: like `ActorSummary`, with queue depth and dead
 * letters counted over the first `counted` instances only when there are more than the overview
 * was asked to count.
 *
 * @example
 * ```ts
 * for (const a of await system.admin.overview()) console.log(a.name, a.instances, a.counted < a.instances ? `${a.deadLetters}+` : a.deadLetters);
 * ```
 */
export interface ActorOverview {
  readonly name: string;
  readonly instances: number;
  readonly queued: number;
  readonly deadLetters: number;
  /** Instances whose queue and dead letters were counted (all of them unless capped). */
  readonly counted: number;
}

const IDS_PER_TX = 2_000;
const COUNTS_PER_TX = 250;

/**
 * Every definition with stored instances, for a first look at a large store: names by skipping
 * from one to the next, instances from the index (a few thousand ids a transaction), queue depth
 * and dead letters of the first `countUpTo` instances (a few hundred a transaction).
 */
export async function overview(rt: Runtime, countUpTo: number): Promise<ActorOverview[]> {
  const all = rt.layout.root.at('a');
  const out: ActorOverview[] = [];
  let begin = all.range().begin;
  for (;;) {
    const [first] = await rt.backend.transact((tx) => tx.getRange(begin, all.range().end, { limit: 1, snapshot: true }), { idempotent: true });
    if (first === undefined) return out;
    const name = all.unpack(first.key)[0];
    begin = all.range([name!]).end;
    if (typeof name !== 'string') continue;
    const ids = await instanceIds(rt, name);
    let queued = 0;
    let deadLetters = 0;
    const counted = ids.slice(0, countUpTo);
    for (let i = 0; i < counted.length; i += COUNTS_PER_TX) {
      const counts = await rt.backend.transact((tx) => Promise.all(counted.slice(i, i + COUNTS_PER_TX).map((id) => countsOf(tx, rt.layout.actor(name, id)))), { idempotent: true });
      for (const [q, d] of counts) (queued += q), (deadLetters += d);
    }
    out.push({ name, instances: ids.length, queued, deadLetters, counted: counted.length });
  }
}

/** Ids in the index of instances with state or dead letters, or with work: as `admin.instances` lists them. */
async function instanceIds(rt: Runtime, name: string): Promise<string[]> {
  const ids = new Set<string>();
  for (const sub of [rt.layout.index(name), rt.layout.work(name)]) {
    let begin = sub.range().begin;
    for (;;) {
      const kvs = await rt.backend.transact((tx) => tx.getRange(begin, sub.range().end, { limit: IDS_PER_TX, snapshot: true }), { idempotent: true });
      for (const kv of kvs) ids.add(String(sub.unpack(kv.key)[0]));
      if (kvs.length < IDS_PER_TX) break;
      begin = Buffer.concat([Buffer.from(kvs.at(-1)!.key), Buffer.of(0)]);
    }
  }
  return [...ids].sort();
}

async function countsOf(tx: Transaction, keys: ActorKeys): Promise<[number, number]> {
  const count = async (sub: ActorKeys['queue']) => groupBlobs(sub, await tx.getRange(sub.range().begin, sub.range().end, { snapshot: true }), 1).length;
  return [await count(keys.queue), await count(keys.deadLetters)];
}
