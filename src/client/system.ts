import type { Observable } from 'rxjs';
import type { ActorDefinition, Reducers, Thunks } from '../define/actor.js';
import { createAdmin, type Admin } from '../ops/admin.js';
import type { Backend } from '../backend/contract.js';
import { lmdb } from '../backend/lmdb.js';
import { DgenError, SystemClosedError } from '../errors.js';
import { closeOnSignals } from './signals.js';
import type { SystemEvent } from '../runtime/events.js';
import type { AdmissionOptions } from '../runtime/admission.js';
import { createRef, type ActorRef } from './ref.js';
import { Runtime, checkId } from '../runtime/runtime.js';
import { CLOCK, type ClockOption } from '../runtime/clock.js';
import { anything, boolean, checkOptions, nonEmptyString, positiveInteger, positiveMs, type OptionCheck } from '../runtime/options.js';
import { Server, type ServeOptions, type Serving } from '../serve/server.js';
import type { Inspector, InspectorOptions } from '../inspect/server.js';
import { changes, listen, stopListeners, type ChangesOptions, type Listening, type ListenOptions } from '../changes/api.js';
import type { Change, ChangeWithState } from '../changes/change.js';
import { keepPruned } from '../changes/prune.js';
import type { InspectionEvent } from '../observe/inspection.js';
import { Observer } from '../observe/observer.js';
import type { TelemetryOptions } from '../observe/options.js';
import { loadTelemetry } from '../observe/telemetry.js';

/** Options of {@link createSystem}. */
export interface SystemOptions {
  /**
   * The storage engine: `memory()`, `lmdb({ path })` or `foundationdb({ clusterFile })`, or a
   * promise of one. Default: LMDB under `path`.
   */
  readonly backend?: Backend | Promise<Backend>;
  /** Directory of the default LMDB engine. Default `./.dgen`. Ignored when `backend` is given. */
  readonly path?: string;
  /** Key prefix of this system's data, so several systems can share one store. Default: the tuple ('dgen'). */
  readonly prefix?: Uint8Array;
  /** Close the backend when the system closes. Default: true when the system opened it itself, false otherwise. */
  readonly closeBackend?: boolean;
  /**
   * Admission control: how many transactions this system runs at once on its engine, and how long
   * an operation may wait for its turn before failing with `overloaded` (nothing stored). See
   * docs/outcomes.md.
   */
  readonly admission?: AdmissionOptions;
  /**
   * How long a user operation (dispatch, call's enqueue, query, admin) keeps trying while the
   * store is unavailable, as during a FoundationDB recovery, before failing with
   * `store_unavailable`, which says whether its message was stored. Consumers, leases, thunks,
   * timers, replies and `state$` never give up while the system is open. Default 60,000 ms.
   * See docs/foundationdb.md, "Recovery".
   */
  readonly storeDeadlineMs?: number;
  /**
   * OpenTelemetry metrics and traces (docs/observability.md): through the global providers of
   * `@opentelemetry/api` by default, looked up now, when the system is created. A no-op without an
   * SDK, and nothing at all when the package is not installed.
   */
  readonly telemetry?: TelemetryOptions;
}

/** A running dgen system: hands out refs, serves definitions, reports events. */
export interface System {
  /** The storage engine in use. */
  readonly backend: Backend;
  /**
   * A handle on instance `id` of `definition`, usable from any process (memoized per id).
   * Throws `invalid_id` for an empty or non-string id and `definition_conflict` when another
   * definition with the same name was used in this system.
   */
  ref<S, R extends Reducers<S>, T extends Thunks<S>>(definition: ActorDefinition<S, R, T>, id: string): ActorRef<S, R>;
  /** Consumes every instance of `definition` that has work (or only `options.ids`) until stopped or closed. */
  serve<S, R extends Reducers<S>, T extends Thunks<S>>(definition: ActorDefinition<S, R, T>, options?: ServeOptions): Serving;
  /**
   * The committed changes of every instance of `definition` (defined with `changes`), in the
   * store's commit order across all processes: one per batch. Resume with `from: cursor` after a
   * restart; a cursor older than the feed's retention fails with `cursor_expired`. See docs/changes.md.
   *
   * @example
   * ```ts
   * system.changes(Player, { from: saved }).subscribe((c) => { apply(c.id, c.patches); saved = c.cursor; });
   * ```
   */
  changes<S, R extends Reducers<S>, T extends Thunks<S>>(definition: ActorDefinition<S, R, T>, options: ChangesOptions & { readonly includeState: true }): Observable<ChangeWithState<S, keyof R & string>>;
  changes<S, R extends Reducers<S>, T extends Thunks<S>>(definition: ActorDefinition<S, R, T>, options?: ChangesOptions): Observable<Change<S, keyof R & string>>;
  /**
   * Runs a named, durable listener of a definition's change feed in this process: one process
   * at a time is active, handlers run in feed order, and what a handler sends with `tx.send`
   * commits with the listener's checkpoint, exactly once. See docs/changes.md.
   *
   * @example
   * ```ts
   * system.listen({ name: 'leaderboard', on: Player, actions: ['score'], handler: (change, tx) => {
   *   tx.send(Board, 'all').set({ player: change.id, version: change.version });
   * } });
   * ```
   */
  listen<S, R extends Reducers<S>, T extends Thunks<S>>(options: ListenOptions<S, R, T>): Listening;
  /** Operator tools: instances, queues, dead letters, locks, halts. */
  readonly admin: Admin;
  /**
   * Serves the web inspector of this system's store (see docs/operating.md): on 127.0.0.1 and a
   * random token unless told otherwise. The definitions this system registered are known to it.
   *
   * @example
   * ```ts
   * const inspector = await system.inspector({ port: 4400 });
   * console.log(inspector.url); // http://127.0.0.1:4400/?token=…
   * ```
   */
  inspector(options?: InspectorOptions): Promise<Inspector>;
  /** Effects that failed, messages that failed, consumer errors. */
  readonly events$: Observable<SystemEvent>;
  /**
   * The life of each message as this process sees it: `enqueued`, `taken`, `applied`, `committed`,
   * `failed`, `dead-lettered` (see {@link InspectionEvent}). Costs nothing while nobody subscribes;
   * completes when the system closes.
   *
   * @example
   * ```ts
   * system.inspect$.pipe(filter((e) => e.type === 'committed')).subscribe((e) => console.log(e.actor, e.messageId, e.version));
   * ```
   */
  readonly inspect$: Observable<InspectionEvent>;
  /**
   * Refuses new messages, lets the enqueues in flight commit, stops serving (finishing the batches
   * in flight, releasing leases; running thunks are abandoned and re-run by the next owner),
   * rejects every `call` still waiting for its reply with `system_closed` (its message stays
   * queued), completes `state$` and `events$`, and closes the backend if the system opened it.
   * Nothing of the system keeps the process alive afterwards. Calling it again returns the same
   * promise.
   */
  close(): Promise<void>;
  /**
   * Closes the system on SIGINT or SIGTERM (or the given signals), then lets the signal end the
   * process as it would have without a handler; a second signal while closing ends it at once.
   * Returns a function that removes the handlers.
   *
   * @example
   * ```ts
   * const system = await createSystem();
   * system.serve(Counter);
   * system.closeOnSignals(); // Ctrl-C: batches in flight finish, leases are released, then exit
   * ```
   */
  closeOnSignals(signals?: readonly NodeJS.Signals[]): () => void;
}

const SYSTEM_OPTIONS: Readonly<Record<keyof SystemOptions, OptionCheck>> = {
  backend: anything, // checked once resolved
  path: nonEmptyString,
  prefix: (v) => (v instanceof Uint8Array ? undefined : 'must be a Uint8Array (a tuple-encoded key prefix)'),
  closeBackend: boolean,
  admission: (v) => (typeof v === 'object' && v !== null ? undefined : 'must be an object (its fields are checked by admission control)'),
  storeDeadlineMs: positiveMs,
  telemetry: (v) => (typeof v === 'object' && v !== null ? undefined : 'must be an object ({ meterProvider, tracerProvider, instanceIds, enabled })'),
};

const provider =
  (method: string): OptionCheck =>
  (v) =>
    typeof (v as Record<string, unknown> | null)?.[method] === 'function' ? undefined : `must be an OpenTelemetry provider (an object with ${method}())`;

const TELEMETRY_OPTIONS: Readonly<Record<keyof TelemetryOptions, OptionCheck>> = {
  meterProvider: provider('getMeter'),
  tracerProvider: provider('getTracer'),
  instanceIds: boolean,
  enabled: boolean,
};

const SERVE_OPTIONS: Readonly<Record<keyof ServeOptions, OptionCheck>> = {
  ids: (v) => (Array.isArray(v) ? undefined : 'must be an array of actor ids'),
  pollMs: positiveMs,
  concurrency: positiveInteger,
  consumerName: nonEmptyString,
};

/**
 * Creates a system on a storage engine. The default is the embedded LMDB engine under `./.dgen`,
 * durable and shared by every process on the machine that opens the same path.
 *
 * @example
 * ```ts
 * const system = await createSystem();                          // LMDB under ./.dgen
 * const test = await createSystem({ backend: memory() });       // in-memory, for tests
 * const counter = system.ref(Counter, 'tenant-42');
 * system.serve(Counter);
 * await counter.dispatch.increment(2);
 * await system.close();
 * ```
 */
export async function createSystem(options: SystemOptions = {}): Promise<System> {
  checkOptions('createSystem(options)', options, SYSTEM_OPTIONS);
  checkOptions('createSystem({ telemetry })', options.telemetry, TELEMETRY_OPTIONS);
  const owned = options.backend === undefined;
  const backend = await (options.backend ?? lmdb({ path: options.path ?? '.dgen' }));
  if (backend === null || typeof backend !== 'object' || typeof backend.transact !== 'function') {
    throw new DgenError('invalid_options', 'createSystem({ backend }): backend must be an engine such as memory(), lmdb({ path }) or foundationdb().');
  }
  const telemetry = loadTelemetry(options.telemetry, () => backend.stats(), backend.kind);
  const rt = new Runtime(backend, options.prefix, options.admission, options.storeDeadlineMs, (options as ClockOption)[CLOCK], new Observer(telemetry));
  const refs = new Map<string, ActorRef<unknown>>();
  let closing: Promise<void> | undefined;

  const system: System = {
    backend,
    admin: createAdmin(rt),
    events$: rt.events$.asObservable(),
    inspect$: rt.observer.inspect$.asObservable(),
    ref<S, R extends Reducers<S>, T extends Thunks<S>>(def: ActorDefinition<S, R, T>, id: string): ActorRef<S, R> {
      rt.register(def as ActorDefinition<unknown>);
      checkId(id);
      const key = JSON.stringify([def.name, id]);
      let ref = refs.get(key);
      if (ref === undefined) refs.set(key, (ref = createRef(rt, def, id) as ActorRef<unknown>));
      return ref as unknown as ActorRef<S, R>;
    },
    serve<S, R extends Reducers<S>, T extends Thunks<S>>(def: ActorDefinition<S, R, T>, serveOptions?: ServeOptions): Serving {
      rt.register(def as ActorDefinition<unknown>);
      checkOptions(`serve(${def.name}, options)`, serveOptions, SERVE_OPTIONS);
      serveOptions?.ids?.forEach((id) => checkId(id));
      const server = new Server(rt, def as ActorDefinition<unknown>, serveOptions);
      if (def.changes !== undefined) keepPruned(rt, def.name, def.changes);
      const group = rt.servers.get(def.name) ?? new Set();
      group.add(server);
      rt.servers.set(def.name, group);
      return {
        stop: async () => {
          await server.stop();
          group.delete(server);
        },
      };
    },
    changes: ((def: ActorDefinition<unknown>, changesOptions?: ChangesOptions) => changes(rt, def, changesOptions)) as System['changes'],
    listen: (listenOptions) => listen(rt, listenOptions as never),
    inspector: async (inspectorOptions) => (await import('../inspect/server.js')).startInspector(system.admin, inspectorOptions),
    close: () => (closing ??= closeSystem(rt, options.closeBackend ?? owned)),
    closeOnSignals(signals) {
      return closeOnSignals(() => system.close(), signals);
    },
  };
  runtimes.set(system, rt);
  return system;
}

/** The runtime behind each system, for the test toolkit (dgen/testing), which waits on its enqueues in flight. */
const runtimes = new WeakMap<System, Runtime>();

/** The runtime of `system`. @internal */
export function runtimeOf(system: System): Runtime {
  const rt = runtimes.get(system);
  if (rt === undefined) throw new DgenError('invalid_options', 'not a system made by createSystem');
  return rt;
}

/**
 * Refuses new messages, lets the enqueues in flight commit, stops the servers (their batches in
 * flight finish and answer their local callers), then rejects the calls still waiting with
 * `system_closed` (their messages stay queued) and releases every watch and timer.
 */
async function closeSystem(rt: Runtime, closeBackend: boolean): Promise<void> {
  rt.closed = true;
  await Promise.allSettled([...rt.sending]);
  await Promise.allSettled([...rt.servers.values()].flatMap((group) => [...group].map((s) => s.stop())));
  await stopListeners(rt);
  await rt.replies.flushClears();
  rt.failWaiters((id) => new SystemClosedError(`The dgen system closed before this call got its reply; message ${id} is stored and processed exactly once by whichever consumer serves the actor (ref.reply from a new system awaits its reply).`, id));
  rt.backend.failQueued(new SystemClosedError());
  rt.shutdown.abort();
  rt.events$.complete();
  rt.observer.complete();
  if (closeBackend) await rt.backend.close();
}
