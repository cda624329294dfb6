/**
 * The simulated cluster of one `simulate()` run: producing processes that run the workload and
 * consuming processes that serve the definitions, each its own system over one memory engine,
 * and the chaos that crashes, partitions and restarts the consumers (see chaos-plan.ts). Every
 * commit, crash and restart goes into a trace, with the instances each commit touched.
 * @internal
 */
import { createSystem, type System } from '../client/system.js';
import type { ActorDefinition, ThunkContext } from '../define/actor.js';
import type { MemoryBackend } from '../backend/memory.js';
import { isDgenError } from '../errors.js';
import type { VirtualClock } from './clock.js';
import type { ChaosPlan } from './chaos-plan.js';
import { CrashError, ProcessBackend, type TxPoint, type TxView } from './process.js';
import { Rng } from './random.js';
import { adminWith } from './test-system.js';

/** One life of a simulated process, as the definitions built for it see it. */
export interface SimulatedProcess {
  /** Its name: slot and incarnation (`c1#2`: the third life of consumer 1; `p0#0`: producer 0). */
  readonly name: string;
  /** Its system: what an after-commit effect of this process reaches other actors through. */
  readonly system: System;
}

/** Any definition made by `defineActor` (its types do not matter to the simulation). */
export interface AnyDefinition {
  readonly name: string;
  readonly initialState: () => unknown;
  readonly reducers: object;
  readonly thunks: object;
  readonly options: object;
}

type Def = ActorDefinition<unknown>;
type Role = 'producer' | 'consumer';

export class Proc implements SimulatedProcess {
  readonly defs = new Map<string, Def>();
  /** The process's system, taking any definition of a simulated name for the one this process runs. */
  readonly system: System;
  constructor(
    readonly slot: Slot,
    readonly name: string,
    readonly backend: ProcessBackend,
    inner: System,
  ) {
    const own = <D>(def: D): D => (this.defs.get((def as { name?: string } | undefined)?.name ?? '') as D | undefined) ?? def;
    this.system = { ...inner, admin: adminWith(inner.admin, own), ref: (def, id) => inner.ref(own(def), id), serve: (def, o) => inner.serve(own(def), o) };
  }
  get alive(): boolean {
    return this.backend.alive;
  }
}

export class Slot {
  lives = 0;
  current: Proc | undefined;
  starting: Promise<Proc> | undefined;
  constructor(
    readonly base: string,
    readonly role: Role,
    /** How far (ms) this process's clock runs ahead of true time, in every life. */
    readonly offset: number,
  ) {}
}

export class Cluster {
  readonly slots: Slot[] = [];
  readonly trace: string[] = [];
  readonly violations: string[] = [];
  /** Instance ids some commit touched. */
  readonly ids = new Set<string>();
  crashes = 0;
  chaos = true;
  /** Called after each writing commit a process learns of, with the instances it touched. */
  onCommit: ((process: string, ids: ReadonlySet<string>) => void) | undefined;
  private readonly rng: Rng;
  private readonly closing: Promise<void>[] = [];
  private readonly restarting = new Set<Promise<void>>();

  constructor(
    readonly plan: ChaosPlan,
    readonly clock: VirtualClock,
    readonly engine: MemoryBackend,
    private readonly build: (process: SimulatedProcess) => readonly AnyDefinition[],
    private readonly fakes: Readonly<Record<string, unknown>>,
  ) {
    this.rng = Rng.derive(plan.seed, 'crash');
    const skew = Rng.derive(plan.seed, 'skew offsets');
    const offset = () => (plan.skewMs === 0 ? 0 : skew.int(0, plan.skewMs));
    for (let i = 0; i < plan.producers; i++) this.slots.push(new Slot(`p${i}`, 'producer', offset()));
    for (let i = 0; i < plan.consumers; i++) this.slots.push(new Slot(`c${i}`, 'consumer', offset()));
  }

  get elapsed(): number {
    return this.clock.now - this.clock.start;
  }

  note(line: string): void {
    this.trace.push(`${this.elapsed.toFixed(1).padStart(9)} ms  ${line}`);
  }

  /** Runs `fn` as code of `slot`'s process (its clock). */
  within<T>(slot: Slot, fn: () => T): T {
    return this.clock.within(slot.offset, fn);
  }

  start(slot: Slot): Promise<Proc> {
    if (slot.current?.alive) return Promise.resolve(slot.current);
    slot.starting ??= this.within(slot, () => this.boot(slot)).finally(() => (slot.starting = undefined));
    return slot.starting;
  }

  private async boot(slot: Slot): Promise<Proc> {
    const name = `${slot.base}#${slot.lives++}`;
    const backend = new ProcessBackend(this.engine, name);
    backend.trace = (tx) => {
      for (const id of tx.actors) this.ids.add(id);
      this.note(`${name} ${tx.step} [${[...tx.actors].join(', ')}]`);
      this.onCommit?.(name, tx.actors);
    };
    const system = await createSystem({ backend, closeBackend: false });
    const proc = new Proc(slot, name, backend, system);
    for (const def of this.build(proc) as readonly Def[]) proc.defs.set(def.name, this.derive(proc, def));
    system.events$.subscribe((e) => {
      if (e.type === 'consumer-error' && !isDgenError(e.error)) this.violations.push(`${name}: unexpected consumer error on ${e.actor}/${e.id}: ${describe(e.error)}`);
      else if (e.type === 'effect-failed') this.note(`${name} after-commit effect failed on ${e.actor}/${e.id}: ${describe(e.error)}`);
      else if (e.type === 'message-failed') this.note(`${name} message ${e.messageId} of ${e.actor}/${e.id} failed (${e.policy}): ${describe(e.error)}`);
    });
    if (slot.role === 'consumer') {
      backend.chaos = { at: (point, tx) => this.txChaos(proc, point, tx) };
      const reuse = slot.lives > 1 && this.rng.chance(this.plan.crash.reuseName);
      for (const def of proc.defs.values()) system.serve(def, { consumerName: reuse ? slot.base : name, pollMs: this.plan.pollMs });
    }
    slot.current = proc;
    this.note(`${name} started`);
    return proc;
  }

  /** The definition as `proc` runs it: the plan's options, the thunk fakes, and crash points around every thunk. */
  private derive(proc: Proc, def: Def): Def {
    const thunks: Record<string, unknown> = {};
    for (const [name, own] of Object.entries(def.thunks)) {
      const fake = Object.hasOwn(this.fakes, name) ? this.fakes[name] : undefined;
      const spec = (fake ?? own) as { run?: unknown; onFailure?: unknown } | ((...a: unknown[]) => unknown);
      const run = (typeof spec === 'function' ? spec : spec.run) as (args: unknown, ctx: ThunkContext<unknown>) => unknown;
      const onFailure = typeof spec === 'function' ? (typeof own === 'object' ? (own as { onFailure?: unknown }).onFailure : undefined) : spec.onFailure;
      const crashing = async (args: unknown, ctx: ThunkContext<unknown>) => {
        this.thunkPoint(proc, 'thunkBeforeService', ctx.actorId);
        const out = await run(args, ctx);
        this.thunkPoint(proc, 'thunkAfterService', ctx.actorId);
        return out;
      };
      thunks[name] = onFailure === undefined ? crashing : { run: crashing, onFailure };
    }
    return Object.freeze({ ...def, thunks: Object.freeze(thunks), options: Object.freeze({ ...def.options, ...this.plan.actorOptions }) }) as Def;
  }

  private thunkPoint(proc: Proc, point: 'thunkBeforeService' | 'thunkAfterService', id: string): void {
    if (!proc.alive) throw new CrashError(proc.name);
    if (proc.slot.role === 'consumer' && this.chaos && this.rng.chance(this.plan.crash.thunkRate / 2) && this.crash(proc, point, 'thunk', new Set([id]))) throw new CrashError(proc.name);
  }

  /** Kills a process where it stands; a new life starts later while the chaos lasts. */
  crash(proc: Proc, point: TxPoint | 'thunkBeforeService' | 'thunkAfterService' | 'timer', step: string, ids: ReadonlySet<string> = new Set()): boolean {
    if (!this.chaos) return false;
    if (!proc.alive) return true;
    proc.backend.kill();
    this.crashes++;
    this.note(`${proc.name} CRASHED at ${point} (${step})${ids.size === 0 ? '' : ` [${[...ids].join(', ')}]`}`);
    this.closing.push(proc.system.close().catch((e: unknown) => void this.violations.push(`closing crashed ${proc.name} failed: ${describe(e)}`)));
    void this.clock.sleep(this.rng.int(0, this.plan.crash.restartMs)).then(() => {
      if (this.chaos && proc.slot.current === proc) void this.start(proc.slot);
    });
    return true;
  }

  /** A graceful restart: the system closes (batches finish, leases are released), then a new life starts. */
  private restart(proc: Proc): void {
    this.note(`${proc.name} closing (graceful restart)`);
    const done = proc.system
      .close()
      .catch((e: unknown) => void (proc.alive && this.violations.push(`closing ${proc.name} failed: ${describe(e)}`)))
      .then(() => {
        proc.backend.kill();
        if (proc.slot.current === proc) return this.start(proc.slot).then(() => undefined);
      })
      .finally(() => this.restarting.delete(done));
    this.restarting.add(done);
  }

  private txChaos(proc: Proc, point: TxPoint, tx: TxView): boolean {
    if (!this.chaos || this.plan.crash.txRate === 0) return false;
    const rate = tx.touched.size === 0 ? this.plan.crash.txRate / 4 : this.plan.crash.txRate;
    return this.rng.chance(rate) && this.crash(proc, point, tx.step, tx.actors);
  }

  /** Crashes, restarts and partitions consumers at random instants while the chaos lasts. */
  async chaosLoop(): Promise<void> {
    const { everyMs, restartEveryMs } = this.plan.crash;
    const partitionEvery = this.plan.partition.everyMs;
    const periods = [everyMs, partitionEvery, restartEveryMs].filter((x) => x > 0);
    if (periods.length === 0) return;
    const tick = Math.min(...periods);
    while (this.chaos) {
      await this.clock.sleep(this.rng.int(tick / 2, tick * 1.5));
      if (!this.chaos) return;
      const live = this.slots.filter((s) => s.role === 'consumer' && s.current?.alive && !this.restartingNow(s)).map((s) => s.current!);
      if (live.length === 0) continue;
      const victim = this.rng.pick(live);
      if (everyMs > 0 && this.rng.chance(tick / everyMs)) void this.crash(victim, 'timer', 'any');
      else if (restartEveryMs > 0 && this.rng.chance(tick / restartEveryMs)) this.restart(victim);
      else if (partitionEvery > 0 && this.rng.chance(tick / partitionEvery)) {
        const ms = this.rng.int(1, this.plan.partition.maxMs);
        victim.backend.pausedUntil = Math.max(victim.backend.pausedUntil, this.clock.now + ms);
        this.note(`${victim.name} partitioned for ${ms} ms`);
      }
    }
  }

  private restartingNow(slot: Slot): boolean {
    return slot.starting !== undefined;
  }

  /** Ends the chaos: every process comes back, no more faults. */
  async heal(): Promise<void> {
    this.chaos = false;
    this.engine.faults.set({});
    while (this.restarting.size > 0) await Promise.all([...this.restarting]);
    for (const slot of this.slots) {
      if (slot.current !== undefined) slot.current.backend.pausedUntil = 0;
      await this.start(slot);
    }
    this.note('chaos over: every process up, no more faults');
  }

  /** Closes every live process gracefully. */
  async shutdown(): Promise<void> {
    for (const slot of this.slots) if (slot.current?.alive) await slot.current.system.close();
    await Promise.all(this.closing);
  }
}

/** An error in one line of at most 300 characters. */
export function describe(e: unknown): string {
  const code = (e as { code?: unknown } | undefined)?.code;
  const text = e instanceof Error ? `${e.name}${typeof code === 'string' ? ` [${code}]` : ''}: ${e.message}` : String(e);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
