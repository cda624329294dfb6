/**
 * Conformance: random transactions compared with a plain model (a sorted map), seeded so a failure
 * replays. Keys mix short keys, bytes 0x00 and 0xff, and keys of 2,000–10,000 bytes sharing long
 * prefixes, so read-your-writes merging, range bounds, limits and long-key storage are exercised
 * together.
 */
import { expect, it } from 'vitest';
import { LIMITS, type Transaction } from '../../src/backend/contract.js';
import { describeEngines } from './harness.js';

/** mulberry32: a small seeded generator. */
function generator(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  return { next, int, pick };
}

type Model = Map<string, Buffer>;

/** FoundationDB's ADD on the model: 8-byte little-endian sum, current value zero-padded or truncated. */
function addTo(current: Buffer | undefined, delta: bigint): Buffer {
  const base = Buffer.alloc(8);
  current?.copy(base, 0, 0, Math.min(8, current.length));
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE((base.readBigUInt64LE(0) + BigInt.asUintN(64, delta)) & 0xffffffffffffffffn);
  return out;
}

function modelRange(m: Model, begin: Buffer, end: Buffer, limit: number, reverse: boolean): [string, string][] {
  const keys = [...m.keys()]
    .map((k) => Buffer.from(k, 'hex'))
    .filter((k) => Buffer.compare(k, begin) >= 0 && Buffer.compare(k, end) < 0)
    .sort(Buffer.compare);
  if (reverse) keys.reverse();
  const taken = limit > 0 ? keys.slice(0, limit) : keys;
  return taken.map((k) => [k.toString('hex'), m.get(k.toString('hex'))!.toString('hex')]);
}

const hexRange = async (tx: Transaction, begin: Buffer, end: Buffer, o: { limit: number; reverse: boolean; snapshot: boolean }) =>
  (await tx.getRange(begin, end, o)).map((kv): [string, string] => [kv.key.toString('hex'), kv.value.toString('hex')]);

describeEngines('random transactions against a model', (ctx) => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`agree with the model (seed ${seed})`, async () => {
      const r = generator(seed);
      const prefix = ctx.space().pack([]);
      const long = (n: number, fill: number) => Buffer.alloc(n, fill);
      const suffixes = [[], [0x00], [0x01], [0x61], [0x61, 0x00], [0x62], [0xff], [0xff, 0xff], [0x61, 0x62]].map((x) => Buffer.from(x));
      const stems = [Buffer.alloc(0), Buffer.from('k'), long(1_976, 0x61), long(1_977, 0x61), long(2_000, 0x61), long(3_954, 0x62), long(LIMITS.keyBytes - prefix.length - 2, 0x61)];
      const key = () => Buffer.concat([prefix, r.pick(stems), r.pick(suffixes)]);
      const value = () => Buffer.from(Array.from({ length: r.int(12) }, () => r.int(256)));
      const bounds = (): [Buffer, Buffer] => {
        const [x, y] = [key(), key()];
        return Buffer.compare(x, y) <= 0 ? [x, y] : [y, x];
      };
      const whole: [Buffer, Buffer] = [prefix, Buffer.concat([prefix, Buffer.from([0xff, 0xff, 0xff])])];

      let committed: Model = new Map();
      for (let t = 0; t < 30; t++) {
        const local: Model = new Map(committed);
        const log: string[] = [];
        const abort = r.next() < 0.1;
        try {
          await ctx.db.transact(async (tx) => {
            for (let i = 0; i < 15; i++) {
              const op = r.int(8);
              if (op === 0 || op === 1) {
                const [k, v] = [key(), value()];
                tx.set(k, v);
                local.set(k.toString('hex'), v);
                log.push(`set ${k.length}`);
              } else if (op === 2) {
                const k = key();
                tx.clear(k);
                local.delete(k.toString('hex'));
                log.push(`clear ${k.length}`);
              } else if (op === 3) {
                const [x, y] = bounds();
                tx.clearRange(x, y);
                for (const [k] of modelRange(local, x, y, 0, false)) local.delete(k);
                log.push(`clearRange ${x.length} ${y.length}`);
              } else if (op === 4) {
                const k = key();
                const delta = BigInt(r.int(2_000) - 1_000);
                tx.add(k, delta);
                local.set(k.toString('hex'), addTo(local.get(k.toString('hex')), delta));
                log.push(`add ${k.length}`);
              } else if (op === 5) {
                const k = key();
                const got = await tx.get(k, { snapshot: r.next() < 0.5 });
                log.push(`get ${k.length}`);
                expect(got?.toString('hex'), log.join('; ')).toBe(local.get(k.toString('hex'))?.toString('hex'));
              } else {
                const [x, y] = r.next() < 0.2 ? whole : bounds();
                const o = { limit: r.pick([0, 1, 2, 3, 5]), reverse: r.next() < 0.5, snapshot: r.next() < 0.3 };
                log.push(`getRange ${x.length} ${y.length} ${JSON.stringify(o)}`);
                expect(await hexRange(tx, x, y, o), log.join('; ')).toEqual(modelRange(local, x, y, o.limit, o.reverse));
              }
            }
            if (abort) throw new Error('rolled back');
          });
          committed = local;
        } catch (e) {
          if (!abort || (e as Error).message !== 'rolled back') throw e;
        }
        const all = await ctx.db.transact((tx) => hexRange(tx, whole[0], whole[1], { limit: 0, reverse: false, snapshot: false }));
        expect(all, `after transaction ${t}`).toEqual(modelRange(committed, whole[0], whole[1], 0, false));
      }
    });
  }
});
