import { describe, expect, it } from 'vitest';
import { DgenError, isDgenError } from '../src/errors.js';
import { NotCommittedError, KeyTooLargeError } from '../src/backend/errors.js';

describe('DgenError', () => {
  it('carries a stable code, a name and the retryable flag', () => {
    const e = new NotCommittedError();
    expect(e).toBeInstanceOf(DgenError);
    expect(e.code).toBe('not_committed');
    expect(e.name).toBe('NotCommittedError');
    expect(e.retryable).toBe(true);
    expect(isDgenError(e, 'not_committed')).toBe(true);
    expect(isDgenError(new KeyTooLargeError(10_001, 10_000), 'not_committed')).toBe(false);
    expect(new KeyTooLargeError(10_001, 10_000).message).toContain('10001');
  });
});
