/**
 * The change feed's part of the simulation: every consuming process runs a durable listener on
 * each simulated definition's feed, which folds every change into one aggregate actor through
 * `tx.send` (exactly once with the listener's checkpoint), under the same crashes, ambiguous
 * commits, recoveries and restarts as the rest.
 *
 * Invariant (checked once everything is drained): for every source instance, the aggregate holds
 * its versions 1..V in order, each once, V being the instance's final version (nothing missed,
 * nothing twice), and the log entries the changes' patches added, replayed in order, are the
 * instance's final log (exactly, when every change kept its patches; otherwise those that kept
 * them form a subsequence of it, in order).
 */
import { createSystem, defineActor, type Backend, type System } from '../../src/index.js';
import { Layout } from '../../src/store/keys.js';
import { decodeVersion } from '../../src/store/version.js';
import type { SimConfig } from './config.js';
import { nameOf, type SimDefs, type SimState } from './model.js';

export const AGG = 'sim.agg';

/** What the aggregate holds per source instance: [version, log entries added | null (patches not kept)]. */
export type Folded = Record<string, Array<[number, string[] | null]>>;

export const Aggregate = defineActor({
  name: AGG,
  initialState: () => ({ seen: {} as Folded }),
  reducers: {
    fold(state, c: { id: string; version: number; added: string[] | null }) {
      (state.seen[c.id] ??= []).push([c.version, c.added]);
    },
  },
});

/** Serves the aggregate and runs the listeners in a consuming process. */
export function startAggregate(system: System, defs: SimDefs, cfg: SimConfig): void {
  system.serve(Aggregate, { pollMs: cfg.pollMs, concurrency: cfg.concurrency });
  for (const def of [defs.acct, defs.strict]) {
    system.listen({
      name: `${AGG}/${def.name}`,
      on: def,
      leaseMs: cfg.actorOptions.leaseMs,
      retryMs: 10,
      batchSize: 8,
      handler: (change, tx) => {
        const added = change.patches === null ? null : change.patches.filter((p) => p.op === 'add' && p.path[0] === 'log' && p.path.length === 2).map((p) => String(p.value));
        tx.send(Aggregate, 'all').fold({ id: change.id, version: change.version, added });
      },
    });
  }
}

/** Waits until the aggregate has caught up with every source instance, then checks the invariant. */
export async function checkAggregate(cfg: SimConfig, engine: Backend, sleep: (ms: number) => Promise<void>): Promise<string[]> {
  const layout = new Layout();
  const auditor = await createSystem({ backend: engine, closeBackend: false });
  try {
    let problems: string[] = ['never read'];
    for (let waited = 0; waited <= 60_000; waited += 50) {
      problems = await compare(cfg, engine, layout, auditor);
      if (problems.length === 0) return [];
      await sleep(50);
    }
    return problems.map((p) => `aggregate (change feed listener): ${p}`);
  } finally {
    await auditor.close();
  }
}

async function compare(cfg: SimConfig, engine: Backend, layout: Layout, auditor: System): Promise<string[]> {
  const agg = ((await auditor.admin.state(AGG, 'all')) as { seen: Folded } | undefined)?.seen ?? {};
  const out: string[] = [];
  for (const id of cfg.actors) {
    const version = await engine.transact(async (tx) => decodeVersion(await tx.get(layout.actor(nameOf(id), id).version)).n);
    const state = (await auditor.admin.state(nameOf(id), id)) as SimState | undefined;
    const folded = agg[id] ?? [];
    const versions = folded.map(([v]) => v);
    const expected = Array.from({ length: version }, (_, i) => i + 1);
    if (JSON.stringify(versions) !== JSON.stringify(expected)) {
      out.push(`${id}: versions ${summary(versions)}, expected 1..${version}`);
      continue;
    }
    const log = state?.log ?? [];
    const kept = folded.every(([, added]) => added !== null);
    const replayed = folded.flatMap(([, added]) => added ?? []);
    if (kept ? JSON.stringify(replayed) !== JSON.stringify(log) : !isSubsequence(replayed, log)) out.push(`${id}: replayed log (${replayed.length}) differs from the final log (${log.length})`);
  }
  return out;
}

function isSubsequence(a: readonly string[], b: readonly string[]): boolean {
  let j = 0;
  for (const x of b) if (j < a.length && a[j] === x) j++;
  return j === a.length;
}

function summary(v: number[]): string {
  return v.length <= 12 ? `[${v.join(',')}]` : `[${v.slice(0, 6).join(',')} … ${v.slice(-6).join(',')}] (${v.length})`;
}
