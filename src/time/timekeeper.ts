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
import type { Runtime } from '../runtime/runtime.js';
import { firstEntry, timerWakeKey } from '../store/timers.js';
import { fireDue } from './fire.js';

/** setTimeout's longest delay; a timer further away is looked at again after this. */
const MAX_SLEEP_MS = 2 ** 31 - 1;

export class Timekeeper {
  private stopped = false;
  private wake: (() => void) | undefined;
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
        if (due !== undefined && due <= Date.now()) {
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
      const fired = await this.rt.backend.transact((tx) => fireDue(tx, this.rt.layout, this.name, Date.now()), { idempotent: true });
      if (fired.ids.size > 0) this.onFired(fired.ids);
      if (!fired.more || this.stopped) return;
      await this.pause(0);
    }
  }

  /** Until `due`, a bump of the wake key, or stop. */
  private async sleep(due: number | undefined, watch: Watch): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        watch.promise.catch(() => undefined),
        new Promise<void>((resolve) => {
          this.wake = resolve;
          if (this.stopped) resolve();
          else if (due !== undefined) timer = setTimeout(resolve, Math.min(MAX_SLEEP_MS, due - Date.now()));
          timer?.unref();
        }),
      ]);
    } finally {
      clearTimeout(timer);
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
