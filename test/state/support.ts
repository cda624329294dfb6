/** Helpers of the state tests: a tiny Transaction over a Map, exact equality, a seeded PRNG. */
import type { Bytes, KeyValue, Transaction } from '../../src/backend/contract.js';

/** Keys as latin1 strings compare like the bytes they hold. */
const str = (b: Bytes): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');

/** A Transaction over a plain Map, sorted on each range read; counts the mutations made through it. */
export class FakeTx implements Partial<Transaction> {
  readonly data = new Map<string, Buffer>();
  sets = 0;
  clears = 0;

  async get(key: Bytes): Promise<Buffer | undefined> {
    return this.data.get(str(key));
  }

  async getRange(begin: Bytes, end: Bytes): Promise<KeyValue[]> {
    const b = str(begin);
    const e = str(end);
    return [...this.data.keys()]
      .filter((k) => k >= b && k < e)
      .sort()
      .map((k) => ({ key: Buffer.from(k, 'latin1'), value: this.data.get(k)! }));
  }

  set(key: Bytes, value: Bytes): void {
    this.sets++;
    this.data.set(str(key), Buffer.from(value));
  }

  clear(key: Bytes): void {
    this.clears++;
    this.data.delete(str(key));
  }

  clearRange(begin: Bytes, end: Bytes): void {
    this.clears++;
    const b = str(begin);
    const e = str(end);
    for (const k of this.data.keys()) if (k >= b && k < e) this.data.delete(k);
  }

  resetCounts(): void {
    this.sets = 0;
    this.clears = 0;
  }

  /** This fake as the contract type, for the parts the state store uses. */
  get tx(): Transaction {
    return this as unknown as Transaction;
  }
}

/**
 * Exact equality: same prototypes, numbers by Object.is, Map/Set in the same order, Dates by
 * time, bytes by content and class. Object key order is not compared (see docs/state-encoding.md).
 * Returns the path of the first difference, or undefined.
 */
export function difference(a: unknown, b: unknown, path = '$'): string | undefined {
  if (Object.is(a, b)) return undefined;
  if (typeof a !== typeof b || typeof a !== 'object' || a === null || b === null) return `${path}: ${show(a)} != ${show(b)}`;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return `${path}: prototypes differ`;
  if (a instanceof Date) return Object.is(a.getTime(), (b as Date).getTime()) ? undefined : `${path}: dates differ`;
  if (a instanceof Uint8Array) return Buffer.compare(a, b as Uint8Array) === 0 ? undefined : `${path}: bytes differ`;
  if (a instanceof Map) {
    const ea = [...a];
    const eb = [...(b as Map<unknown, unknown>)];
    if (ea.length !== eb.length) return `${path}: Map sizes ${ea.length} != ${eb.length}`;
    for (let i = 0; i < ea.length; i++) {
      const d = difference(ea[i]![0], eb[i]![0], `${path}.keys()[${i}]`) ?? difference(ea[i]![1], eb[i]![1], `${path}.get(#${i})`);
      if (d) return d;
    }
    return undefined;
  }
  if (a instanceof Set) return difference([...a], [...(b as Set<unknown>)], `${path}.values()`);
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    if (a.length !== bb.length) return `${path}: lengths ${a.length} != ${bb.length}`;
    for (let i = 0; i < a.length; i++) {
      const d = difference(a[i], bb[i], `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b as object).sort();
  if (ka.join('\0') !== kb.join('\0')) return `${path}: keys ${ka.join(',')} != ${kb.join(',')}`;
  for (const k of ka) {
    const d = difference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
    if (d) return d;
  }
  return undefined;
}

function show(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (Object.is(v, -0)) return '-0';
  try {
    return typeof v === 'string' ? JSON.stringify(v) : String(v);
  } catch {
    return typeof v;
  }
}

/** mulberry32: a small seeded PRNG, returning floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
