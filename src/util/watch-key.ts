import { Observable } from 'rxjs';
import type { Backend, Bytes, Watch } from '../backend/contract.js';

/**
 * Emits after each commit that changes `key` (changes close together may coalesce into one
 * emission). Completes when the backend closes; storage errors are retried after a pause.
 * @internal
 */
export function watchKey(backend: Backend, key: Bytes): Observable<void> {
  return new Observable<void>((subscriber) => {
    let watch: Watch | undefined;
    let stopped = false;
    const loop = async () => {
      while (!stopped && !backend.closed) {
        try {
          watch = await backend.transact((tx) => tx.watch(key));
          if (stopped) watch.cancel();
          if (await watch.promise) subscriber.next();
          else if (!stopped) await new Promise((r) => setTimeout(r, 10));
        } catch {
          if (backend.closed) break;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      subscriber.complete();
    };
    void loop();
    return () => {
      stopped = true;
      watch?.cancel();
    };
  });
}
