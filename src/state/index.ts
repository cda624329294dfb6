/**
 * The state encoding: the value codec, validation, and the state tree in keys.
 * @internal
 */
export { encodeValue, decodeValue, validateValue } from './codec.js';
export { UnserializableValueError, CorruptDataError } from './errors.js';
export { StateStore, type WriteStats } from './store.js';
