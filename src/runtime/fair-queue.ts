/**
 * A queue that is fair at two levels: turns go round-robin across groups (verbs: send, query,
 * serve, …), and within a group round-robin across keys (actor instances), FIFO within a key. A
 * burst of 50,000 dispatches to one actor therefore never starves a query of another, nor the
 * consumers that drain the queues. Every operation is O(1) but {@link removeWhere}.
 * @internal
 */
export class FairQueue<T> {
  /** group → key → FIFO. Maps keep insertion order: re-inserting an entry moves it to the back of the ring. */
  private readonly groups = new Map<string, Map<string, T[]>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  push(group: string, key: string, item: T): void {
    let keys = this.groups.get(group);
    if (keys === undefined) this.groups.set(group, (keys = new Map()));
    const fifo = keys.get(key);
    if (fifo === undefined) keys.set(key, [item]);
    else fifo.push(item);
    this.count++;
  }

  /** The next item: the head of the first key of the first group; both then move to the back. */
  shift(): T | undefined {
    const first = this.groups.entries().next();
    if (first.done === true) return undefined;
    const [group, keys] = first.value;
    const [key, fifo] = keys.entries().next().value as [string, T[]];
    const item = fifo.shift() as T;
    this.count--;
    keys.delete(key);
    if (fifo.length > 0) keys.set(key, fifo);
    this.groups.delete(group);
    if (keys.size > 0) this.groups.set(group, keys);
    return item;
  }

  /** Removes and returns every item matching `test` (expired operations). */
  removeWhere(test: (item: T) => boolean): T[] {
    const out: T[] = [];
    for (const [group, keys] of this.groups) {
      for (const [key, fifo] of keys) {
        const kept = fifo.filter((item) => !test(item) || (out.push(item), false));
        if (kept.length === fifo.length) continue;
        this.count -= fifo.length - kept.length;
        if (kept.length > 0) keys.set(key, kept);
        else keys.delete(key);
      }
      if (keys.size === 0) this.groups.delete(group);
    }
    return out;
  }
}
