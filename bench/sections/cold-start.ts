/**
 * 5. Cold start: how long a fresh system takes to load a stored state of 10,000 / 100,000 /
 * 1,000,000 leaves: the first `query` (a strictly serializable read that loads the whole state),
 * and, for the two smaller sizes, the first batch of a fresh `serve()` (a call: lease, load, apply,
 * write; the largest size would only repeat the load it times). "Fresh" means a
 * new system on a reopened store (LMDB: the engine closed and opened again, the OS page cache
 * still warm; memory: the same in-process store, which cannot be reopened).
 *
 * The state (an object of parts of 25,000 leaves each) is stored with the runtime's own layout and
 * state store, one part a transaction, so no transaction comes near FoundationDB's 10 MB as it
 * counts one (each written key counts again as a write conflict range). If the
 * 1,000,000-leaf size would not fit the time budget (projected from the smaller sizes), it is
 * scaled down and the row says so.
 *
 * Baselines: the bare engine reading the same keys in one range read (no decoding); the naive
 * JSON actor reading and parsing the same state as one JSON document.
 */
import { createSystem, type Backend } from '../../src/index.js';
import { Layout } from '../../src/store/keys.js';
import { Subspace } from '../../src/backend/subspace.js';
import { fieldKey } from '../../src/state/layout.js';
import { StateStore } from '../../src/state/store.js';
import { encodeVersion } from '../../src/store/version.js';
import { Big, part } from '../lib/actors.js';
import { median, now, round } from '../lib/measure.js';
import { NaiveActor } from '../lib/naive.js';
import type { Store } from '../lib/engine.js';
import { row, type Row, type SectionContext } from '../lib/report.js';

const PART = 25_000;
/** Parts written per transaction when building (2.2 MB of keys and values, about 6.5 MB as FoundationDB counts a transaction). */
const PARTS_PER_TX = 1;
/**
 * On FoundationDB a state is loaded in one transaction, which must end within the 5 s MVCC window:
 * the largest size is scaled down so that its first query is projected at most this long.
 */
const FDB_LOAD_BUDGET_MS = 2_000;
/** Seconds the build and loads of the largest size may take; past that it is scaled down. */
const BUDGET_S = 20;

function bigState(leaves: number) {
  const parts: Record<string, Record<string, number>> = {};
  for (let i = 0, left = leaves; left > 0; i++, left -= PART) parts[`p${i}`] = part(Math.min(PART, left), 0);
  return { touched: 0, parts };
}

/**
 * Stores actor `id` with `leaves` leaves through the runtime's layout and state store, a few parts a
 * transaction (the keys a build by messages would leave, without its history entries); returns
 * the milliseconds it took.
 */
async function build(db: Backend, id: string, leaves: number): Promise<number> {
  const t0 = now();
  const keys = new Layout().actor(Big.name, id);
  const partsKey = fieldKey(keys.state.prefix, 'parts');
  await db.transact((tx) => {
    new StateStore(keys.state).writeAll(tx, { touched: 0, parts: {} });
    tx.set(keys.version, encodeVersion({ n: 1, batch: '' }));
    tx.set(keys.index, Buffer.alloc(0));
  });
  const names = Object.keys(bigState(leaves).parts);
  for (let i = 0; i < names.length; i += PARTS_PER_TX) {
    await db.transact((tx) => {
      for (let k = i; k < Math.min(names.length, i + PARTS_PER_TX); k++) {
        new StateStore(new Subspace(fieldKey(partsKey, names[k]!))).writeAll(tx, part(Math.min(PART, leaves - k * PART), 0));
      }
    });
  }
  return now() - t0;
}

/** Writes the naive JSON document of the same state, over several transactions when it is over 10 MB. */
async function buildNaive(db: Backend, id: string, leaves: number): Promise<void> {
  const naive = new NaiveActor(db, id, () => bigState(0));
  const bytes = Buffer.from(JSON.stringify(bigState(leaves)));
  const PER_TX = 40; // chunks of 90 KB: 3.6 MB a transaction
  const chunks = Math.ceil(bytes.length / 90_000);
  for (let c = 0; c < chunks; c += PER_TX) {
    await db.transact((tx) => {
      for (let k = c; k < Math.min(chunks, c + PER_TX); k++) tx.set(naive.chunkKey(k), bytes.subarray(k * 90_000, (k + 1) * 90_000));
    });
  }
}

/** Reopens `store` (closing `db`), runs `fn` on the fresh engine and closes it. */
async function fresh<T>(store: Store, fn: (db: Backend) => Promise<T>): Promise<T> {
  const db = await store.open();
  try {
    return await fn(db);
  } finally {
    if (db.kind !== 'memory') await db.close();
  }
}

export async function coldStartSection(ctx: SectionContext): Promise<Row[]> {
  const { engine } = ctx;
  const rows: Row[] = [];
  const store = engine.store();
  let msPerLeaf = 0;
  let loadMsPerLeaf = 0;
  const measured = new Set<number>();
  const sizes = [10_000, 100_000, 1_000_000];
  for (const wanted of sizes) {
    const largest = wanted === sizes[sizes.length - 1];
    let leaves = wanted;
    let note: string | undefined;
    if (msPerLeaf > 0 && (msPerLeaf * wanted) / 1_000 > BUDGET_S) {
      leaves = Math.max(100_000, Math.floor((BUDGET_S * 1_000) / msPerLeaf / 100_000) * 100_000);
      note = `scaled down from ${wanted.toLocaleString('en-US')} leaves: building and loading it was projected at ${Math.round((msPerLeaf * wanted) / 1_000)} s`;
    }
    if (engine.name === 'foundationdb' && loadMsPerLeaf > 0 && loadMsPerLeaf * leaves > FDB_LOAD_BUDGET_MS) {
      const fits = Math.max(PART, Math.floor(FDB_LOAD_BUDGET_MS / loadMsPerLeaf / PART) * PART);
      note = `scaled down from ${wanted.toLocaleString('en-US')} leaves: its first query was projected at ${Math.round(loadMsPerLeaf * leaves)} ms, and a state loads in one FoundationDB transaction, which must end within 5 s`;
      leaves = Math.min(leaves, fits);
    }
    if (measured.has(leaves)) continue; // scaled down to a size already measured
    measured.add(leaves);
    const id = `c${leaves}`;
    ctx.progress(`cold start: building ${leaves.toLocaleString('en-US')} leaves`);
    const buildMs = await fresh(store, async (db) => {
      const ms = await build(db, id, leaves);
      await buildNaive(db, id, leaves);
      return ms;
    });
    const reps = leaves <= 10_000 ? 5 : leaves <= 100_000 ? 3 : 1;
    ctx.progress(`cold start: loading ${leaves.toLocaleString('en-US')} leaves (${reps}×)`);
    const query: number[] = [];
    const batch: number[] = [];
    const bare: number[] = [];
    const naive: number[] = [];
    const stateKeys = new Layout().actor(Big.name, id).state;
    let keys = 0;
    for (let r = 0; r < reps; r++) {
      query.push(
        await fresh(store, async (db) => {
          const system = await createSystem({ backend: db });
          const t = now();
          const n = await system.ref(Big, id).query((s) => Object.keys(s.parts).length);
          const ms = now() - t;
          if (n !== Math.ceil(leaves / PART)) throw new Error(`cold start: loaded ${n} parts`);
          await system.close();
          return ms;
        }),
      );
      if (!largest) batch.push(
        await fresh(store, async (db) => {
          const system = await createSystem({ backend: db });
          const t = now();
          system.serve(Big, { ids: [id] });
          await system.ref(Big, id).call.touch();
          const ms = now() - t;
          await system.close();
          return ms;
        }),
      );
      bare.push(
        await fresh(store, async (db) => {
          const t = now();
          keys = await db.transact(async (tx) => (await tx.getRange(stateKeys.prefix, Buffer.concat([stateKeys.prefix, Buffer.of(0xff)]))).length);
          return now() - t;
        }),
      );
      naive.push(
        await fresh(store, async (db) => {
          const t = now();
          await new NaiveActor(db, id, () => bigState(0)).load();
          return now() - t;
        }),
      );
    }
    const oneRep = (query.reduce((a, b) => a + b, 0) + batch.reduce((a, b) => a + b, 0) + bare.reduce((a, b) => a + b, 0) + naive.reduce((a, b) => a + b, 0)) / reps;
    msPerLeaf = (buildMs + oneRep) / leaves;
    loadMsPerLeaf = Math.max(...query) / leaves;
    const detail = { reps, storeSeconds: round(buildMs / 1_000), storedLeavesPerSecond: Math.round(leaves / (buildMs / 1_000)), stateKeys: keys };
    const label = `${leaves.toLocaleString('en-US')} leaves`;
    rows.push(
      row({ section: '5. cold start (fresh system, stored state)', case: label, engine: engine.name, metric: 'first query', unit: 'ms', better: 'lower', dgen: median(query), baselines: { bare: median(bare), naive: median(naive) }, detail, note }),
    );
    if (batch.length > 0) {
      rows.push(row({ section: '5. cold start (fresh system, stored state)', case: label, engine: engine.name, metric: 'first batch (call)', unit: 'ms', better: 'lower', dgen: median(batch), baselines: { bare: median(bare), naive: median(naive) }, note }));
    }
  }
  if (engine.name === 'memory') await (await store.open()).close();
  return rows;
}
