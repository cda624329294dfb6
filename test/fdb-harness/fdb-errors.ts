/**
 * The FoundationDB client's error codes as the simulated native client reports them: the texts of
 * `fdb_get_error`, the `fdb_error_predicate` tests, and the code for each storage-contract error
 * the simulated store (memory()) throws. Test-only: part of the native client simulation.
 */
import { isDgenError } from '../../src/errors.js';

/** FoundationDB error codes the simulation produces. */
export const Code = Object.freeze({
  transactionTooOld: 1007,
  futureVersion: 1009,
  notCommitted: 1020,
  commitUnknownResult: 1021,
  transactionCancelled: 1025,
  timedOut: 1031,
  tooManyWatches: 1032,
  accessedUnreadable: 1036,
  processBehind: 1037,
  databaseLocked: 1038,
  clusterVersionChanged: 1039,
  operationCancelled: 1101,
  clientInvalidOperation: 2000,
  invertedRange: 2005,
  networkNotSetup: 2008,
  networkAlreadySetup: 2009,
  usedDuringCommit: 2017,
  noCommitVersion: 2021,
  transactionTooLarge: 2101,
  keyTooLarge: 2102,
  valueTooLarge: 2103,
  apiVersionUnset: 2200,
  apiVersionAlreadySet: 2201,
  apiVersionNotSupported: 2203,
  internalError: 4100,
});

const DESCRIPTIONS: Readonly<Record<number, string>> = {
  1007: 'Transaction is too old to perform reads or be committed',
  1009: 'Request for future version',
  1020: 'Transaction not committed due to conflict with another transaction',
  1021: 'Transaction may or may not have committed',
  1025: 'Operation aborted because the transaction was cancelled',
  1031: 'Operation aborted because the transaction timed out',
  1032: 'Too many watches currently set',
  1036: 'Read or wrote an unreadable key',
  1037: 'Storage process does not have recent mutations',
  1038: 'Database is locked',
  1039: 'The protocol version of the cluster has changed',
  1101: 'Asynchronous operation cancelled',
  2000: 'Invalid API call',
  2005: 'Range begin key larger than end key',
  2008: 'Action not possible before the network is configured',
  2009: 'Network can be configured only once',
  2017: 'Operation issued while a commit was outstanding',
  2021: 'Transaction is read-only and therefore does not have a commit version',
  2101: 'Transaction exceeds byte limit',
  2102: 'Key length exceeds limit',
  2103: 'Value length exceeds limit',
  2200: 'API version is not set',
  2201: 'API version may be set only once',
  2203: 'API version not supported',
  4100: 'An internal error occurred',
};

/** `fdb_get_error`. */
export function describe(code: number): string {
  return DESCRIPTIONS[code] ?? 'Unknown error';
}

/** `FDBErrorPredicate` values, as node-foundationdb's `ErrorPredicate`. */
export const Predicate = Object.freeze({ Retryable: 50000, MaybeCommitted: 50001, RetryableNotCommitted: 50002 });

const MAYBE_COMMITTED = new Set<number>([Code.commitUnknownResult, Code.clusterVersionChanged]);
// fdb_c's RETRYABLE_NOT_COMMITTED list, restricted to the codes that exist in 7.1 and later.
const RETRYABLE_NOT_COMMITTED = new Set<number>([
  Code.notCommitted,
  Code.transactionTooOld,
  Code.futureVersion,
  Code.databaseLocked,
  Code.processBehind,
  1042, // commit_proxy_memory_limit_exceeded
  1051, // batch_transaction_throttled
  1078, // grv_proxy_memory_limit_exceeded
  1213, // tag_throttled
]);

/** `fdb_error_predicate`. */
export function errorPredicate(test: number, code: number): boolean {
  switch (test) {
    case Predicate.MaybeCommitted:
      return MAYBE_COMMITTED.has(code);
    case Predicate.RetryableNotCommitted:
      return RETRYABLE_NOT_COMMITTED.has(code);
    case Predicate.Retryable:
      return MAYBE_COMMITTED.has(code) || RETRYABLE_NOT_COMMITTED.has(code);
    default:
      return false;
  }
}

/**
 * The FoundationDB code for an error of the simulated store. The store is one of dgen's engines,
 * so its errors carry the storage contract's codes, which follow FoundationDB's names.
 */
export function codeOfStoreError(error: unknown): number {
  if (error instanceof NativeFailure) return error.fdbCode;
  if (!isDgenError(error)) return Code.internalError;
  switch (error.code) {
    case 'not_committed':
      return Code.notCommitted;
    case 'commit_unknown_result':
      return Code.commitUnknownResult;
    case 'transaction_too_old':
      return Code.transactionTooOld;
    case 'timed_out':
      return Code.timedOut;
    case 'transaction_too_large':
      return Code.transactionTooLarge;
    case 'key_too_large':
      return Code.keyTooLarge;
    case 'value_too_large':
      return Code.valueTooLarge;
    case 'used_after_commit':
      return Code.usedDuringCommit;
    case 'accessed_unreadable':
      return Code.accessedUnreadable;
    case 'closed':
      return Code.operationCancelled;
    case 'commit_failed':
      return Code.processBehind; // a transient failure before commit: some retryable, not-committed code
    case 'invalid_operation':
      return Code.clientInvalidOperation;
    default:
      return Code.internalError;
  }
}

/** A failure of the simulated client carrying its FoundationDB code, turned into an FDBError at the boundary. */
export class NativeFailure extends Error {
  constructor(readonly fdbCode: number) {
    super(describe(fdbCode));
  }
}
