/**
 * Where the change feed and the listeners live, beside the rest of the layout (store/keys.ts):
 *
 * ```
 * (prefix, 'f', name, 'e', stamp)   one entry per committed batch of any instance of `name`, in commit order
 * (prefix, 'f', name, 'n')          entries ever written (atomic add): the key readers watch, and the count retention uses
 * (prefix, 'f', name, 'p')          low-water mark: the newest pruned stamp and how many entries were pruned
 * (prefix, 'L', listener, 'c')      a listener's checkpoint: the cursor it has handled, and a halt
 * (prefix, 'L', listener, 'e')      a listener's lease
 * (prefix, 'L', listener, 'd', stamp)  changes a listener gave up on (option `onFailure: 'dead-letter'`)
 * ```
 * @internal
 */
import type { Subspace } from '../backend/subspace.js';
import type { Layout } from '../store/keys.js';

/** The feed of one definition. */
export interface FeedKeys {
  readonly entries: Subspace;
  readonly count: Buffer;
  readonly lowWater: Buffer;
}

export function feedKeys(layout: Layout, name: string): FeedKeys {
  const f = layout.root.at('f', name);
  return { entries: f.at('e'), count: f.pack(['n']), lowWater: f.pack(['p']) };
}

/** The records of one durable listener. */
export interface ListenerKeys {
  readonly checkpoint: Buffer;
  readonly lease: Buffer;
  readonly deadLetters: Subspace;
}

export function listenerKeys(layout: Layout, name: string): ListenerKeys {
  const l = layout.root.at('L', name);
  return { checkpoint: l.pack(['c']), lease: l.pack(['e']), deadLetters: l.at('d') };
}

/** Every listener's records. */
export function listenersRoot(layout: Layout): Subspace {
  return layout.root.at('L');
}
