/**
 * The simulated cluster of one run: processes (producers, consumers, both) over one memory
 * engine, the chaos that crashes, restarts and partitions them, the external service the thunks
 * call, and the record of everything observable (what was sent and acknowledged, replies,
 * after-commit effects, service requests, crashes) that the invariants are checked against.
 */
import { createSystem, isDgenError, type Backend, type MemoryBackend, type System, type SystemEvent } from '../../src/index.js';
import type { VirtualClock } from '../../src/testing/clock.js';
import type { SimConfig } from './config.js';
import { STRICT, defOf, nameOf, simDefs, type SimActor, type SimDefs, type SimState } from './model.js';
import { CrashError, ProcessBackend, type TxPoint, type TxView } from '../../src/testing/process.js';
import { Rng } from '../../src/testing/random.js';
import { startAggregate } from './aggregate.js';
import { versionAtBoot } from './evolution.js';

export type Role = 'producer' | 'consumer' | 'mixed';

/** One life of a process. */
export class Incarnation {
  constructor(
    readonly slot: Slot,
    readonly name: string,
    readonly backend: ProcessBackend,
    readonly system: System,
    readonly defs: SimDefs,
  ) {}
  get alive(): boolean {
    return this.backend.alive;
  }
  /** The definition of instance `id`, as this process runs it. */
  def(id: string): SimActor {
    return defOf(this.defs, id);
  }
}

/** A process position (`c1`, `p0`, `m0`) and its successive incarnations. */
export class Slot {
  lives = 0;
  current: Incarnation | undefined;
  starting: Promise<Incarnation> | undefined;
  constructor(
    readonly base: string,
    readonly role: Role,
    /** How far (ms) this process's clock runs ahead of true time, in every incarnation (its machine's clock). */
    readonly offset: number,
  ) {}
}

export interface Crash {
  readonly at: number;
  readonly proc: string;
  readonly point: TxPoint | 'thunkBeforeService' | 'thunkAfterService' | 'timer';
  readonly step: string;
}

export interface ServiceRequest {
  readonly key: string;
  readonly tag: string;
  readonly actor: string;
  readonly proc: string;
  readonly attempt: number;
  /** The fencing token of the run's lease (`ctx.fencingToken`). */
  readonly fencingToken: number;
}

/** A `query` and the least log length it had to see (committed before it was issued). */
export interface QueryRun {
  readonly proc: string;
  readonly actor: string;
  readonly atLeast: number;
  readonly log: readonly string[];
}

export interface EffectRun {
  readonly proc: string;
  readonly log: readonly string[];
}

export class World {
  readonly slots: Slot[] = [];
  readonly incarnations = new Map<string, Incarnation>();
  readonly crashes: Crash[] = [];
  readonly crashed = new Set<string>();
  /** Incarnations that crashed or were closed (gracefully restarted). */
  readonly ended = new Set<string>();
  readonly restarts: Array<{ at: number; proc: string }> = [];
  private readonly restarting = new Set<Promise<void>>();
  readonly partitions: Array<{ at: number; proc: string; ms: number }> = [];
  /** The store's recovery in progress, shared by every process (see config.ts, `recovery`). */
  readonly outage = { until: 0 };
  /** Store recoveries: when (virtual ms into the run) and how long. */
  readonly recoveries: Array<{ at: number; ms: number }> = [];
  readonly effects = new Map<string, EffectRun[]>();
  readonly requests: ServiceRequest[] = [];
  readonly queries: QueryRun[] = [];
  /** When the operator first saw a failed message halting its actor (virtual ms into the run), by tag. */
  readonly haltSeen = new Map<string, number>();
  /** Failed messages of halted actors the operator deleted. */
  readonly deleted: Array<{ actor: string; tag: string }> = [];
  resumes = 0;
  /** `state$` emissions (their logs) by observing incarnation and actor. */
  readonly observed = new Map<string, Array<readonly string[]>>();
  /** Longest log of each actor known to be committed (from replies and effects) at this instant. */
  readonly committedLen = new Map<string, number>();
  serviceFailures = 0;
  readonly events = { consumerErrors: 0, messageFailed: 0 };
  /** When each ended incarnation's `close()` resolved (virtual ms into the run). */
  readonly closedAt = new Map<string, number>();
  /** Ids of the messages `message-failed` reported as gone to the dead letters, in order. */
  readonly reportedDead: string[] = [];
  /** What `inspect$` of every process reported: committed messages (id and action, in order) and dead-lettered ones. */
  readonly inspected = { committed: [] as Array<{ readonly id: string; readonly action: string }>, dead: [] as string[] };
  /** Consumer errors by kind (diagnostics). */
  readonly errorKinds: Record<string, number> = {};
  /** Things that are wrong the moment they happen (checked with the rest at the end). */
  readonly violations: string[] = [];
  chaos = true;
  /** The definition version each incarnation runs (see evolution.ts), and `definition-outdated` events seen. */
  readonly versions = new Map<string, 1 | 2>();
  outdated = 0;
  /** Timeline of commits, crashes and restarts, kept when SIM_TRACE is set. */
  readonly timeline: string[] | undefined = process.env.SIM_TRACE ? [] : undefined;
  private readonly crashRng: Rng;
  private readonly serviceRng: Rng;
  private closing: Promise<void>[] = [];

  constructor(
    readonly cfg: SimConfig,
    readonly clock: VirtualClock,
    readonly engine: Backend,
  ) {
    this.crashRng = Rng.derive(cfg.seed, 'crash');
    this.serviceRng = Rng.derive(cfg.seed, 'service');
    const skew = Rng.derive(cfg.seed, 'skew offsets');
    const offset = () => (cfg.skewMs === 0 ? 0 : skew.int(0, cfg.skewMs));
    for (let i = 0; i < cfg.producers; i++) this.slots.push(new Slot(`p${i}`, 'producer', offset()));
    for (let i = 0; i < cfg.consumers; i++) this.slots.push(new Slot(`c${i}`, 'consumer', offset()));
    for (let i = 0; i < cfg.mixed; i++) this.slots.push(new Slot(`m${i}`, 'mixed', offset()));
  }

  /** The largest clock offset of any process, and the spread between the fastest and the slowest clock. */
  get skew(): { readonly max: number; readonly spread: number } {
    const offsets = this.slots.map((s) => s.offset);
    return { max: Math.max(...offsets), spread: Math.max(...offsets) - Math.min(...offsets) };
  }

  /** Runs `fn` as code of `slot`'s process: its `Date.now()` reads that process's clock. */
  within<T>(slot: Slot, fn: () => T): T {
    return this.clock.within(slot.offset, fn);
  }

  get elapsed(): number {
    return this.clock.now - this.clock.start;
  }

  /** Starts the next incarnation of `slot`. */
  start(slot: Slot): Promise<Incarnation> {
    if (slot.current?.alive) return Promise.resolve(slot.current);
    slot.starting ??= this.within(slot, () => this.boot(slot)).finally(() => (slot.starting = undefined));
    return slot.starting;
  }

  private async boot(slot: Slot): Promise<Incarnation> {
    const name = `${slot.base}#${slot.lives++}`;
    const backend = new ProcessBackend(this.engine, name);
    backend.outage = this.outage;
    let inc: Incarnation | undefined;
    const version = versionAtBoot(this.cfg, slot, this.elapsed);
    this.versions.set(name, version);
    const defs = simDefs(
      {
        name,
        trueNow: () => this.clock.now,
        effect: (tag, actor, state) => this.effect(name, tag, actor, state),
        external: (tag, actor, ctx) => this.external(inc!, tag, actor, ctx),
      },
      this.cfg.actorOptions,
      version,
    );
    if (this.timeline !== undefined) backend.trace = (tx) => this.note(`${name} ${tx.step} [${[...tx.actors].join(',')}]`);
    const system = await createSystem({ backend, closeBackend: false, ...(this.cfg.admission === undefined ? {} : { admission: this.cfg.admission }) });
    inc = new Incarnation(slot, name, backend, system, defs);
    this.incarnations.set(name, inc);
    system.events$.subscribe((e) => this.event(inc!, e));
    system.inspect$.subscribe((e) => {
      if (e.type === 'committed') this.inspected.committed.push({ id: e.messageId, action: e.action });
      else if (e.type === 'dead-lettered') this.inspected.dead.push(e.messageId);
    });
    if (slot.role !== 'consumer') {
      for (const actor of this.cfg.actors) {
        const emissions: Array<readonly string[]> = [];
        this.observed.set(`${name}/${actor}`, emissions);
        system.ref(defOf(defs, actor), actor).state$.subscribe({ next: (s) => void emissions.push(s.log), error: () => {} });
      }
    }
    if (slot.role !== 'producer') {
      backend.chaos = { at: (point, tx) => this.txChaos(inc!, point, tx) };
      const reuse = slot.lives > 1 && this.crashRng.chance(this.cfg.crash.reuseName);
      for (const def of [defs.acct, defs.strict]) system.serve(def, { consumerName: reuse ? slot.base : name, pollMs: this.cfg.pollMs, concurrency: this.cfg.concurrency });
      startAggregate(system, defs, this.cfg);
    }
    slot.current = inc;
    this.note(`${name} started${this.cfg.evolution === undefined ? '' : ` (version ${version})`}`);
    return inc;
  }

  /** The live incarnation of a producing slot, waiting for a restart if it is dead. */
  async alive(slot: Slot): Promise<Incarnation> {
    for (;;) {
      if (slot.current?.alive && !this.ended.has(slot.current.name)) return slot.current;
      if (!this.chaos || slot.starting !== undefined) await (slot.starting ?? this.start(slot));
      else await this.clock.sleep(5);
    }
  }

  /** Kills an incarnation where it stands; a new one starts later while the chaos lasts. */
  crash(inc: Incarnation, point: Crash['point'], step: string): boolean {
    if (!this.chaos) return false;
    if (this.crashed.has(inc.name)) return true;
    inc.backend.kill();
    this.crashed.add(inc.name);
    this.ended.add(inc.name);
    this.crashes.push({ at: this.elapsed, proc: inc.name, point, step });
    this.note(`${inc.name} CRASHED at ${point} (${step})`);
    this.closing.push(
      inc.system
        .close()
        .then(() => void this.closedAt.set(inc.name, this.elapsed))
        .catch((e) => void this.violations.push(`closing crashed ${inc.name} failed: ${String(e)}`)),
    );
    const delay = this.crashRng.int(0, this.cfg.crash.restartMs);
    void this.clock.sleep(delay).then(() => {
      if (this.chaos && inc.slot.current === inc) void this.start(inc.slot);
    });
    return true;
  }

  /**
   * A graceful restart: the system closes (batches in flight finish, leases are released), then a
   * new incarnation starts. `deploy`: a new version replacing the process, done even once the chaos is over.
   */
  restart(inc: Incarnation, deploy = false): Promise<void> {
    if ((!this.chaos && !deploy) || this.ended.has(inc.name)) return Promise.resolve();
    this.ended.add(inc.name);
    this.restarts.push({ at: this.elapsed, proc: inc.name });
    this.note(`${inc.name} closing (graceful restart)`);
    const done = inc.system
      .close()
      .then(() => void this.closedAt.set(inc.name, this.elapsed))
      .catch((e) => void (this.crashed.has(inc.name) || this.violations.push(`closing ${inc.name} failed: ${String(e)}`)))
      .then(() => {
        inc.backend.kill(); // the process exits
        if (inc.slot.current === inc) return this.start(inc.slot).then(() => undefined);
      })
      .finally(() => this.restarting.delete(done));
    this.restarting.add(done);
    return done;
  }

  private txChaos(inc: Incarnation, point: TxPoint, tx: TxView): boolean {
    if (!this.chaos || this.cfg.crash.txRate === 0) return false;
    // Crash points inside read-only transactions (scans, watches, reply checks) are rarer.
    const rate = tx.touched.size === 0 ? this.cfg.crash.txRate / 4 : this.cfg.crash.txRate;
    return this.crashRng.chance(rate) && this.crash(inc, point, tx.step);
  }

  /** Crashes a random live consumer at a random instant, and partitions one now and then, while the chaos lasts. */
  async chaosLoop(): Promise<void> {
    const { everyMs, restartEveryMs } = this.cfg.crash;
    const partitionEvery = this.cfg.partition.everyMs;
    const periods = [everyMs, partitionEvery, restartEveryMs].filter((x) => x > 0);
    if (periods.length === 0) return;
    const tick = Math.min(...periods);
    while (this.chaos) {
      await this.clock.sleep(this.crashRng.int(tick / 2, tick * 1.5));
      if (!this.chaos) return;
      const live = this.slots.filter((s) => s.role !== 'producer' && s.current?.alive && !this.ended.has(s.current.name)).map((s) => s.current!);
      if (live.length === 0) continue;
      const victim = this.crashRng.pick(live);
      if (everyMs > 0 && this.crashRng.chance(tick / everyMs)) void this.crash(victim, 'timer', 'any');
      else if (restartEveryMs > 0 && this.crashRng.chance(tick / restartEveryMs)) void this.restart(victim);
      else if (partitionEvery > 0 && this.crashRng.chance(tick / partitionEvery)) {
        const ms = this.crashRng.int(1, this.cfg.partition.maxMs);
        victim.backend.pausedUntil = Math.max(victim.backend.pausedUntil, this.clock.now + ms);
        this.partitions.push({ at: this.elapsed, proc: victim.name, ms });
      }
    }
  }

  /**
   * Store recoveries while the chaos lasts: the store goes away for several virtual seconds. Reads
   * wait (ProcessBackend.recovered); commits sent meanwhile are held until after it (`stall`, a
   * few landing only once their client gave up) or lost (`unknownResultNotApplied`).
   */
  async recoveryLoop(): Promise<void> {
    const plan = this.cfg.recovery;
    if (plan === undefined) return;
    const faults = (this.engine as MemoryBackend).faults;
    const rng = Rng.derive(this.cfg.seed, 'outage');
    await this.clock.sleep(rng.int(100, 1_500)); // producers are done within seconds
    while (this.chaos) {
      const ms = rng.int(plan.downMs[0], plan.downMs[1]);
      this.recoveries.push({ at: this.elapsed, ms });
      this.note(`store recovery for ${ms} ms`);
      this.outage.until = this.clock.now + ms;
      const base = this.cfg.faults;
      faults.set({ ...base, unknownResult: 0, stall: 0.6, unknownResultNotApplied: 0.2, stallMs: ms + rng.int(0, 6_000) });
      await this.clock.sleep(ms);
      faults.set(base);
      if (!this.chaos) return;
      await this.clock.sleep(rng.int(plan.everyMs / 2, plan.everyMs * 1.5));
    }
  }

  /**
   * The operator of the halting actors: when one is halted, deletes the message that failed
   * (admin.queue / deleteQueued) and resumes it (admin.resume). Runs until `stop` resolves.
   */
  async operate(stop: Promise<void>): Promise<void> {
    const strict = this.cfg.actors.filter((id) => nameOf(id) === STRICT);
    if (strict.length === 0) return;
    let stopped = false;
    void stop.then(() => (stopped = true));
    const ops = await createSystem({ backend: this.engine, closeBackend: false });
    /** Failed messages being deleted (id → tag): once gone from the queue, the delete applied (it may have been ambiguous). */
    const deleting = new Map<string, string>();
    const gone = new Set<string>();
    while (!stopped) {
      await this.clock.sleep(this.crashRng.int(5, 60));
      for (const id of strict) {
        try {
          const halted = await ops.admin.halted(nameOf(id), id);
          if (halted === undefined) continue;
          const message = halted.messageId;
          if (!gone.has(message)) {
            const entry = (await ops.admin.queue(nameOf(id), id, { limit: 100 })).find((q) => 'id' in q.message && q.message.id === message);
            if (entry !== undefined) {
              const tag = (entry.message as { payload: { tag: string } }).payload.tag;
              if (!this.haltSeen.has(tag)) this.haltSeen.set(tag, this.elapsed);
              deleting.set(message, tag);
              await ops.admin.deleteQueued(nameOf(id), id, entry.position);
              continue; // the next round sees it gone, then resumes
            }
            const tag = deleting.get(message);
            if (tag === undefined) this.violations.push(`${id} halted on message ${message}, which is not in its queue`);
            else this.deleted.push({ actor: id, tag });
            gone.add(message);
          }
          await ops.admin.resume(nameOf(id), id);
          this.resumes++;
        } catch (e) {
          if (!isDgenError(e)) this.violations.push(`operator: ${describe(e)}`);
        }
      }
    }
    await ops.close();
  }

  /** Ends the chaos: no more crashes or partitions; every crashed process comes back. */
  async heal(): Promise<void> {
    this.chaos = false;
    this.outage.until = 0;
    if (this.cfg.recovery !== undefined) (this.engine as MemoryBackend).faults.set(this.cfg.faults);
    while (this.restarting.size > 0) await Promise.all([...this.restarting]);
    for (const slot of this.slots) {
      if (slot.current !== undefined) slot.current.backend.pausedUntil = 0;
      await this.start(slot);
    }
  }

  /** Closes every live process gracefully (servers finish their batches and release their leases). */
  async shutdown(): Promise<void> {
    for (const slot of this.slots) if (slot.current?.alive) await slot.current.system.close();
    await Promise.all(this.closing);
  }

  note(line: string): void {
    this.timeline?.push(`${this.elapsed.toFixed(1).padStart(9)} ${line}`);
  }

  /** `len` entries of `actor`'s log are known to be committed now. */
  committed(actor: string, len: number): void {
    if (len > (this.committedLen.get(actor) ?? 0)) this.committedLen.set(actor, len);
  }

  private effect(proc: string, tag: string, actor: string, state: SimState): void {
    this.committed(actor, state.log.length);
    const key = `${actor}/${tag}`;
    const runs = this.effects.get(key) ?? [];
    runs.push({ proc, log: state.log });
    this.effects.set(key, runs);
  }

  /** The thunk: calls the external service with its idempotency key; may crash its process around the call. */
  private async external(inc: Incarnation, tag: string, actor: string, ctx: { key: string; attempt: number; signal: AbortSignal; fencingToken: number }): Promise<void> {
    const rate = this.cfg.crash.thunkRate / 2;
    if (!inc.alive) throw new CrashError(inc.name);
    if (this.chaos && this.crashRng.chance(rate) && this.crash(inc, 'thunkBeforeService', 'thunk')) throw new CrashError(inc.name);
    await this.service(inc, { key: ctx.key, tag, actor, proc: inc.name, attempt: ctx.attempt, fencingToken: ctx.fencingToken });
    if (!inc.alive) throw new CrashError(inc.name);
    if (this.chaos && this.crashRng.chance(rate) && this.crash(inc, 'thunkAfterService', 'thunk')) throw new CrashError(inc.name);
  }

  /** A fake external service that records requests by idempotency key; it loses requests or responses now and then. */
  private async service(inc: Incarnation, request: ServiceRequest): Promise<void> {
    const { failRate, maxLatencyMs } = this.cfg.service;
    await this.clock.sleep(this.serviceRng.int(0, maxLatencyMs));
    if (this.serviceRng.chance(failRate / 2)) {
      this.serviceFailures++;
      throw new Error('service unavailable (request lost)');
    }
    this.requests.push(request);
    await this.clock.sleep(this.serviceRng.int(0, maxLatencyMs));
    if (!inc.alive) throw new CrashError(inc.name);
    if (this.serviceRng.chance(failRate / 2)) {
      this.serviceFailures++;
      throw new Error('service unavailable (response lost)');
    }
  }

  private event(inc: Incarnation, e: SystemEvent): void {
    if (e.type === 'consumer-error') {
      this.events.consumerErrors++;
      const error = e.error;
      const kind = `${inc.alive ? 'live' : 'dead'} ${describe(error).slice(0, 80)}`;
      this.errorKinds[kind] = (this.errorKinds[kind] ?? 0) + 1;
      if (!(error instanceof CrashError) && !isDgenError(error)) this.violations.push(`${inc.name}: unexpected consumer error on ${e.actor}/${e.id}: ${describe(error)}`);
    } else if (e.type === 'effect-failed') this.violations.push(`${inc.name}: effect failed on ${e.actor}/${e.id}: ${describe(e.error)}`);
    else if (e.type === 'definition-outdated') this.outdated++;
    else if (e.type === 'message-failed') {
      this.events.messageFailed++;
      if (e.policy === 'dead-letter') this.reportedDead.push(e.messageId);
    }
  }
}

/** An error in one line of at most 400 characters. */
export function describe(e: unknown): string {
  const text = e instanceof Error ? `${e.name}${(e as { code?: string }).code ? ` [${(e as { code?: string }).code}]` : ''}: ${e.message}` : String(e);
  return text.length > 400 ? `${text.slice(0, 400)}…` : text;
}
