/**
 * The read-then-watch loop behind every Observable that follows the store (`state$`, the change
 * feed): read what is new in one transaction, emit it, wait on the watch that read armed, again,
 * until the subscriber leaves or the system closes.
 * @internal
 */
import type { Subscriber } from 'rxjs';
import type { Watch } from '../backend/contract.js';
import type { Runtime } from './runtime.js';

/**
 * One turn of the loop: reads and emits, and returns the watch to wait on before the next turn
 * (undefined: turn again at once, there is more to read). `stopped` tells whether the subscriber
 * left meanwhile, so a long page stops emitting.
 */
export type WatchStep = (stopped: () => boolean) => Promise<Watch | undefined>;

/**
 * Runs `step` until the subscriber unsubscribes or the system closes, then completes. An error
 * after either is the close itself and completes too; an error while open reaches the subscriber,
 * as does any error `fatal` says the subscriber must see whatever happens (an expired cursor).
 */
export function watchLoop(rt: Runtime, subscriber: Pick<Subscriber<unknown>, 'complete' | 'error'>, step: WatchStep, fatal: (e: unknown) => boolean = () => false): () => void {
  let watch: Watch | undefined;
  let stopped = false;
  const isStopped = () => stopped;
  const stop = () => {
    stopped = true;
    watch?.cancel();
  };
  const loop = async () => {
    while (!stopped && !rt.backend.closed) {
      watch = await step(isStopped);
      if (stopped) watch?.cancel();
      if (watch !== undefined) await watch.promise;
    }
  };
  rt.shutdown.signal.addEventListener('abort', stop);
  loop().then(
    () => subscriber.complete(),
    // A store in recovery is waited out while the system is open (runtime/admission.ts).
    (e) => (fatal(e) || !(stopped || rt.closed) ? subscriber.error(e) : subscriber.complete()),
  );
  return () => {
    stop();
    rt.shutdown.signal.removeEventListener('abort', stop);
  };
}
