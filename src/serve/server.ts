/**
 * `system.serve(Def)`: finds instances of a definition that have work and drains them. Wake-ups
 * come from three RxJS sources merged: enqueues made by this process, a watch on the
 * definition's notify key (enqueues from other processes), and a fallback timer. Instances are
 * activated on demand and dropped from memory after `idleMs` without work.
 * @internal
 */
import { randomBytes } from 'node:crypto';
import { filter, interval, map, merge, type Subscription } from 'rxjs';
import type { ActorDefinition } from '../define/actor.js';
import { InstanceConsumer } from './consumer.js';
import { processInline } from './inline.js';
import { releaseLease } from '../store/lease.js';
import { runLockedThunk } from './thunk.js';
import type { InlineConsumer, Runtime } from '../runtime/runtime.js';
import { watchKey } from '../util/watch-key.js';
import { Timekeeper } from '../time/timekeeper.js';
import { outdatedRetryAt } from '../evolution/outdated.js';

/** Options of `system.serve`. */
export interface ServeOptions {
  /** Serve only these instance ids (default: every instance with work). */
  readonly ids?: readonly string[];
  /** How often to look for work even without a notification. Default 1,000 ms. */
  readonly pollMs?: number;
  /** Most instances draining at once. Default 64. */
  readonly concurrency?: number;
  /** Name of this consumer in lease records (what operators see). Default: random. Must be unique among consumers. */
  readonly consumerName?: string;
}

/** A running `serve()`; stop it to release its instances to other consumers. */
export interface Serving {
  /** Finishes the batches in flight, releases leases and stops. */
  stop(): Promise<void>;
}

interface Slot<S> {
  readonly consumer: InstanceConsumer<S>;
  running: Promise<void> | undefined;
  dirty: boolean;
  idleTimer: NodeJS.Timeout | undefined;
  retryTimer: NodeJS.Timeout | undefined;
  /** Times in a row this host found the instance stored by a newer definition (see evolution/outdated.ts). */
  outdated: number;
}

export class Server<S> implements Serving {
  private readonly owner: string;
  private readonly slots = new Map<string, Slot<S>>();
  private readonly only: ReadonlySet<string> | undefined;
  private readonly subscription: Subscription;
  private scanning: Promise<void> | undefined;
  private rescan = false;
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private stopped = false;
  /** Fires the definition's due timers into their queues (see time/timekeeper.ts). */
  private readonly timekeeper: Timekeeper;

  constructor(
    private readonly rt: Runtime,
    private readonly def: ActorDefinition<S>,
    private readonly options: ServeOptions = {},
  ) {
    this.owner = options.consumerName ?? randomBytes(8).toString('hex');
    this.only = options.ids === undefined ? undefined : new Set(options.ids);
    const local = rt.enqueued$.pipe(
      filter((e) => e.name === def.name && this.wants(e.id)),
      map((e) => e.id),
    );
    const remote = merge(watchKey(rt.backend, rt.layout.notify(def.name)), interval(options.pollMs ?? 1_000)).pipe(map(() => undefined));
    this.subscription = merge(local, remote).subscribe((id) => (id === undefined ? this.scan() : this.kick(id)));
    this.timekeeper = new Timekeeper(rt, def.name, (ids) => ids.forEach((_, id) => this.wants(id) && this.kick(id)));
    this.scan();
  }

  private wants(id: string): boolean {
    return this.only === undefined || this.only.has(id);
  }

  /** Reads the "has work" index (snapshot, no conflicts) and kicks every instance found. */
  private scan(): void {
    if (this.stopped) return;
    if (this.scanning !== undefined) {
      this.rescan = true;
      return;
    }
    this.scanning = this.scanOnce()
      .catch((error) => this.rt.emit({ type: 'consumer-error', actor: this.def.name, id: '', error }))
      .finally(() => {
        this.scanning = undefined;
        if (this.rescan) {
          this.rescan = false;
          this.scan();
        }
      });
  }

  private async scanOnce(): Promise<void> {
    const work = this.rt.layout.work(this.def.name);
    let { begin } = work.range();
    const { end } = work.range();
    for (;;) {
      const page = await this.rt.backend.transact((tx) => tx.getRange(begin, end, { limit: 1_000, snapshot: true }));
      for (const kv of page) {
        const id = work.unpack(kv.key)[0];
        if (typeof id === 'string' && this.wants(id)) this.kick(id);
      }
      if (page.length < 1_000) return;
      begin = Buffer.concat([page[page.length - 1]!.key, Buffer.of(0)]);
    }
  }

  /** Makes sure instance `id` drains its queue (now, or after the batch in flight). */
  kick(id: string): void {
    if (this.stopped) return;
    const slot = this.slot(id);
    slot.dirty = true;
    if (slot.idleTimer !== undefined) clearTimeout(slot.idleTimer);
    slot.idleTimer = undefined;
    if (slot.running === undefined && slot.retryTimer === undefined) slot.running = this.drain(slot).finally(() => this.settle(slot));
  }

  private slot(id: string): Slot<S> {
    let slot = this.slots.get(id);
    if (slot === undefined) {
      slot = { consumer: new InstanceConsumer(this.rt, this.def, id, this.owner), running: undefined, dirty: false, idleTimer: undefined, retryTimer: undefined, outdated: 0 };
      this.slots.set(id, slot);
      this.rt.observer.instances(this.def.name, 1);
    }
    return slot;
  }

  private async drain(slot: Slot<S>): Promise<void> {
    await this.acquire();
    try {
      while (slot.dirty && !this.stopped) {
        slot.dirty = false;
        let idle = false;
        for (;;) {
          if (this.stopped) return;
          const r = await slot.consumer.batch();
          if (r.kind === 'outdated') return this.leave(slot, r.stored);
          if (r.kind === 'processed' && r.count > 0) slot.outdated = 0;
          if (r.kind === 'standby') return this.retryAt(slot, r.until);
          if (r.kind === 'halted') return;
          if (r.kind === 'empty') break;
          if (r.kind === 'processed' && r.idle === true) {
            idle = true; // the batch cleared the "has work" flag itself
            break;
          }
          if (r.kind === 'locked') {
            const t = await runLockedThunk(slot.consumer);
            if (t.kind === 'stopped') return;
            if (t.kind === 'outdated') return this.leave(slot, t.stored);
            if (t.kind === 'standby') return this.retryAt(slot, t.until);
          }
        }
        if (!slot.dirty && !idle && !(await slot.consumer.settleIdle())) slot.dirty = true;
      }
    } catch (error) {
      this.rt.emit({ type: 'consumer-error', actor: this.def.name, id: slot.consumer.id, error });
      this.retryAt(slot, Date.now() + 100 + Math.random() * 200);
    } finally {
      this.release();
    }
  }

  private settle(slot: Slot<S>): void {
    slot.running = undefined;
    if (this.stopped) return;
    if (slot.dirty && slot.retryTimer === undefined) return this.kick(slot.consumer.id);
    if (slot.retryTimer === undefined) {
      slot.idleTimer = setTimeout(() => this.drop(slot.consumer.id), this.def.options.idleMs);
      slot.idleTimer.unref();
    }
  }

  /** Forgets an idle instance (its state is reloaded if it gets work again). */
  private drop(id: string): void {
    if (this.slots.delete(id)) this.rt.observer.instances(this.def.name, -1);
  }

  /** The instance needs a newer definition than this host's: report it and look again after a growing pause. */
  private leave(slot: Slot<S>, stored: number): void {
    slot.outdated++;
    this.rt.emit({ type: 'definition-outdated', actor: this.def.name, id: slot.consumer.id, version: this.def.version, stored, consumer: this.owner });
    this.retryAt(slot, outdatedRetryAt(slot.outdated));
  }

  /** Tries the instance again at `time` (a standby waiting for a lease, or after an error). */
  private retryAt(slot: Slot<S>, time: number): void {
    if (slot.retryTimer !== undefined) return;
    slot.retryTimer = setTimeout(() => {
      slot.retryTimer = undefined;
      this.kick(slot.consumer.id);
    }, Math.max(0, time - Date.now()) + 5);
    slot.retryTimer.unref();
  }

  private async acquire(): Promise<void> {
    if (this.active < (this.options.concurrency ?? 64)) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next !== undefined) next();
    else this.active--;
  }

  /** The consumer of `id` when it is served here and has nothing in flight (see inline.ts). */
  idleConsumer(id: string): InlineConsumer | undefined {
    if (this.stopped || !this.wants(id)) return undefined;
    const slot = this.slot(id);
    if (slot.running !== undefined || slot.retryTimer !== undefined) return undefined;
    if (slot.idleTimer === undefined) this.settle(slot); // schedules its drop from memory when idle
    const c = slot.consumer;
    return {
      async processInline(tx, messages) {
        const commit = await processInline(c, tx, messages);
        if (commit === undefined) return undefined;
        const run = () => {
          c.publish(commit);
          c.rt.observer.committed(c.def.name, c.id, commit.version.n, commit.outcomes, 'inline');
        };
        return { run, committed: () => c.committed(commit.version.batch, commit.version.n) };
      },
    };
  }

  /** The state held by this server's consumer of `id`, if it is active here. */
  cached(id: string) {
    return this.slots.get(id)?.consumer.cached;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.subscription.unsubscribe();
    const timekeeper = this.timekeeper.stop();
    for (const slot of this.slots.values()) {
      clearTimeout(slot.idleTimer);
      clearTimeout(slot.retryTimer);
      slot.consumer.stop();
    }
    this.rt.observer.instances(this.def.name, -this.slots.size); // no idle timer can drop one any more
    await Promise.allSettled([timekeeper, this.scanning, ...[...this.slots.values()].map((s) => s.running)]);
    if (this.rt.backend.closed) return;
    await Promise.allSettled([...this.slots.values()].map((s) => this.rt.backend.transact((tx) => releaseLease(tx, s.consumer.keys, this.owner))));
    this.slots.clear();
  }
}
