/**
 * Errors of the state encoding: a value dgen cannot store, and stored bytes it cannot read.
 * @internal
 */
import { DgenError } from '../errors.js';

/**
 * A value cannot be stored: a function, a symbol, a class instance the codec does not know, a
 * cycle, a WeakMap, a Promise, a key over the store's key limit… Thrown before anything is
 * written, so the transaction is left untouched.
 *
 * `path` names the offending value from the root, e.g. `state.items[3].fn` or
 * `payload.tags.get("x")`; `reason` says what is wrong with it.
 *
 * @example
 * ```ts
 * try { encodeValue({ at: new URL('https://x') }, 'payload'); }
 * catch (e) { if (e instanceof UnserializableValueError) console.log(e.path); } // payload.at
 * ```
 */
export class UnserializableValueError extends DgenError {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super('unserializable_value', `Cannot store ${path}: ${reason}`);
  }
}

/**
 * Stored bytes that do not decode: an unknown tag, a truncated value, or state keys that do not
 * form a tree (a stray chunk, an order key without its element). Points at a bug or at keys
 * written by something else than dgen.
 */
export class CorruptDataError extends DgenError {
  constructor(message: string) {
    super('corrupt_data', message);
  }
}
