/**
 * The history entry of one version of an actor's state: the immer patches from the previous
 * version (for observers in other processes, see client/observe.ts), or null when they were too large
 * to keep, and the id of the batch that wrote it. The batch id lets a consumer tell, after
 * `commit_unknown_result`, whether its batch committed even when later batches have already moved
 * the version key on.
 * @internal
 */
import type { Patch } from '../util/immer.js';
import { decodeValue, encodeValue } from '../state/codec.js';

export interface HistoryEntry {
  readonly batch: string;
  /** Null when the batch's patches were over the size kept (observers reload the state). */
  readonly patches: Patch[] | null;
}

export function encodeHistory(batch: string, patches: Patch[], maxBytes: number): Buffer {
  const full = encodeValue([batch, patches]);
  return full.length <= maxBytes ? full : encodeValue([batch, null]);
}

export function decodeHistory(bytes: Uint8Array): HistoryEntry {
  const [batch, patches] = decodeValue(bytes) as [string, Patch[] | null];
  return { batch, patches };
}
