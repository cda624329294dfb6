/**
 * 8. Round trips: how many times a message waits on the store in sequence. On FoundationDB every
 * awaited read is a network round trip, and so are a transaction's read version and its commit;
 * reads a transaction issues together (dgen issues the independent ones with Promise.all) share
 * one. Counted from the recorded transactions (bench/lib/record.ts), so the figures are exact and
 * the same on every engine; they matter on FoundationDB, where a round trip costs a network hop.
 *
 * A transaction costs 1 round trip for its read version when it reads, one per group of reads
 * issued together, and 1 for its commit when it writes. Baseline: a bare read-modify-write
 * transaction (read version, one read, commit: 3).
 *
 * - dispatch: the producer's enqueue transaction;
 * - backlog: the consumer's batch transactions draining a queue of 1,000 messages, per message
 *   and per batch;
 * - inline call: a call to an idle actor served in the same process (one transaction);
 * - call served by another system: every transaction in sequence from the enqueue to the reply.
 */
import { createSystem, type Backend } from '../../src/index.js';
import { Counter } from '../lib/actors.js';
import { sleep } from '../lib/measure.js';
import { observeCommits } from '../lib/pump.js';
import { RecordingBackend, roundTrips, writes, type Recorded } from '../lib/record.js';
import { row, type Row, type SectionContext } from '../lib/report.js';

const SECTION = '8. sequential round trips to the store (per message)';
const BACKLOG = 1_000;
const CALLS = 20;
/** A bare read-modify-write transaction: read version, one read, commit. */
const BARE_RMW = 3;

/** Sequential round trips of one recorded transaction. */
function trips(ops: Recorded): number {
  const reads = roundTrips(ops);
  return (reads > 0 ? 1 : 0) + reads + (writes(ops) ? 1 : 0);
}

const total = (txs: readonly Recorded[]) => txs.reduce((n, ops) => n + trips(ops), 0);

/** Records the transactions `run` causes on `rec`, after the writes it started have settled. */
async function recordDuring(rec: RecordingBackend, run: () => Promise<unknown>): Promise<Recorded[]> {
  rec.take();
  rec.recording = true;
  await run();
  rec.recording = false;
  return rec.take();
}

async function dispatchTrips(db: Backend): Promise<number> {
  const rec = new RecordingBackend(db);
  const producer = await createSystem({ backend: rec });
  const ref = producer.ref(Counter, 'dispatch');
  await ref.dispatch.add(1); // warm: the reply listener and the first enqueue are behind us
  const txs = await recordDuring(rec, () => ref.dispatch.add(1));
  await producer.close();
  return total(txs) / Math.max(1, txs.length);
}

async function backlogTrips(db: Backend): Promise<{ perMessage: number; perBatch: number; batches: number }> {
  const producer = await createSystem({ backend: db });
  const ref = producer.ref(Counter, 'backlog');
  await Promise.all(Array.from({ length: BACKLOG }, () => ref.dispatch.add(1)));
  await producer.close();
  const rec = new RecordingBackend(db);
  const consumer = await createSystem({ backend: rec });
  const o = observeCommits();
  const txs = await recordDuring(rec, async () => {
    consumer.serve(Counter, { ids: ['backlog'] });
    while (o.processed() < BACKLOG) await o.signal.wait(20);
  });
  o.stop();
  await consumer.close();
  const batches = txs.filter(writes);
  return { perMessage: total(txs) / BACKLOG, perBatch: total(batches) / Math.max(1, batches.length), batches: batches.length };
}

async function inlineTrips(db: Backend): Promise<number> {
  const rec = new RecordingBackend(db);
  const system = await createSystem({ backend: rec });
  system.serve(Counter, { ids: ['inline'] });
  const ref = system.ref(Counter, 'inline');
  await ref.call.addGet(1);
  let sum = 0;
  for (let i = 0; i < CALLS; i++) {
    await sleep(5); // idle again: the consumer's bookkeeping after the last call is done
    sum += total(await recordDuring(rec, () => ref.call.addGet(1)));
  }
  await system.close();
  return sum / CALLS;
}

/** Every transaction in sequence, in either system, from a call's enqueue to its reply. */
async function remoteCallTrips(db: Backend): Promise<number> {
  const rec = new RecordingBackend(db);
  const consumer = await createSystem({ backend: rec });
  const producer = await createSystem({ backend: rec });
  consumer.serve(Counter, { ids: ['remote'] });
  const ref = producer.ref(Counter, 'remote');
  await ref.call.addGet(1);
  let sum = 0;
  for (let i = 0; i < CALLS; i++) {
    await sleep(20); // idle again
    sum += total(await recordDuring(rec, () => ref.call.addGet(1)));
  }
  await producer.close();
  await consumer.close();
  return sum / CALLS;
}

export async function roundTripsSection(ctx: SectionContext): Promise<Row[]> {
  const { engine } = ctx;
  const db = await engine.store().open();
  try {
    ctx.progress('round trips: dispatch, backlog, inline call, call served by another system');
    const dispatch = await dispatchTrips(db);
    const backlog = await backlogTrips(db);
    const inline = await inlineTrips(db);
    const remote = await remoteCallTrips(db);
    const r = (label: string, dgen: number, note: string, detail?: Record<string, unknown>) =>
      row({ section: SECTION, case: label, engine: engine.name, metric: 'round trips', unit: 'trips', better: 'lower', dgen, baselines: { bare: BARE_RMW }, note, ...(detail === undefined ? {} : { detail }) });
    return [
      r('dispatch (enqueue transaction)', dispatch, 'bare: one read-modify-write transaction'),
      r(`backlog of ${BACKLOG.toLocaleString('en-US')}: consumer, per message`, backlog.perMessage, `${backlog.perBatch.toFixed(1)} per batch transaction, ${backlog.batches} batches`, backlog),
      r('inline call (idle actor, same process)', inline, 'one transaction: enqueue and process'),
      r('call served by another system (enqueue → reply)', remote, 'every transaction of both systems in sequence, idle bookkeeping included'),
    ];
  } finally {
    await db.close();
  }
}
