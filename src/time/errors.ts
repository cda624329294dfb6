import { DgenError } from '../errors.js';

/**
 * A `{ delay }` or `{ at }` that cannot be scheduled: negative, not a finite number, beyond
 * {@link MAX_DELAY_MS}, both or neither given, or a delay on a `call`. Code `invalid_options`.
 *
 * @example
 * ```ts
 * await ref.dispatch.expire(undefined, { delay: -1 }).catch((e) => e.code); // 'invalid_options'
 * ```
 */
export class InvalidTimingError extends DgenError {
  constructor(where: string, detail: string) {
    super('invalid_options', `${where}: ${detail}.`);
  }
}

/**
 * A timer key that is not a non-empty string of at most 1,000 UTF-8 bytes. Code `invalid_timer_key`.
 *
 * @example
 * ```ts
 * ctx.schedule({ delay: 1_000, key: '' }); // throws InvalidTimerKeyError: the message fails
 * ```
 */
export class InvalidTimerKeyError extends DgenError {
  constructor(where: string, detail: string) {
    super('invalid_timer_key', `${where}: invalid timer key: ${detail}. Timer keys are non-empty strings of at most 1,000 UTF-8 bytes.`);
  }
}
