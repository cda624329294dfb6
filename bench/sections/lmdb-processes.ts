/**
 * Multi-process (LMDB with fsync): every role in its own OS process on one database, from
 * bench/multi-process.ts. Call bursts from 1 and 4 caller processes to 100 actors served by
 * another process, with the default deadlines; and 4 producer processes × 50 in flight → 1,000
 * actors with 2 consumer processes running together, end to end. Baseline in the same run: the
 * bare engine writing a message's keys in batches of 256, one fsync each (the physical limit).
 *
 *   npm run bench -- --sections=lmdb-processes --engines=lmdb
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lmdb } from '../../src/index.js';
import { bareLimit, calls, pipeline } from '../multi-process.js';
import { row, type Row, type SectionContext } from '../lib/report.js';

const CALL_BURSTS: ReadonlyArray<readonly [number, number]> = [
  [1, 10_000],
  [4, 10_000],
  [1, 50_000],
];

export async function lmdbProcessesSection(ctx: SectionContext): Promise<Row[]> {
  if (ctx.engine.name !== 'lmdb') {
    ctx.progress('lmdb-processes: measured on lmdb (fsync) only');
    return [];
  }
  const barePath = mkdtempSync(join(tmpdir(), 'dgen-bench-mp-bare-'));
  const bareDb = lmdb({ path: barePath });
  const bare = await bareLimit(bareDb, 50_000, 1_000);
  await bareDb.close();
  rmSync(barePath, { recursive: true, force: true });
  const rows: Row[] = [];
  for (const [callers, each] of CALL_BURSTS) {
    const f = await calls(callers, each, 100);
    const failed = Object.values(f.failures).reduce((a, x) => a + x, 0);
    ctx.progress(`lmdb-processes: ${callers} × ${each} calls: ${f.callsPerSec} calls/s, p99 ${f.p99} ms, failures ${JSON.stringify(f.failures)}`);
    rows.push(
      row({
        section: 'lmdb-processes',
        case: `${callers} caller process(es) × ${each.toLocaleString('en-US')} concurrent calls → 100 actors served by another process, default deadlines`,
        engine: ctx.engine.name,
        metric: 'throughput',
        unit: 'calls/s',
        better: 'higher',
        dgen: f.callsPerSec,
        baselines: { bare },
        detail: { p50Ms: f.p50, p99Ms: f.p99, failures: f.failures, appliedOnce: f.appliedOnce },
        note: `p50 ${f.p50} ms, p99 ${f.p99} ms, ${failed === 0 ? 'all answered' : `failures ${JSON.stringify(f.failures)}`}`,
      }),
    );
  }
  const p = await pipeline(4, 50, 2, 1_000, 5 * ctx.timing.runMs / 1_000);
  ctx.progress(`lmdb-processes: pipeline ${p.endToEndPerSec} msg/s end to end, ${p.commits} commits in ${p.writeTransactions} LMDB write transactions`);
  rows.push(
    row({
      section: 'lmdb-processes',
      case: '4 producer processes × 50 in flight → 1,000 actors, 2 consumer processes, together',
      engine: ctx.engine.name,
      metric: 'end to end',
      unit: 'msg/s',
      better: 'higher',
      dgen: p.endToEndPerSec,
      baselines: { bare },
      detail: { ...p },
      note: `enqueued ${p.enqueuedPerSec} msg/s; ${p.commits} commits in ${p.writeTransactions} LMDB write transactions (${p.writeTransactionsPerSec}/s)`,
    }),
  );
  return rows;
}
