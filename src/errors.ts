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

/**
 * Is `e` a {@link DgenError}, optionally with the given code?
 *
 * @example
 * ```ts
 * await ref.dispatch.add(1).catch((e) => { if (!isDgenError(e, 'system_closed')) throw e; });
 * ```
 */
export function isDgenError(e: unknown, code?: string): e is DgenError {
  return e instanceof DgenError && (code === undefined || e.code === code);
}

/** A definition passed to {@link defineActor} is malformed (bad name, missing reducers, …). */
export class InvalidDefinitionError extends DgenError {
  constructor(message: string) {
    super('invalid_definition', message);
  }
}

/** Two different definitions with the same name were used in one system. */
export class DefinitionConflictError extends DgenError {
  constructor(name: string) {
    super('definition_conflict', `Another actor definition named '${name}' is already registered in this system; actor names must be unique.`);
  }
}

/** An actor id is not a non-empty string of at most 1,000 bytes. */
export class InvalidIdError extends DgenError {
  constructor(detail: string) {
    super('invalid_id', `Invalid actor id: ${detail}. Ids are non-empty strings of at most 1,000 UTF-8 bytes.`);
  }
}

/** `dispatch.x` / `call.x` for an action the definition does not have (reachable from untyped callers). */
export class UnknownActionError extends DgenError {
  constructor(actor: string, action: string) {
    super('unknown_action', `Actor '${actor}' has no reducer named '${action}'.`);
  }
}

/** A message (action + payload) is larger than the documented maximum. */
export class MessageTooLargeError extends DgenError {
  constructor(size: number, limit: number) {
    super('message_too_large', `Encoded message is ${size} bytes; the maximum is ${limit} bytes. Store large data elsewhere and send a reference.`);
  }
}

/**
 * A `call` got no reply within its timeout. The message **is stored** (the error is raised only
 * once its enqueue committed) and will be processed exactly once; `messageId` names it, and
 * `ref.reply.<action>(messageId)` awaits its reply later, from any process.
 *
 * @example
 * ```ts
 * try { return await counter.call.take(1, { timeout: 5_000 }); }
 * catch (e) { if (e instanceof CallTimeoutError) return counter.reply.take(e.messageId); throw e; } // never call again
 * ```
 */
export class CallTimeoutError extends DgenError {
  /** Always true: the message was durably enqueued before this error was raised. */
  readonly stored = true;
  /** The id of the stored message, for `ref.reply.<action>(messageId)`. */
  readonly messageId: string;
  constructor(actor: string, action: string, ms: number, messageId: string) {
    super('call_timeout', `call.${action} on '${actor}' got no reply within ${ms} ms; message ${messageId} is stored and will be processed exactly once: await ref.reply.${action}('${messageId}') for its reply (calling again enqueues it again, unless the call had an idempotencyKey).`);
    this.messageId = messageId;
  }
}

/**
 * The call was aborted through its AbortSignal. Like {@link CallTimeoutError} it is raised only
 * once the enqueue has settled, and says whether the message is stored.
 */
export class CallAbortedError extends DgenError {
  /** True when the message was durably enqueued (it will be processed exactly once). */
  readonly stored: boolean;
  /** The id of the message, for `ref.reply.<action>(messageId)` when stored. */
  readonly messageId: string;
  constructor(actor: string, action: string, messageId: string, stored = true) {
    super(
      'call_aborted',
      stored
        ? `call.${action} on '${actor}' was aborted; message ${messageId} is stored and will be processed exactly once (ref.reply.${action}('${messageId}') awaits its reply).`
        : `call.${action} on '${actor}' was aborted before its message was stored; nothing was enqueued.`,
    );
    this.stored = stored;
    this.messageId = messageId;
  }
}

/**
 * The process has more work in flight than its admission limit and this operation could not
 * start before its deadline (or its queue was full). **Nothing was stored**: the operation did not
 * begin, so trying again later is safe. Raise `admission.maxTransactions` or
 * `admission.queueTimeoutMs` in `createSystem`, or send less at once.
 *
 * @example
 * ```ts
 * try { await ref.dispatch.add(1); }
 * catch (e) { if (e instanceof OverloadedError) setTimeout(() => ref.dispatch.add(1), 1_000); } // safe: e.stored === false
 * ```
 */
export class OverloadedError extends DgenError {
  /** Always false: the operation never started, nothing was written. */
  readonly stored = false;
  constructor(what: string, detail: string) {
    super('overloaded', `${what} did not start: ${detail}. Nothing was stored; try again later, or raise createSystem({ admission }) limits.`, { retryable: true });
  }
}

/**
 * The store stayed unavailable (a FoundationDB recovery that did not end, a lost cluster) past the
 * operation's deadline, `createSystem({ storeDeadlineMs })` (default 60 s, well above a recovery):
 * every attempt timed out or failed with a retryable error. `stored` says what became of the
 * message: `false` (no attempt can have committed: send it again), or `'unknown'` (an attempt's
 * commit was in flight when the store went away: send it again only with the same
 * `idempotencyKey`, or look for `messageId`). A query or operator call stores nothing: `false`.
 *
 * @example
 * ```ts
 * try { await ref.dispatch.add(1, { idempotencyKey: 'order-7' }); }
 * catch (e) {
 *   if (e instanceof StoreUnavailableError && e.stored !== true) await ref.dispatch.add(1, { idempotencyKey: 'order-7' }); // deduplicated if it landed
 * }
 * ```
 */
export class StoreUnavailableError extends DgenError {
  /** Was the message stored? `false`: certainly not. `'unknown'`: maybe (once at most). */
  readonly stored: false | 'unknown';
  /** The message concerned, when the operation sent one. */
  readonly messageId?: string;
  /** The operation that gave up, and how long it tried. */
  readonly what: string;
  readonly waitedMs: number;
  constructor(what: string, waitedMs: number, stored: false | 'unknown', cause: unknown, messageId?: string) {
    const last = cause instanceof Error ? ` (last error: ${cause.message})` : '';
    const subject = messageId === undefined ? 'It' : `Message ${messageId}`;
    const outcome =
      stored === false
        ? `${subject} was not stored; it is safe to try again.`
        : `${subject} may have been stored (once at most): send it again only with the same idempotencyKey, or look for it, never blindly.`;
    super('store_unavailable', `${what} gave up after ${Math.round(waitedMs)} ms: the store stayed unavailable past its deadline (createSystem({ storeDeadlineMs }))${last}. ${outcome}`, { cause, retryable: true });
    this.stored = stored;
    this.what = what;
    this.waitedMs = waitedMs;
    if (messageId !== undefined) this.messageId = messageId;
  }
}

/**
 * The system (or a handle of it) was used after `close()`, or closed while a `call` waited for
 * its reply (the message stays queued and is processed by whichever consumer serves it).
 */
export class SystemClosedError extends DgenError {
  /** Set on a call that was still waiting when its system closed: its message is stored. */
  readonly stored?: true;
  /** The id of that call's stored message, for `ref.reply.<action>(messageId)` from a new system. */
  readonly messageId?: string;
  constructor(detail?: string, messageId?: string) {
    super('system_closed', detail ?? 'The dgen system is closed; create a new one with createSystem().');
    if (messageId !== undefined) {
      this.stored = true;
      this.messageId = messageId;
    }
  }
}

/**
 * A reducer threw while processing a message. Carried back to the caller of `call`, in any
 * process: `name`, `message` and `code` are those of the original error (code `reducer_failed`
 * when it had none).
 */
export class ActorError extends DgenError {
  /** The action whose reducer failed. */
  readonly action: string;
  constructor(info: { name: string; message: string; code?: string | undefined; action: string }) {
    super(info.code ?? 'reducer_failed', info.message);
    this.name = info.name;
    this.action = info.action;
  }
}

/** `ctx.lock` named a thunk the definition does not declare. */
export class UnknownThunkError extends DgenError {
  constructor(actor: string, thunk: string) {
    super('unknown_thunk', `Actor '${actor}' has no thunk named '${thunk}'; declare it in defineActor({ thunks }).`);
  }
}

/**
 * An options object passed to dgen has an unknown key or a bad value. `field` names it, so a
 * typo (`{ timout: 5000 }`) is never silently ignored.
 *
 * @example
 * ```ts
 * await counter.call.take(1, { timeout: Number(process.env.TIMEOUT) }).catch((e) => {
 *   if (e instanceof InvalidOptionsError) console.error(`fix option ${e.field}: ${e.message}`);
 * });
 * ```
 */
export class InvalidOptionsError extends DgenError {
  /** The option at fault, e.g. `timeout`. */
  readonly field: string;
  constructor(api: string, field: string, problem: string) {
    super('invalid_options', `${api}: option '${field}' ${problem}.`);
    this.field = field;
  }
}
