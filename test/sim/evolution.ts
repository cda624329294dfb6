/**
 * Two definition versions at once, as a rolling deploy runs them (in about two runs of five):
 * every process starts with version 1 or 2 of the actor (`model.ts`: version 2 counts its
 * migration in the state and renames `recv` to `receive`), producers keep theirs, and at
 * `rolloutAt` the consuming processes still on version 1 are restarted one by one with version 2
 * (any incarnation started after that instant runs version 2). Crashes, partitions and takeovers
 * go on meanwhile, between old and new hosts alike.
 *
 * Invariants (`checkEvolution`):
 * - no state written by a host older than its stored version: in every log, the entries before the
 *   migration are all version-1 hosts' and those after it all version-2 hosts'; without a
 *   migration, the instance was first written by version 2, and only version 2 wrote it;
 * - migrations applied exactly once per instance: at most once, and once whenever version 1 wrote
 *   it and version 2 later did;
 * - a message is applied by a host at least as new as its producer (a version-2 producer's message
 *   is never applied by a version-1 host), and exactly once (checked with every message in check.ts).
 */
import type { SimConfig } from './config.js';
import { procOf, tagOf } from './model.js';
import type { Sent } from './producer.js';
import { Rng } from '../../src/testing/random.js';
import type { FinalActor } from './check.js';
import type { Slot, World } from './world.js';

export interface EvolutionPlan {
  /** Virtual ms into the run when the consuming processes still on version 1 are replaced. */
  readonly rolloutAt: number;
  /** Pause between two replaced processes. */
  readonly gapMs: number;
  /** The version each process starts with, by slot base name (`p0`, `c1`, `m0`). */
  readonly initial: Readonly<Record<string, 1 | 2>>;
}

/** The plan of a run, from its own stream (so the rest of a seed's configuration is unchanged); undefined: one version only. */
export function evolutionPlan(seed: number, slots: { producers: number; consumers: number; mixed: number }): EvolutionPlan | undefined {
  const r = Rng.derive(seed, 'evolution');
  if (!r.chance(0.4)) return undefined;
  const initial: Record<string, 1 | 2> = {};
  for (let i = 0; i < slots.producers; i++) initial[`p${i}`] = r.chance(0.5) ? 2 : 1;
  for (let i = 0; i < slots.consumers; i++) initial[`c${i}`] = i === 0 ? 1 : r.chance(0.3) ? 2 : 1; // c0 is an old host
  for (let i = 0; i < slots.mixed; i++) initial[`m${i}`] = r.chance(0.5) ? 2 : 1;
  return { rolloutAt: r.int(0, 1_500), gapMs: r.int(10, 400), initial };
}

/** The definition version a new incarnation of `slot` runs. */
export function versionAtBoot(cfg: SimConfig, slot: Slot, elapsed: number): 1 | 2 {
  const plan = cfg.evolution;
  if (plan === undefined) return 1;
  if (slot.role !== 'producer' && elapsed >= plan.rolloutAt) return 2;
  return plan.initial[slot.base] ?? 1;
}

/** The rolling deploy: replaces each consuming process still on version 1, one at a time. */
export async function rollout(world: World): Promise<void> {
  const plan = world.cfg.evolution;
  if (plan === undefined) return;
  await world.clock.sleep(plan.rolloutAt);
  for (const slot of world.slots) {
    if (slot.role === 'producer') continue;
    const inc = slot.current;
    if (inc === undefined || world.versions.get(inc.name) !== 1) continue; // crashed ones restart on version 2
    world.note(`${inc.name} replaced by version 2`);
    await world.restart(inc, true);
    await world.clock.sleep(plan.gapMs);
  }
}

/** The invariants of a run with two versions (see above). */
export function checkEvolution(world: World, sent: ReadonlyMap<string, Sent>, final: ReadonlyMap<string, FinalActor>, fail: (message: string) => void): void {
  if (world.cfg.evolution === undefined) return;
  const versionOf = (proc: string): number => world.versions.get(proc) ?? NaN;
  for (const [actor, f] of final) {
    const log = f.state.log;
    if (log.length === 0) continue;
    const migrations = f.state.migrations ?? 0;
    const at = f.state.migratedAt;
    if (migrations > 1) fail(`${actor}: migrated ${migrations} times`);
    const versions = log.map((e) => versionOf(procOf(e)));
    if (migrations >= 1 && at !== undefined) {
      const wrong = versions.findIndex((v, i) => v !== (i < at ? 1 : 2));
      if (wrong >= 0) fail(`${actor}: entry ${wrong} (${log[wrong]}) written by a version-${versions[wrong]} host, but the migration to 2 came at entry ${at}`);
    } else if (f.state.migrations === 0) {
      const old = versions.findIndex((v) => v !== 2);
      if (old >= 0) fail(`${actor}: first written by version 2, yet entry ${old} (${log[old]}) was written by a version-${versions[old]} host`);
    } else {
      const newer = versions.findIndex((v) => v !== 1);
      if (newer >= 0) fail(`${actor}: never migrated, yet entry ${newer} (${log[newer]}) was written by a version-${versions[newer]} host`);
    }
    for (const entry of log) {
      const s = sent.get(tagOf(entry));
      if (s === undefined) continue; // recipes, compensations, forwards and timers: produced by hosts
      const producer = versionOf(s.ref.slice(0, s.ref.lastIndexOf('/')));
      if (producer > versionOf(procOf(entry))) fail(`${s.tag}: sent by a version-${producer} producer, applied by ${procOf(entry)}, a version-${versionOf(procOf(entry))} host`);
    }
  }
}

/** Statistics of a run with two versions. */
export function evolutionStats(world: World, final: ReadonlyMap<string, FinalActor> | undefined): Record<string, number> | undefined {
  if (world.cfg.evolution === undefined) return undefined;
  const states = final === undefined ? [] : [...final.values()].map((f) => f.state);
  return { migrated: states.filter((s) => s.migrations === 1).length, outdated: world.outdated };
}
