/**
 * Watches shared by the memory and LMDB engines: a handle created inside a transaction, armed
 * with a baseline value when the transaction commits, and settled `true` when the key's value
 * differs from that baseline, `false` when cancelled, rolled back or closed.
 * @internal
 */
import type { Watch } from './contract.js';
import type { KeyString } from './bytes.js';

/** @internal */
export class WatchHandle implements Watch {
  readonly promise: Promise<boolean>;
  private resolve!: (fired: boolean) => void;
  private registry: WatchRegistry | undefined;
  settled = false;
  /** The value the key had for the watching transaction; set when armed. */
  baseline: Buffer | undefined;

  constructor(readonly key: KeyString) {
    this.promise = new Promise((resolve) => (this.resolve = resolve));
  }

  cancel(): void {
    this.settle(false);
  }

  settle(fired: boolean): void {
    if (this.settled) return;
    this.settled = true;
    this.registry?.remove(this);
    this.registry = undefined;
    this.resolve(fired);
  }

  /** @internal */
  attach(registry: WatchRegistry, baseline: Buffer | undefined): void {
    this.registry = registry;
    this.baseline = baseline;
  }
}

function sameValue(a: Buffer | undefined, b: Buffer | undefined): boolean {
  return a === undefined ? b === undefined : b !== undefined && a.equals(b);
}

/** Armed watches of one engine, by key. @internal */
export class WatchRegistry {
  private readonly byKey = new Map<KeyString, Set<WatchHandle>>();

  /** `onEmpty`: called when the last armed watch settles (an engine may stop listening). */
  constructor(private readonly onEmpty?: () => void) {}

  /** Number of watched keys (0 means every check can be skipped). */
  get size(): number {
    return this.byKey.size;
  }

  keys(): IterableIterator<KeyString> {
    return this.byKey.keys();
  }

  has(key: KeyString): boolean {
    return this.byKey.has(key);
  }

  /** Arms `watch` with the value its transaction saw, then fires it at once if `current` differs. */
  arm(watch: WatchHandle, baseline: Buffer | undefined, current: Buffer | undefined): void {
    if (watch.settled) return;
    if (!sameValue(baseline, current)) {
      watch.settle(true);
      return;
    }
    watch.attach(this, baseline);
    let set = this.byKey.get(watch.key);
    if (set === undefined) this.byKey.set(watch.key, (set = new Set()));
    set.add(watch);
  }

  /** The key now holds `current`: fires every watch of it whose baseline differs. */
  check(key: KeyString, current: Buffer | undefined): void {
    const set = this.byKey.get(key);
    if (set === undefined) return;
    for (const w of [...set]) if (!sameValue(w.baseline, current)) w.settle(true);
  }

  remove(watch: WatchHandle): void {
    const set = this.byKey.get(watch.key);
    if (set === undefined) return;
    set.delete(watch);
    if (set.size === 0) this.byKey.delete(watch.key);
    if (this.byKey.size === 0) this.onEmpty?.();
  }

  /** Settles every watch `false` (engine closing). */
  closeAll(): void {
    for (const set of [...this.byKey.values()]) for (const w of [...set]) w.settle(false);
    this.byKey.clear();
  }
}
