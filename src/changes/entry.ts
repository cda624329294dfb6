/**
 * One feed entry: what one committed batch did to one instance. Written in the batch's own
 * transaction under a versionstamped key, so the feed's order is the store's commit order across
 * every process, and a batch that did not commit wrote no entry.
 *
 * Size is bounded as history's is (serve/consumer.ts): the patches are kept when they take at most
 * the bytes the batch may spend on history, and never more than {@link ENTRY_MAX_BYTES} (one value,
 * never chunked); past that the entry holds `patches: null` and a reader that wants the state
 * reloads it.
 * @internal
 */
import type { Transaction } from '../backend/contract.js';
import type { Patch } from '../util/immer.js';
import { decodeValue, encodeValue } from '../state/codec.js';
import type { Layout } from '../store/keys.js';
import { feedKeys } from './keys.js';
import type { ChangeFeedSettings } from '../define/changes.js';

/** Most bytes of an entry with its patches: one value, under the store's 100,000-byte limit. */
export const ENTRY_MAX_BYTES = 90_000;

/** A feed entry as stored. */
export interface StoredChange {
  readonly id: string;
  readonly version: number;
  /** Wall-clock time of the writing process at commit (ms): what time retention compares. */
  readonly at: number;
  readonly patches: Patch[] | null;
  readonly messages: ReadonlyArray<{ readonly id: string; readonly action: string }>;
}

/** The messages of a batch, as a feed entry lists them. */
export interface BatchMessage {
  readonly envelope?: { readonly id: string; readonly action: string } | undefined;
  readonly error?: unknown;
}

/** Order of a feed entry within one transaction (several instances may commit in one, inline). */
const written = new WeakMap<Transaction, number>();

/**
 * Writes the feed entry of one batch of instance `id`, when its definition keeps a feed: one
 * versionstamped key, and one atomic add (the count readers watch). Nothing at all otherwise.
 */
export function writeChange(tx: Transaction, layout: Layout, def: { readonly name: string; readonly changes?: ChangeFeedSettings | undefined }, id: string, version: number, patches: Patch[], outcomes: readonly BatchMessage[], maxBytes: number): void {
  if (def.changes === undefined) return;
  const keys = feedKeys(layout, def.name);
  const messages = outcomes.flatMap((o) => (o.envelope === undefined || o.error !== undefined ? [] : [[o.envelope.id, o.envelope.action]]));
  const at = Date.now();
  let value = encodeValue([id, version, at, patches, messages]);
  if (value.length > Math.min(maxBytes, ENTRY_MAX_BYTES)) value = encodeValue([id, version, at, null, messages]);
  const order = written.get(tx) ?? 0;
  written.set(tx, order + 1);
  const { key, stampOffset } = keys.entries.packVersionstamped([], order);
  tx.setVersionstampedKey(key, stampOffset, value);
  tx.add(keys.count, 1);
}

export function decodeChange(bytes: Uint8Array): StoredChange {
  const [id, version, at, patches, messages] = decodeValue(bytes) as [string, number, number, Patch[] | null, [string, string][]];
  return { id, version, at, patches, messages: messages.map(([mid, action]) => ({ id: mid, action })) };
}
