/**
 * The "bare engine" baseline: record the reads and writes dgen's transactions make, then replay
 * exactly those operations on a fresh store of the same engine with no dgen code around them. The
 * gap between the two is what dgen's own CPU (codec, immer, diff, RxJS, bookkeeping) costs.
 *
 * A replay runs where dgen ran, after dgen: the queue entries dgen read and cleared are gone, and
 * the section refills the queue first. So that the replay deletes real entries as dgen did (a
 * delete of an absent key costs an engine almost nothing), a `clear` of a key inside a range the
 * same transaction read is redirected to the next key that range read returns now. Otherwise
 * the operations are replayed as recorded.
 */
import type { Backend, Bytes, RangeOptions, ReadOptions, Transaction, TransactOptions } from '../../src/backend/contract.js';

/**
 * Reads carry their round trip: the reads issued while another read of the same transaction was
 * in flight share its round trip (on FoundationDB, one network round trip per group), and the
 * replay issues them together as dgen did.
 */
type Op =
  | { readonly op: 'get'; readonly key: Bytes; readonly opts?: ReadOptions; readonly trip: number }
  | { readonly op: 'getRange'; readonly begin: Bytes; readonly end: Bytes; readonly opts?: RangeOptions; readonly trip: number }
  | { readonly op: 'set'; readonly key: Bytes; readonly value: Bytes }
  | { readonly op: 'clear'; readonly key: Bytes }
  | { readonly op: 'clearRange'; readonly begin: Bytes; readonly end: Bytes }
  | { readonly op: 'add'; readonly key: Bytes; readonly delta: number | bigint }
  | { readonly op: 'setVersionstampedKey'; readonly key: Bytes; readonly offset: number; readonly value: Bytes }
  | { readonly op: 'setVersionstampedValue'; readonly key: Bytes; readonly value: Bytes; readonly offset?: number }
  | { readonly op: 'addReadConflictKey'; readonly key: Bytes }
  | { readonly op: 'addReadConflictRange'; readonly begin: Bytes; readonly end: Bytes };

/** The operations of one committed transaction. */
export type Recorded = readonly Op[];

/** A backend that logs the operations of every committed transaction while `recording` is on. */
export class RecordingBackend implements Backend {
  readonly kind: string;
  recording = false;
  readonly log: Recorded[] = [];

  constructor(private readonly inner: Backend) {
    this.kind = inner.kind;
  }

  get closed(): boolean {
    return this.inner.closed;
  }

  stats() {
    return this.inner.stats();
  }

  close() {
    return this.inner.close();
  }

  async transact<T>(fn: (tx: Transaction) => T | Promise<T>, options?: TransactOptions): Promise<T> {
    let ops: Op[] = [];
    const result = await this.inner.transact((tx) => {
      ops = [];
      return fn(recordingTransaction(tx, ops));
    }, options);
    if (this.recording) this.log.push(ops);
    return result;
  }

  /** Takes what was recorded so far. */
  take(): Recorded[] {
    return this.log.splice(0);
  }
}

function recordingTransaction(tx: Transaction, ops: Op[]): Transaction {
  let inFlight = 0;
  let trip = 0;
  /** Counts `read` in the round trip under way, or starts the next one. */
  const track = <T>(read: () => Promise<T>): { trip: number; result: Promise<T> } => {
    if (inFlight++ === 0) trip++;
    return { trip, result: read().finally(() => inFlight--) };
  };
  return {
    getReadVersion: () => tx.getReadVersion(),
    get: (key, opts) => {
      const t = track(() => tx.get(key, opts));
      ops.push({ op: 'get', key, opts, trip: t.trip });
      return t.result;
    },
    getRange: (begin, end, opts) => {
      const t = track(() => tx.getRange(begin, end, opts));
      ops.push({ op: 'getRange', begin, end, opts, trip: t.trip });
      return t.result;
    },
    set: (key, value) => (ops.push({ op: 'set', key, value }), tx.set(key, value)),
    clear: (key) => (ops.push({ op: 'clear', key }), tx.clear(key)),
    clearRange: (begin, end) => (ops.push({ op: 'clearRange', begin, end }), tx.clearRange(begin, end)),
    add: (key, delta) => (ops.push({ op: 'add', key, delta }), tx.add(key, delta)),
    setVersionstampedKey: (key, offset, value) => (ops.push({ op: 'setVersionstampedKey', key, offset, value }), tx.setVersionstampedKey(key, offset, value)),
    setVersionstampedValue: (key, value, offset) => (ops.push({ op: 'setVersionstampedValue', key, value, offset }), tx.setVersionstampedValue(key, value, offset)),
    addReadConflictKey: (key) => (ops.push({ op: 'addReadConflictKey', key }), tx.addReadConflictKey(key)),
    addReadConflictRange: (begin, end) => (ops.push({ op: 'addReadConflictRange', begin, end }), tx.addReadConflictRange(begin, end)),
    watch: (key) => tx.watch(key),
    getVersionstamp: () => tx.getVersionstamp(),
  };
}

/** Sequential read round trips of a recorded transaction (reads issued together count once). */
export function roundTrips(ops: Recorded): number {
  return new Set(ops.flatMap((o) => (o.op === 'get' || o.op === 'getRange' ? [o.trip] : []))).size;
}

/** Performs `ops` in `tx`, issuing reads together or in order as dgen did (see the file comment for clears). */
export async function replayInto(tx: Transaction, ops: Recorded): Promise<void> {
  const read: Array<{ begin: Bytes; end: Bytes; keys: Buffer[]; next: number }> = [];
  for (let i = 0; i < ops.length; i++) {
    const o = ops[i]!;
    switch (o.op) {
      case 'get':
      case 'getRange': {
        // the reads of one round trip, issued together; their results kept in recorded order
        const trip: Array<Extract<Op, { trip: number }>> = [];
        for (let j = i; j < ops.length; j++) {
          const r = ops[j]!;
          if ((r.op === 'get' || r.op === 'getRange') && r.trip === o.trip) trip.push(r);
          else break;
        }
        i += trip.length - 1;
        const results = await Promise.all(trip.map((r) => (r.op === 'get' ? tx.get(r.key, r.opts) : tx.getRange(r.begin, r.end, r.opts))));
        trip.forEach((r, k) => {
          if (r.op === 'getRange') read.push({ begin: r.begin, end: r.end, keys: (results[k] as Array<{ key: Buffer }>).map((kv) => kv.key), next: 0 });
        });
        break;
      }
      case 'set':
        tx.set(o.key, o.value);
        break;
      case 'clear': {
        const r = read.find((r) => Buffer.compare(o.key, r.begin) >= 0 && Buffer.compare(o.key, r.end) < 0 && r.next < r.keys.length);
        tx.clear(r === undefined ? o.key : r.keys[r.next++]!);
        break;
      }
      case 'clearRange':
        tx.clearRange(o.begin, o.end);
        break;
      case 'add':
        tx.add(o.key, o.delta);
        break;
      case 'setVersionstampedKey':
        tx.setVersionstampedKey(o.key, o.offset, o.value);
        break;
      case 'setVersionstampedValue':
        tx.setVersionstampedValue(o.key, o.value, o.offset);
        break;
      case 'addReadConflictKey':
        tx.addReadConflictKey(o.key);
        break;
      case 'addReadConflictRange':
        tx.addReadConflictRange(o.begin, o.end);
        break;
    }
  }
}

/** Replays `transactions` one after another on `db`; returns the elapsed milliseconds. */
export async function replaySerial(db: Backend, transactions: readonly Recorded[]): Promise<number> {
  const t0 = performance.now();
  for (const ops of transactions) await db.transact((tx) => replayInto(tx, ops));
  return performance.now() - t0;
}

/** Does this transaction write anything? */
export const writes = (ops: Recorded): boolean => ops.some((o) => o.op !== 'get' && o.op !== 'getRange' && o.op !== 'addReadConflictKey' && o.op !== 'addReadConflictRange');
