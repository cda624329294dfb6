/**
 * Every instrument dgen records, in one table: name, kind, unit and attributes. The telemetry
 * creates them from this table and docs/observability.md lists them (a test keeps the two in step).
 * @internal
 */
import type { Counter, Histogram, Meter, ObservableCounter, UpDownCounter } from '@opentelemetry/api';

type Kind = 'counter' | 'histogram' | 'updown' | 'observable';

interface Spec {
  readonly name: string;
  readonly kind: Kind;
  readonly unit: string;
  readonly description: string;
  /** Attributes besides `dgen.actor` (and `dgen.actor.id` when asked for), for the docs. */
  readonly attributes: readonly string[];
}

const spec = <K extends Kind>(name: string, kind: K, unit: string, description: string, attributes: readonly string[] = []) => ({ name, kind, unit, description, attributes }) as const;

/** Per definition: every one carries `dgen.actor`. */
export const ACTOR_INSTRUMENTS = {
  enqueued: spec('dgen.messages.enqueued', 'counter', '{message}', 'Messages durably accepted for an actor: queued, or processed inline in the transaction that sent them.', ['dgen.path']),
  processed: spec('dgen.messages.processed', 'counter', '{message}', 'Messages whose reducer ran without throwing, in a batch (or inline commit) that committed.', ['dgen.path']),
  failed: spec('dgen.messages.failed', 'counter', '{message}', 'Messages that failed for good (reducer threw, or thunk gave up), once the failure was committed.', ['dgen.policy']),
  deadLettered: spec('dgen.messages.dead_lettered', 'counter', '{message}', 'Failed messages moved to the dead letters.'),
  wait: spec('dgen.message.wait', 'histogram', 's', 'Time from the enqueue of a message to the commit that processed it (sender clock to consumer clock).', ['dgen.path']),
  batchDuration: spec('dgen.batch.duration', 'histogram', 's', 'One consumer batch: first attempt started to commit acknowledged.'),
  batchSize: spec('dgen.batch.size', 'histogram', '{message}', 'Messages a committed batch took.'),
  batchRetries: spec('dgen.batch.retries', 'counter', '{attempt}', 'Batch attempts run again after a conflict (another consumer, a concurrent enqueue while clearing the work flag) or a retryable error.'),
  inline: spec('dgen.inline.hits', 'counter', '{commit}', 'Sends (or fired timers) processed inline, in the transaction that would have enqueued them.'),
  thunkRuns: spec('dgen.thunk.runs', 'counter', '{run}', 'Thunk runs started.', ['dgen.thunk']),
  thunkFailures: spec('dgen.thunk.failures', 'counter', '{run}', 'Thunk runs that threw, or were abandoned (lease lost, consumer stopped); a failed run is tried again up to thunkAttempts.', ['dgen.thunk']),
  thunkDuration: spec('dgen.thunk.duration', 'histogram', 's', 'Duration of one thunk run.', ['dgen.thunk', 'dgen.outcome']),
  leaseTakeovers: spec('dgen.lease.takeovers', 'counter', '{takeover}', "Leases this process's consumers took from another consumer (expired or released)."),
  timersFired: spec('dgen.timers.fired', 'counter', '{timer}', 'Timers moved into their queue (or processed inline) by this process.'),
  timerLateness: spec('dgen.timer.lateness', 'histogram', 's', 'Commit time of a firing minus the due time of each timer it fired.'),
  instances: spec('dgen.instances.active', 'updown', '{instance}', 'Actor instances held in memory by the consumers of this process.'),
  loadDuration: spec('dgen.state.load.duration', 'histogram', 's', 'Reading a whole state from the store (a cold instance, or one another writer changed).'),
  loadBytes: spec('dgen.state.load.size', 'histogram', 'By', 'Bytes (keys and values) read to load a whole state.'),
} as const;

/** Per system, without actor attributes. */
export const SYSTEM_INSTRUMENTS = {
  unknownResult: spec('dgen.transaction.commit_unknown_result', 'counter', '{transaction}', 'Transactions whose commit outcome was unknown (the caller then settles it).'),
  retries: spec('dgen.transaction.retries', 'counter', '{retry}', 'Transactions tried again after a transient store failure (a FoundationDB recovery, a timeout).', ['dgen.cause']),
  commitDuration: spec('dgen.store.commit.duration', 'histogram', 's', 'From the end of a transaction body to its commit acknowledged (last attempt).', []),
  transactionDuration: spec('dgen.store.transaction.duration', 'histogram', 's', 'One transaction from admission to its outcome, engine retries included.', ['dgen.outcome']),
} as const;

/** Read from the engine's counters (`backend.stats()`) at each collection. */
export const ENGINE_INSTRUMENTS = {
  commits: spec('dgen.store.commits', 'observable', '{commit}', 'Transactions the engine committed since it was opened.', ['dgen.store']),
  conflicts: spec('dgen.store.conflicts', 'observable', '{conflict}', 'Transaction attempts that failed with a conflict (not_committed).', ['dgen.store']),
  engineRetries: spec('dgen.store.retries', 'observable', '{retry}', "Attempts the engine's retry loop ran again (conflicts and retryable errors).", ['dgen.store']),
  bytesWritten: spec('dgen.store.bytes_written', 'observable', 'By', 'Bytes of keys and values written by committed transactions.', ['dgen.store']),
  keysWritten: spec('dgen.store.keys_written', 'observable', '{key}', 'Keys written by committed transactions.', ['dgen.store']),
} as const;

/** Histogram buckets by unit: the SDK's defaults suit milliseconds, not seconds nor bytes. */
const BUCKETS: Readonly<Record<string, number[]>> = {
  s: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  '{message}': [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
  By: [256, 1024, 4096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304, 16_777_216],
};

type Made<T> = { -readonly [K in keyof T]: T[K] extends { kind: 'counter' } ? Counter : T[K] extends { kind: 'histogram' } ? Histogram : T[K] extends { kind: 'updown' } ? UpDownCounter : ObservableCounter };

/** Creates the instruments of `table` on `meter`. */
export function makeInstruments<T extends Record<string, Spec>>(meter: Meter, table: T): Made<T> {
  const out: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(table)) {
    const buckets = BUCKETS[s.unit];
    const options = { unit: s.unit, description: s.description, ...(s.kind === 'histogram' && buckets !== undefined ? { advice: { explicitBucketBoundaries: buckets } } : {}) };
    out[key] =
      s.kind === 'counter'
        ? meter.createCounter(s.name, options)
        : s.kind === 'histogram'
          ? meter.createHistogram(s.name, options)
          : s.kind === 'updown'
            ? meter.createUpDownCounter(s.name, options)
            : meter.createObservableCounter(s.name, options);
  }
  return out as Made<T>;
}
