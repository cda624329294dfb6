/**
 * Errors of the inspector: what its HTTP API answers to a bad request, and what its options
 * refuse. Each has a stable code; the HTTP status of every dgen error is in {@link statusOf}.
 */
import { DgenError } from '../errors.js';

/** A request to the inspector's HTTP API is malformed: a bad parameter, body or path. */
export class InspectorRequestError extends DgenError {
  constructor(message: string) {
    super('invalid_request', message);
  }
}

/** A request without the inspector's token (or with a wrong one). */
export class UnauthorizedError extends DgenError {
  constructor(message: string) {
    super('unauthorized', message);
  }
}

/** A request names an actor, instance, route or state node that is not there. */
export class NotFoundError extends DgenError {
  constructor(message: string) {
    super('not_found', message);
  }
}

/** A destroy whose typed confirmation is not the instance's id. */
export class ConfirmationError extends DgenError {
  constructor(id: string) {
    super('confirmation_mismatch', `Destroying deletes everything of instance '${id}' for good: type its id exactly to confirm.`);
  }
}

/** Inspector options that would expose the store: a non-loopback host without a chosen token, a weak token, a bad port. */
export class InspectorOptionsError extends DgenError {
  constructor(code: 'insecure_host' | 'invalid_token' | 'invalid_port', message: string) {
    super(code, message);
  }
}

const STATUS: Record<string, number> = {
  unauthorized: 401,
  forbidden_host: 403,
  not_found: 404,
  unknown_actor: 404,
  unknown_instance: 404,
  method_not_allowed: 405,
  history_unavailable: 409,
  unknown_definition: 409,
  payload_too_large: 413,
  system_closed: 503,
  overloaded: 503,
};

/** The HTTP status of an error: 4xx for what the request got wrong, 5xx for the rest. */
export function statusOf(e: unknown): number {
  if (!(e instanceof DgenError)) return 500;
  return STATUS[e.code] ?? (e.code.startsWith('invalid_') || e.code === 'unknown_action' || e.code === 'confirmation_mismatch' || e.code === 'unserializable_value' || e.code === 'message_too_large' ? 400 : 500);
}
