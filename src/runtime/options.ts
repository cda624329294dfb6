/**
 * Options objects checked at the boundary: an object (or nothing), no unknown key, each value of
 * the right kind. A key whose value is `undefined` counts as absent, as TypeScript's optional
 * properties allow.
 * @internal
 */
import { InvalidOptionsError } from '../errors.js';

/** Says what is wrong with a value (completing "option 'x' …"), or nothing when it is fine. */
export type OptionCheck = (value: unknown) => string | undefined;

export function checkOptions(api: string, options: unknown, fields: Readonly<Record<string, OptionCheck>>): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new InvalidOptionsError(api, '(options)', `must be an object, got ${describe(options)}`);
  for (const [key, value] of Object.entries(options)) {
    const check = fields[key];
    if (check === undefined) throw new InvalidOptionsError(api, key, `is unknown; the options are ${Object.keys(fields).join(', ')}`);
    const problem = value === undefined ? undefined : check(value);
    if (problem !== undefined) throw new InvalidOptionsError(api, key, `${problem}, got ${describe(value)}`);
  }
}

/** Longest delay a Node timer accepts. */
export const MAX_TIMER_MS = 2_147_483_647;

export const positiveMs: OptionCheck = (v) => (typeof v === 'number' && v > 0 && v <= MAX_TIMER_MS ? undefined : `must be a positive number of milliseconds, at most ${MAX_TIMER_MS}`);
export const positiveInteger: OptionCheck = (v) => (Number.isInteger(v) && (v as number) > 0 ? undefined : 'must be a positive integer');
export const nonEmptyString: OptionCheck = (v) => (typeof v === 'string' && v.length > 0 ? undefined : 'must be a non-empty string');
export const boolean: OptionCheck = (v) => (typeof v === 'boolean' ? undefined : 'must be true or false');
export const anything: OptionCheck = () => undefined;

function describe(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}
