/**
 * Messages of older producers, as this definition's reducers expect them: a renamed action is
 * mapped to its new name, then the payload goes through the action's upcasters from the
 * producer's version up to this definition's.
 * @internal
 */
import type { ActorDefinition } from '../define/actor.js';
import type { Envelope } from '../store/message.js';
import { versionOf } from './migrate-state.js';

/** Was `message` sent by a producer with a newer definition than `def`? Then `def` leaves it to newer hosts. */
export function isFromNewer(def: { readonly version?: number }, message: Envelope): boolean {
  return (message.version ?? 1) > versionOf(def);
}

/** `message` renamed and upcast for `def` (the same object when nothing applies). Throws what an upcaster throws. */
export function upcastMessage<S>(def: ActorDefinition<S>, message: Envelope): Envelope {
  if (def.evolution === undefined) return message; // a definition object not made by defineActor
  const { renamed, upcast } = def.evolution;
  const action = Object.hasOwn(renamed, message.action) && !Object.hasOwn(def.reducers, message.action) ? renamed[message.action]! : message.action;
  const from = message.version ?? 1;
  const steps = Object.hasOwn(upcast, action) ? upcast[action]! : undefined;
  let payload = message.payload;
  if (steps !== undefined) for (let v = from; v < versionOf(def); v++) if (Object.hasOwn(steps, v)) payload = steps[v]!(payload);
  return action === message.action && payload === message.payload ? message : { ...message, action, payload };
}
