/**
 * 9. Inspector: the first page of instances (50 ids) of a definition with 100,000 stored
 * instances, over the inspector's HTTP API (token check, admin read, JSON), the first page of an
 * id-prefix search, and the definitions overview (`/api/actors`: instances counted from the index,
 * queue depth and dead letters over the first 10,000 instances of each definition).
 *
 * Baseline: the bare engine reading the same 51 index keys in one transaction (what a page costs
 * below the admin API and HTTP). The actors are created in bulk as in section 6.
 */
import { createSystem } from '../../src/index.js';
import { createActors, ACTORS } from './many-actors.js';
import { Layout } from '../../src/store/keys.js';
import { Counter } from '../lib/actors.js';
import { median, now } from '../lib/measure.js';
import { row, type Row, type SectionContext } from '../lib/report.js';

const SAMPLES = 30;

async function medianMs(op: () => Promise<unknown>): Promise<{ first: number; median: number }> {
  const times: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const t0 = now();
    await op();
    times.push(now() - t0);
  }
  return { first: times[0]!, median: median(times) };
}

export async function inspectorSection({ engine, progress }: SectionContext): Promise<Row[]> {
  const db = await engine.store().open();
  progress(`creating ${ACTORS.toLocaleString('en-US')} actors`);
  await createActors(db);
  const system = await createSystem({ backend: db });
  const inspector = await system.inspector();
  const base = inspector.url.replace(/\/\?token=.*$/, '');
  const get = async (path: string) => {
    const res = await fetch(`${base}${path}`, { headers: { 'x-dgen-token': inspector.token } });
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
    return res.json() as Promise<{ ids?: string[] }>;
  };
  try {
    progress('first pages');
    const page = await medianMs(() => get(`/api/actors/${Counter.name}/instances?limit=50`));
    const search = await medianMs(() => get(`/api/actors/${Counter.name}/instances?limit=50&prefix=m4242`));
    const index = new Layout().index(Counter.name);
    const bare = await medianMs(() => db.transact((tx) => tx.getRange(index.range().begin, index.range().end, { limit: 51, snapshot: true })));
    progress('definitions overview');
    const t0 = now();
    await get('/api/actors');
    const overview = now() - t0;
    const common = { section: '9. inspector', engine: engine.name, unit: 'ms', better: 'lower' as const };
    return [
      row({ ...common, case: `first page of 50 of ${ACTORS.toLocaleString('en-US')} instances, over HTTP`, metric: 'median latency', dgen: page.median, baselines: { bare: bare.median }, detail: { firstRequestMs: page.first, samples: SAMPLES } }),
      row({ ...common, case: `first page of an id-prefix search among ${ACTORS.toLocaleString('en-US')} instances, over HTTP`, metric: 'median latency', dgen: search.median, baselines: { bare: bare.median }, detail: { firstRequestMs: search.first, samples: SAMPLES } }),
      row({ ...common, case: `definitions overview of ${ACTORS.toLocaleString('en-US')} instances (queues and dead letters of the first 10,000 counted)`, metric: 'latency', dgen: overview, note: 'one request, no baseline' }),
    ];
  } finally {
    await inspector.close();
    await system.close();
    await db.close();
  }
}
