/**
 * The plumbing of the conformance suite: one `describe` block per engine of {@link engines}, a
 * backend shared by the cases of one file, a fresh key subspace per case (so the suite also runs on
 * a shared FoundationDB cluster), and small helpers to interleave transactions by hand.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tuple from 'fdb-tuple';
import type { Backend, Transaction, TransactOptions } from '../../src/backend/contract.js';
import { Subspace } from '../../src/backend/subspace.js';
import { engines, type Engine } from './engines.js';

/** What a group of cases sees of the engine under test. */
export interface EngineContext {
  readonly engine: Engine;
  /** The backend shared by the cases of this file (opened in beforeAll). */
  readonly db: Backend;
  /** A subspace no other case uses. */
  space(): Subspace;
  /** Opens another fresh backend, closed after the file. */
  open(): Promise<Backend>;
}

const run = `${process.pid.toString(36)}-${Date.now().toString(36)}`;
let spaces = 0;

/**
 * Declares `body` once per engine of the factory list. An engine that cannot run here still shows
 * up, as one skipped case whose title gives the reason.
 */
export function describeEngines(title: string, body: (ctx: EngineContext) => void, only?: (e: Engine) => boolean): void {
  for (const engine of engines.filter(only ?? (() => true))) {
    describe(`${engine.name}: ${title}`, () => {
      if (engine.skip !== undefined) {
        it.skip(`skipped: ${engine.skip}`, () => {});
        return;
      }
      let db: Backend | undefined;
      const opened: Backend[] = [];
      const open = async (): Promise<Backend> => {
        const b = await engine.open();
        opened.push(b);
        return b;
      };
      beforeAll(async () => {
        db = await open();
      });
      afterAll(async () => {
        for (const b of opened) if (!b.closed) await b.close();
        await engine.cleanup?.();
      });
      body({
        engine,
        get db(): Backend {
          if (db === undefined) throw new Error('the backend is opened in beforeAll');
          return db;
        },
        space: () => new Subspace(tuple.pack(['conformance', run, title, ++spaces])),
        open,
      });
    });
  }
}

/** A promise with its resolve function outside. */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** UTF-8 bytes of a string. */
export const b = (s: string): Buffer => Buffer.from(s, 'utf8');

/** The UTF-8 text of a value, or undefined. */
export const text = (v: Uint8Array | undefined): string | undefined => (v === undefined ? undefined : Buffer.from(v).toString('utf8'));

/** A signed little-endian int64, the encoding of atomic `add`. */
export function le64(n: bigint | number): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigInt64LE(BigInt.asIntN(64, BigInt(n)));
  return out;
}

/** Reads a value written by atomic `add`. */
export function readLe64(v: Uint8Array | undefined): bigint | undefined {
  return v === undefined ? undefined : Buffer.from(v).readBigInt64LE(0);
}

/** Resolves with the error `p` rejects with; fails the case if it resolves. */
export async function rejection(p: Promise<unknown>): Promise<{ code?: string; retryable?: boolean } & Error> {
  try {
    await p;
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected a rejection, but the promise resolved');
}

/** Calls `f`, turning a synchronous throw into a rejection, so either style of engine is accepted. */
export async function attempt<T>(f: () => T | Promise<T>): Promise<T> {
  return f();
}

/** Expects `p` to reject with a storage error of `code`. */
export async function expectCode(p: Promise<unknown>, code: string): Promise<void> {
  const e = await rejection(p);
  expect(e.code, `${e.name}: ${e.message}`).toBe(code);
}

/** Entries of a range, as text pairs. */
export async function rangeText(tx: Transaction, begin: Uint8Array, end: Uint8Array, options?: Parameters<Transaction['getRange']>[2]): Promise<[string, string][]> {
  const kvs = await tx.getRange(begin, end, options);
  return kvs.map((kv) => [kv.key.toString('utf8'), kv.value.toString('utf8')]);
}

/** Every key under `prefix` as text, read in a transaction of its own. */
export async function dump(db: Backend, s: Subspace): Promise<[string, string][]> {
  const { begin, end } = s.range();
  return db.transact((tx) => rangeText(tx, begin, end));
}

/**
 * Runs transaction A by hand against transaction B: A's body runs until it calls `pause()`; on the
 * first attempt A then waits while B commits, and carries on afterwards. Later attempts of A do not
 * wait. Returns A's outcome and its number of attempts.
 */
export async function interleave<T>(
  db: Backend,
  a: (tx: Transaction, pause: () => Promise<void>, attempt: number) => Promise<T>,
  between: (tx: Transaction) => void | Promise<void>,
  options?: TransactOptions,
): Promise<{ attempts: number; result: Promise<T> }> {
  let attempts = 0;
  const paused = deferred();
  const go = deferred();
  const result = db.transact(async (tx) => {
    const n = ++attempts;
    return a(
      tx,
      async () => {
        if (n !== 1) return;
        paused.resolve();
        await go.promise;
      },
      n,
    );
  }, options);
  result.catch(() => {});
  await Promise.race([paused.promise, result.then(() => {}, () => {})]);
  await db.transact(between);
  go.resolve();
  await result.then(() => {}, () => {});
  return { attempts, result };
}
