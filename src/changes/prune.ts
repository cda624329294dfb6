/**
 * Retention: a pass drops the oldest entries past the definition's bounds (older than `ms`, or
 * beyond the newest `count`) with one range clear up to the last dropped position, and moves the
 * low-water mark there. Passes run in the background of every process that serves the definition,
 * never in a batch; two passes at once serialize on the low-water key.
 * @internal
 */
import type { Transaction } from '../backend/contract.js';
import type { Runtime } from '../runtime/runtime.js';
import { keyAfter } from '../store/queue.js';
import { stampItem } from './cursor.js';
import { feedKeys, type FeedKeys } from './keys.js';
import type { ChangeFeedSettings } from '../define/changes.js';
import { readCount, readLowWater, readPage, writeLowWater } from './page.js';

/** Entries one pass looks at: bounds the bytes one pruning transaction reads. */
const PASS_ENTRIES = 128;
/** Pause between pruning rounds of one process. */
export const PRUNE_EVERY_MS = 5_000;

/** One pass; returns how many entries it dropped. */
export async function prunePass(tx: Transaction, keys: FeedKeys, retention: ChangeFeedSettings['retention'], now = Date.now()): Promise<number> {
  const lw = await readLowWater(tx, keys, false); // not a snapshot: concurrent passes conflict instead of both counting
  const excess = retention.count === undefined ? 0 : (await readCount(tx, keys)) - lw.pruned - retention.count;
  const oldest = await readPage(tx, keys, undefined, PASS_ENTRIES);
  const cutoff = retention.ms === undefined ? -Infinity : now - retention.ms;
  let dropped = 0;
  for (const e of oldest) {
    if (dropped >= excess && e.at >= cutoff) break;
    dropped++;
  }
  if (dropped === 0) return 0;
  const last = oldest[dropped - 1]!.position;
  tx.clearRange(keys.entries.range().begin, keyAfter(keys.entries.pack([stampItem(last)])));
  writeLowWater(tx, keys, { position: last, pruned: lw.pruned + dropped });
  return dropped;
}

/** Prunes `name`'s feed until nothing is left to drop. */
export async function pruneFeed(rt: Runtime, name: string, settings: ChangeFeedSettings): Promise<number> {
  const keys = feedKeys(rt.layout, name);
  let total = 0;
  for (;;) {
    const n = await rt.backend.transact((tx) => prunePass(tx, keys, settings.retention), { idempotent: true });
    total += n;
    if (n < PASS_ENTRIES) return total;
  }
}

/** Prunes `name`'s feed every {@link PRUNE_EVERY_MS} until the system closes (once per system and definition). */
export function keepPruned(rt: Runtime, name: string, settings: ChangeFeedSettings): void {
  const running = pruners.get(rt) ?? new Set<string>();
  pruners.set(rt, running);
  if (running.has(name)) return;
  running.add(name);
  const timer = setInterval(() => {
    pruneFeed(rt, name, settings).catch(() => undefined); // retried at the next round
  }, PRUNE_EVERY_MS);
  timer.unref();
  rt.shutdown.signal.addEventListener('abort', () => clearInterval(timer));
}

const pruners = new WeakMap<Runtime, Set<string>>();
