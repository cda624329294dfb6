/**
 * The "naive durable actor" baseline: the whole state is one JSON document under one key
 * (chunked in 90 KB values past the 100 KB value limit), and every message is one transaction
 * that reads it, parses it, applies a plain mutating reducer, serializes it and writes it back.
 * No queue, no cache, no batching: the simplest durable actor one would write by hand.
 */
import * as tuple from 'fdb-tuple';
import type { Backend, Transaction, TransactOptions } from '../../src/backend/contract.js';

const CHUNK = 90_000;
const ROOT = tuple.pack(['naive']);

export class NaiveActor<S> {
  private readonly begin: Buffer;
  private readonly end: Buffer;

  constructor(
    private readonly db: Backend,
    id: string,
    private readonly initial: () => S,
    private readonly options?: TransactOptions,
  ) {
    const prefix = Buffer.concat([ROOT, tuple.pack([id])]);
    this.begin = prefix;
    this.end = Buffer.concat([prefix, Buffer.of(0xff)]);
  }

  /** The key of chunk `i` of the document. */
  chunkKey(i: number): Buffer {
    return Buffer.concat([this.begin, tuple.pack([i])]);
  }

  /** Reads and parses the state in `tx` (the initial state when nothing is stored). */
  async read(tx: Transaction): Promise<S> {
    const kvs = await tx.getRange(this.begin, this.end);
    if (kvs.length === 0) return this.initial();
    return JSON.parse(Buffer.concat(kvs.map((kv) => kv.value)).toString('utf8')) as S;
  }

  /** Writes the whole state in `tx`, clearing chunks it no longer needs. */
  write(tx: Transaction, state: S): void {
    const bytes = Buffer.from(JSON.stringify(state), 'utf8');
    let i = 0;
    for (let at = 0; at < bytes.length || i === 0; at += CHUNK, i++) tx.set(this.chunkKey(i), bytes.subarray(at, at + CHUNK));
    tx.clearRange(this.chunkKey(i), this.end);
  }

  /** One message: read-modify-write in one transaction; resolves with the reducer's result once committed. */
  send<R>(reducer: (state: S) => R): Promise<R> {
    return this.db.transact(async (tx) => {
      const state = await this.read(tx);
      const result = reducer(state);
      this.write(tx, state);
      return result;
    }, this.options);
  }

  /** Loads the state (a read-only transaction). */
  load(): Promise<S> {
    return this.db.transact((tx) => this.read(tx));
  }
}
