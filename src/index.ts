/**
 * dgen: durable, distributed reducer actors on a strictly serializable key-value store.
 * This file is the whole public API.
 */
export { defineActor, Locked, Reply } from './define/actor.js';
export type {
  ActionsOf,
  ActorConfig,
  ActorDefinition,
  ActorOptions,
  FailurePolicy,
  Recipe,
  Reducer,
  ReducerContext,
  PayloadArgs,
  ReducerResult,
  Reducers,
  ReplyOf,
  Senders,
  StateOf,
  Thunk,
  ThunkContext,
  Thunks,
} from './define/actor.js';
// Side effects: typed locks, thunk replies, compensation
export type { AnyLock, Compensation, LockArgs, LockBeforeThunks, RunOf, ThunkArgsOf, ThunkOutcome, ThunkReplyOf, ThunkSpec } from './define/actor.js';
// Evolution: versioned definitions, migrations, upcasting, mixed-version hosts
export type { Evolution, Migration, Migrations, Upcaster, Upcasts } from './define/evolution.js';
export { DefinitionOutdatedError, MigrationFailedError } from './evolution/errors.js';
export type { MigrateOptions, MigratePage } from './evolution/eager.js';
export { createSystem } from './client/system.js';
export type { System, SystemOptions } from './client/system.js';
export type { ActorRef, CallOptions, Callers, DispatchOptions, Dispatchers, RefOf, Repliers } from './client/ref.js';
export type { AdmissionOptions } from './runtime/admission.js';
export type { ServeOptions, Serving } from './serve/server.js';
export type { SystemEvent } from './runtime/events.js';
export type { ActorName, ActorSummary, Admin, DeadLetterEntry, LockInfo, QueuedEntry } from './ops/admin.js';
export { StaleLockError } from './serve/thunk.js';
// Time: delayed dispatch, timers set by reducers, their operators' view
export type { SelfSenders } from './define/actor.js';
export type { TimerSpec, Timing } from './define/timing.js';
export { InvalidTimerKeyError, InvalidTimingError } from './time/errors.js';
export { MAX_DELAY_MS } from './time/timing.js';
export type { TimerEntry, TimerName } from './ops/timers.js';
// Operating: the web inspector, and what the admin API reads for it
export type { ActorOverview, CommitEntry, StateNode } from './ops/inspection.js';
export { HistoryUnavailableError, UnknownDefinitionError } from './ops/inspection.js';
export type { NodeKind } from './state/node.js';
export { createInspectorHandler, TOKEN_HEADER } from './inspect/handler.js';
export type { InspectorHandler, InspectorHandlerOptions } from './inspect/handler.js';
export type { Inspector, InspectorOptions } from './inspect/server.js';
export type { MetricsEndpoint } from './inspect/metrics.js';
export { ConfirmationError, InspectorOptionsError, InspectorRequestError, NotFoundError, UnauthorizedError } from './inspect/errors.js';
export {
  ActorError,
  CallAbortedError,
  CallTimeoutError,
  DefinitionConflictError,
  DgenError,
  InvalidDefinitionError,
  InvalidIdError,
  InvalidOptionsError,
  MessageTooLargeError,
  OverloadedError,
  StoreUnavailableError,
  SystemClosedError,
  UnknownActionError,
  UnknownThunkError,
  isDgenError,
} from './errors.js';
// Observability: OpenTelemetry metrics and traces, the inspection stream
export type { InspectionEvent, InspectionEventType } from './observe/inspection.js';
export type { MeterProviderLike, TelemetryOptions, TracerProviderLike } from './observe/options.js';
export { CorruptMessageError } from './store/message.js';
export { CorruptDataError, UnserializableValueError } from './state/errors.js';
export * from './backend/errors.js';
export { LIMITS } from './backend/contract.js';
export type { Backend, BackendStats, Bytes, KeyValue, RangeOptions, ReadOptions, TransactOptions, Transaction, Watch } from './backend/contract.js';
export { memory } from './backend/memory.js';
export type { FaultControl, FaultKind, FaultPlan, MemoryBackend, MemoryOptions } from './backend/memory.js';
export { lmdb } from './backend/lmdb.js';
export type { LmdbBackend, LmdbOptions } from './backend/lmdb.js';
export { foundationdb, FoundationDBError, FoundationDBUnavailableError } from './backend/foundationdb.js';
export type { FoundationDBOptions } from './backend/foundationdb.js';
// Change feed and durable listeners (docs/changes.md)
export type { ChangeRetention, ChangesConfig } from './define/changes.js';
export type { Change, ChangeWithState } from './changes/change.js';
export type { ChangesOptions, ListenOptions, Listening } from './changes/api.js';
export type { ListenerTx } from './changes/listener-tx.js';
export type { ListenerFailurePolicy } from './changes/listener.js';
export type { ListenerEvent } from './runtime/events.js';
export { ChangesNotEnabledError, CursorExpiredError } from './changes/errors.js';
export type { ListenerDeadLetter, ListenerInfo } from './ops/listeners.js';
