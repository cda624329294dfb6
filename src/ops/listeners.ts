/**
 * The operator's view of durable listeners (`system.listen`): each one's checkpoint, lag, lease,
 * halt and dead letters, and resuming a halted one. Used by `system.admin` and `dgen listeners`.
 */
import type { Backend } from '../backend/contract.js';
import { readCheckpoint, writeCheckpoint } from '../changes/checkpoint.js';
import { encodeCursor, positionOf } from '../changes/cursor.js';
import { feedKeys, listenerKeys, listenersRoot } from '../changes/keys.js';
import { readCount, readLowWater, readPage } from '../changes/page.js';
import { decodeValue } from '../state/codec.js';
import type { Layout } from '../store/keys.js';
import { readLease } from '../store/lease.js';
import type { StoredError } from '../store/queue.js';

/**
 * A durable listener as `admin.listeners()` and `dgen listeners` show it.
 *
 * @example
 * ```ts
 * for (const l of await system.admin.listeners()) if (l.halted || l.lag.ms > 60_000) alert(`${l.name} is behind by ${l.lag.changes} changes`);
 * ```
 */
export interface ListenerInfo {
  readonly name: string;
  /** The definition whose feed it follows. */
  readonly on: string;
  /** The cursor of the last change it handled (or passed over); undefined before the first. */
  readonly cursor: string | undefined;
  /** Changes in the feed after its cursor, and the age in ms of the oldest of them (0 when caught up). */
  readonly lag: { readonly changes: number; readonly ms: number };
  /** The process holding it, while its lease runs. */
  readonly owner: string | undefined;
  /** The change it halted at, and why. */
  readonly halted: { readonly cursor: string; readonly error: StoredError; readonly at: number } | undefined;
  /** Changes it gave up on (option `onFailure: 'dead-letter'`). */
  readonly deadLetters: number;
}

/**
 * A change a listener gave up on (option `onFailure: 'dead-letter'`).
 *
 * @example
 * ```ts
 * for (const d of await system.admin.listenerDeadLetters('search-index')) console.log(d.cursor, d.id, d.error.message);
 * ```
 */
export interface ListenerDeadLetter {
  readonly cursor: string;
  readonly id: string;
  readonly version: number;
  readonly messages: ReadonlyArray<{ readonly id: string; readonly action: string }>;
  readonly error: StoredError;
  readonly at: number;
}

/** Every listener with a stored checkpoint, by name. @internal */
export async function listListeners(backend: Backend, layout: Layout, now = Date.now()): Promise<ListenerInfo[]> {
  const root = listenersRoot(layout);
  const names = await backend.transact(async (tx) => {
    const out: string[] = [];
    for (const kv of await tx.getRange(root.range().begin, root.range().end, { snapshot: true })) {
      const [name, kind] = root.unpack(kv.key);
      if (kind === 'c' && typeof name === 'string') out.push(name);
    }
    return out;
  });
  const out: ListenerInfo[] = [];
  for (const name of names) {
    out.push(
      await backend.transact(async (tx) => {
        const keys = listenerKeys(layout, name);
        const cp = (await readCheckpoint(tx, keys.checkpoint, true))!;
        const feed = feedKeys(layout, cp.on);
        const [next] = await readPage(tx, feed, cp.position, 1);
        const lease = await readLease(tx, keys, true);
        const letters = await tx.getRange(keys.deadLetters.range().begin, keys.deadLetters.range().end, { snapshot: true });
        return {
          name,
          on: cp.on,
          cursor: cp.position === undefined ? undefined : encodeCursor(cp.position),
          lag: { changes: Math.max(0, (await readCount(tx, feed)) - cp.passed), ms: next === undefined ? 0 : Math.max(0, now - next.at) },
          owner: lease !== undefined && lease.expires > now ? lease.owner : undefined,
          halted: cp.halted,
          deadLetters: letters.length,
        };
      }),
    );
  }
  return out;
}

/** The changes listener `name` gave up on, oldest first. @internal */
export async function listenerDeadLetters(backend: Backend, layout: Layout, name: string): Promise<ListenerDeadLetter[]> {
  const keys = listenerKeys(layout, name);
  const kvs = await backend.transact((tx) => tx.getRange(keys.deadLetters.range().begin, keys.deadLetters.range().end, { snapshot: true }));
  return kvs.map(({ key, value }) => ({ cursor: encodeCursor(positionOf(keys.deadLetters.unpack(key))), ...(decodeValue(value) as Omit<ListenerDeadLetter, 'cursor'>) }));
}

/**
 * Lets a halted listener go on: it retries the change it halted at, or passes over it with
 * `skip`. False when it was not halted. @internal
 */
export async function resumeListener(backend: Backend, layout: Layout, name: string, skip = false): Promise<boolean> {
  const keys = listenerKeys(layout, name);
  return backend.transact(async (tx) => {
    const cp = await readCheckpoint(tx, keys.checkpoint);
    if (cp?.halted === undefined) return false;
    if (cp.halted.error.code === 'cursor_expired') {
      // Its feed was pruned past it: it starts again after the newest change pruned, the oldest kept next.
      const lw = await readLowWater(tx, feedKeys(layout, cp.on));
      writeCheckpoint(tx, keys.checkpoint, { on: cp.on, position: lw.position, passed: lw.pruned });
      return true;
    }
    const position = skip ? Buffer.from(cp.halted.cursor, 'hex') : cp.position;
    writeCheckpoint(tx, keys.checkpoint, { on: cp.on, position, passed: cp.passed + (skip ? 1 : 0) });
    return true;
  });
}
