/**
 * The timer host of one definition in one `serve()`: sleeps until the earliest pending timer is
 * due, fires what is due, and sleeps again. It is woken early by a watch on the definition's wake
 * key, which a transaction bumps when it sets a timer earlier than every pending one. It never
 * polls: a host with a million pending timers and none due holds one timer and one watch.
 *
 * Any number of hosts may run for one definition (one per `serve()`, on any machine): the firing
 * transaction decides, so each timer fires once; extra hosts only cost retried transactions.
 * @internal
 */
import type { Watch } from '../backend/contract.js';
import { CommitUnknownResultError } from '../backend/errors.js';
import { isDgenError } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { firstEntry, timerWakeKey } from '../store/timers.js';
import { FireBatchSize, fireDue, type Fired } from './fire.js';

/**
 * Whether hosts process the timers they fire inline when the instance's consumer is idle in the
 * same process (see fire.ts). Only the benchmark turns it off, to measure the queue's path beside it.
 * @internal
 */
export const firing = { inline: true };

export class Timekeeper {
  private stopped = false;
  private wake: (() => void) | undefined;
  private readonly batch = new FireBatchSize();
  private readonly running: Promise<void>;

  constructor(
    private readonly rt: Runtime,
    private readonly name: string,
    /** Called after each firing commit with the instances that got messages. */
    private readonly onFired: (ids: ReadonlyMap<string, number>) => void,
  ) {
    this.running = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.running;
  }

  private async loop(): Promise<void> {
    while (!this.stopped && !this.rt.backend.closed) {
      try {
        const { due, watch } = await this.rt.backend.transact(async (tx) => ({ due: (await firstEntry(tx, this.rt.layout, this.name))?.due, watch: tx.watch(timerWakeKey(this.rt.layout, this.name)) }));
        if (due !== undefined && due <= this.rt.clock.now()) {
          watch.cancel();
          await this.fireBacklog();
        } else await this.sleep(due, watch);
      } catch (error) {
        if (this.stopped || this.rt.backend.closed) return;
        this.rt.emit({ type: 'consumer-error', actor: this.name, id: '', error });
        await this.pause(100 + Math.random() * 200);
      }
    }
  }

  /** Fires batch after batch while timers are due, yielding between batches so queues keep draining. */
  private async fireBacklog(): Promise<void> {
    for (;;) {
      const fired = await this.fireOnce();
      if (fired.ids.size > 0) this.onFired(fired.ids);
      if (!fired.more || this.stopped) return;
      await this.pause(0);
    }
  }

  /**
   * One firing transaction, exactly once. Firing alone is idempotent (run it again after
   * `commit_unknown_result`); messages processed inline have after-commit work, so an ambiguous
   * commit is resolved first by one inlined instance's version and history, as a consumer's batch
   * is (the marker of a fired message would not do: another host may have moved it meanwhile).
   */
  private async fireOnce(): Promise<Fired> {
    const { backend, layout } = this.rt;
    const inline = firing.inline ? (id: string) => this.rt.inlineConsumer(this.name, id) : undefined;
    for (;;) {
      let attempt: Fired | undefined;
      let attempts = 0;
      try {
        const fired = await backend.transact(async (tx) => {
          attempt = undefined;
          if (attempts++ > 0) this.batch.shrink(); // too old or in conflict: a smaller batch is likelier to commit
          return (attempt = await fireDue(tx, layout, this.name, this.rt.clock.now(), inline, this.batch.size));
        });
        this.batch.committed();
        this.rt.observer.timersFired(this.name, fired.dues);
        for (const p of fired.processed) p.run();
        return fired;
      } catch (e) {
        if (this.batch.shrink(e)) continue;
        if (!(e instanceof CommitUnknownResultError) && !isDgenError(e, 'engine_failed')) throw e;
        const probe = attempt?.processed[0];
        if (probe === undefined || !(await probe.committed())) continue;
        this.rt.observer.timersFired(this.name, attempt!.dues);
        for (const p of attempt!.processed) p.run();
        return attempt!;
      }
    }
  }

  /** Until `due`, a bump of the wake key, or stop. */
  private async sleep(due: number | undefined, watch: Watch): Promise<void> {
    let timer: { cancel(): void } | undefined;
    try {
      await Promise.race([
        watch.promise.catch(() => undefined),
        new Promise<void>((resolve) => {
          this.wake = resolve;
          if (this.stopped) resolve();
          else if (due !== undefined) {
            const wait = this.rt.clock.waitUntil(due); // actor time: a test's virtual clock fires it as it advances
            timer = wait;
            void wait.promise.then(resolve);
          }
        }),
      ]);
    } finally {
      timer?.cancel();
      watch.cancel();
      this.wake = undefined;
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopped) return resolve();
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
