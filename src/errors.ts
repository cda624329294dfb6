/**
 * Every error dgen throws is a {@link DgenError} with a stable, machine-readable `code`.
 *
 * Codes never change between releases; messages may be improved. Match on `code` (or on the
 * subclass), never on the message.
 *
 * @example
 * ```ts
 * try { await counter.call.take(5, { timeout: 1000 }); }
 * catch (e) { if (e instanceof DgenError && e.code === 'call_timeout') retryLater(); }
 * ```
 */
export class DgenError extends Error {
  /** Stable identifier of the failure, e.g. `not_committed` or `invalid_state`. */
  readonly code: string;
  /** True when the same operation may succeed if simply tried again. */
  readonly retryable: boolean;

  constructor(code: string, message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options?.retryable ?? false;
  }
}

/** Is `e` a {@link DgenError}, optionally with the given code? */
export function isDgenError(e: unknown, code?: string): e is DgenError {
  return e instanceof DgenError && (code === undefined || e.code === code);
}
