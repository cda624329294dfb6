/**
 * The inspector's access token and the checks around it (see docs/operating.md): a random token
 * unless one is chosen, compared in constant time; loopback hosts recognised so that a wider bind
 * can require a chosen token.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { InspectorOptionsError } from './errors.js';

/** A new random token: 32 bytes, URL-safe base64. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Does `given` equal `token`? Constant time in the token's length. */
export function tokenMatches(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Is `host` a loopback address or name? */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(?:\.\d{1,3}){3}$/.test(h);
}

/** A chosen token: at least 16 characters a URL can carry as they are. */
export function checkToken(token: unknown): string {
  if (typeof token !== 'string' || !/^[A-Za-z0-9._~-]{16,512}$/.test(token)) {
    throw new InspectorOptionsError('invalid_token', 'The inspector token must be 16 to 512 characters of A-Z, a-z, 0-9, ".", "_", "~", "-" (unguessable: use a long random one).');
  }
  return token;
}

/** The token to use: the chosen one, or a random one on loopback; a wider bind needs a chosen one. */
export function tokenFor(host: string, token: string | undefined): string {
  if (token !== undefined) return checkToken(token);
  if (!isLoopback(host)) {
    throw new InspectorOptionsError('insecure_host', `The inspector would listen on '${host}', reachable from other machines: choose its token explicitly (--token or --token-file, or the token option) so that it is not printed in a log.`);
  }
  return newToken();
}
