/**
 * What a test system still has to do: the reads behind `settle()` and `advance()`. An instance is
 * busy while its queue holds a message (and it is not halted) or a thunk holds its lock; a
 * definition is busy while one of its timers is due and not fired.
 * @internal
 */
import type { Backend } from '../backend/contract.js';
import type { Layout } from '../store/keys.js';
import { firstEntry } from '../store/timers.js';

/** What is pending for the served definitions `names` at actor time `now`, one line each (empty: nothing). */
export async function pendingWork(backend: Backend, layout: Layout, names: Iterable<string>, now: number): Promise<string[]> {
  const list = [...names];
  return backend.transact(async (tx) => {
    const out: string[] = [];
    for (const name of list) {
      const due = await firstEntry(tx, layout, name);
      if (due !== undefined && due.due <= now) out.push(`${name}: a timer due at ${new Date(due.due).toISOString()} has not fired`);
      const work = layout.work(name);
      const { begin, end } = work.range();
      for (const kv of await tx.getRange(begin, end, { snapshot: true })) {
        const id = String(work.unpack(kv.key)[0]);
        const keys = layout.actor(name, id);
        const lock = await tx.getRange(keys.lock.prefix, keys.lock.range().end, { limit: 1, snapshot: true });
        if (lock.length > 0) {
          out.push(`${name}/${id}: a thunk holds its lock`);
          continue;
        }
        const q = keys.queue.range();
        const queued = await tx.getRange(q.begin, q.end, { limit: 1, snapshot: true });
        if (queued.length > 0 && (await tx.get(keys.halt, { snapshot: true })) === undefined) out.push(`${name}/${id}: messages queued`);
      }
    }
    return out;
  });
}

/** The earliest due time of a pending timer of the definitions `names`, if any. */
export async function nextDue(backend: Backend, layout: Layout, names: Iterable<string>): Promise<number | undefined> {
  const list = [...names];
  return backend.transact(async (tx) => {
    let min: number | undefined;
    for (const name of list) {
      const entry = await firstEntry(tx, layout, name);
      if (entry !== undefined && (min === undefined || entry.due < min)) min = entry.due;
    }
    return min;
  });
}
