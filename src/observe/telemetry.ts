/**
 * Metrics and spans of one system, through `@opentelemetry/api`. The API is imported when a
 * system is created, never when dgen is imported, and meters and tracers are looked up then, so
 * an SDK registered at start-up is always seen. Without an SDK every instrument is the API's
 * no-op; without the package the system has no Telemetry at all.
 * @internal
 */
import { createRequire } from 'node:module';
import type { Attributes, BatchObservableResult, Context, Link, Meter, Span, Tracer } from '@opentelemetry/api';
import type { BackendStats } from '../backend/contract.js';
import type { TraceContext } from '../store/message.js';
import { ACTOR_INSTRUMENTS, ENGINE_INSTRUMENTS, SYSTEM_INSTRUMENTS, makeInstruments } from './instruments.js';
import type { TelemetryOptions } from './options.js';
import type { BatchTiming, Seen, TelemetryHooks } from './hooks.js';
import { formatTraceContext, parseTraceContext } from './trace-context.js';

type Api = typeof import('@opentelemetry/api');

/** The name and version dgen's meter and tracer are registered under. */
export const SCOPE = { name: 'dgen', version: '0.1.0' } as const;

const epoch = (t: number) => performance.timeOrigin + t;

let loaded: Api | null | undefined;

/**
 * The API module, required on first use (synchronously: a system's creation awaits nothing more);
 * null when the optional peer dependency is not installed. Its CommonJS build shares its global
 * providers and context manager with the ESM build the application imports (they live on globalThis).
 */
function otelApi(): Api | null {
  if (loaded !== undefined) return loaded;
  try {
    loaded = createRequire(import.meta.url)('@opentelemetry/api') as Api;
  } catch {
    loaded = null;
  }
  return loaded;
}

/** Creates the instruments of a system; undefined when telemetry is off or the API is not installed. */
export function loadTelemetry(options: TelemetryOptions | undefined, stats: () => BackendStats, kind: string): Telemetry | undefined {
  if (options?.enabled === false) return undefined;
  const api = otelApi();
  return api === null ? undefined : new Telemetry(api, options ?? {}, stats, kind);
}

export class Telemetry implements TelemetryHooks {
  readonly tracer: Tracer;
  private readonly actor;
  private readonly system;
  private readonly byActor = new Map<string, Attributes>();
  private readonly instanceIds: boolean;

  constructor(
    readonly api: Api,
    options: TelemetryOptions,
    stats: () => BackendStats,
    kind: string,
  ) {
    const meter = (options.meterProvider?.getMeter(SCOPE.name, SCOPE.version) as Meter | undefined) ?? api.metrics.getMeter(SCOPE.name, SCOPE.version);
    this.tracer = (options.tracerProvider?.getTracer(SCOPE.name, SCOPE.version) as Tracer | undefined) ?? api.trace.getTracer(SCOPE.name, SCOPE.version);
    this.instanceIds = options.instanceIds ?? false;
    this.actor = makeInstruments(meter, ACTOR_INSTRUMENTS);
    this.system = makeInstruments(meter, SYSTEM_INSTRUMENTS);
    const engine = makeInstruments(meter, ENGINE_INSTRUMENTS);
    const store = { 'dgen.store': kind };
    const observables = Object.values(engine);
    const callback = (r: BatchObservableResult) => {
      const s = stats();
      r.observe(engine.commits, s.commits, store);
      r.observe(engine.conflicts, s.conflicts, store);
      r.observe(engine.engineRetries, s.retries, store);
      r.observe(engine.bytesWritten, s.bytesWritten, store);
      r.observe(engine.keysWritten, s.keysWritten, store);
    };
    meter.addBatchObservableCallback(callback, observables);
    this.detach = () => meter.removeBatchObservableCallback(callback, observables);
  }

  /** Stops reading the engine's counters (the system closed): the meter holds no reference to it any more. */
  readonly detach: () => void;

  close(): void {
    this.detach();
  }

  /** The attributes of an actor: its name, and its id when `instanceIds` is on. Cached per name. */
  attrs(name: string, id: string): Attributes {
    if (this.instanceIds) return { 'dgen.actor': name, 'dgen.actor.id': id };
    let a = this.byActor.get(name);
    if (a === undefined) this.byActor.set(name, (a = { 'dgen.actor': name }));
    return a;
  }

  /**
   * The W3C trace context a message sent now carries: inside a valid active span, that of a
   * `create <actor>` span (kind producer, ended at once: the message's creation, as the messaging
   * conventions name it) child of the active span; undefined outside any span (nothing created).
   */
  inject(name: string, action: string): TraceContext | undefined {
    const api = this.api;
    const active = api.context.active();
    const parent = api.trace.getSpanContext(active);
    if (parent === undefined || !api.isSpanContextValid(parent)) return undefined;
    const attributes = { 'messaging.system': 'dgen', 'messaging.operation.type': 'create', 'messaging.destination.name': name, 'dgen.actor': name, 'dgen.action': action };
    const span = this.tracer.startSpan(`create ${name}`, { kind: api.SpanKind.PRODUCER, attributes }, active);
    span.end();
    const own = span.spanContext();
    return formatTraceContext(api.isSpanContextValid(own) ? own : parent);
  }

  /** The context whose remote parent is the span a message was sent in, if it carried one. */
  extract(trace: TraceContext | undefined): Context | undefined {
    if (trace === undefined) return undefined;
    const p = parseTraceContext(trace);
    if (p === undefined) return undefined;
    const { tracestate, ...ids } = p;
    const sc = { ...ids, isRemote: true, ...(tracestate === undefined ? {} : { traceState: this.api.createTraceState(tracestate) }) };
    return this.api.trace.setSpanContext(this.api.ROOT_CONTEXT, sc);
  }

  sent(name: string, id: string, count: number, path: 'queue' | 'inline'): void {
    const a = this.attrs(name, id);
    this.actor.enqueued.add(count, this.with(name, id, 'dgen.path', path));
    if (path === 'inline') this.actor.inline.add(1, a);
  }

  /** Messages processed by a commit: counts, waits, and for a batch its metrics and spans. */
  processed(name: string, id: string, messages: readonly Seen[], path: 'queue' | 'inline', now: number, batch?: BatchTiming, size?: number): void {
    const a = this.attrs(name, id);
    const withPath = this.with(name, id, 'dgen.path', path);
    if (messages.length > 0) this.actor.processed.add(messages.length, withPath);
    for (const m of messages) if (m.at !== undefined) this.actor.wait.record(Math.max(0, now - m.at) / 1000, withPath);
    if (batch !== undefined) {
      this.actor.batchDuration.record((batch.committed - batch.started) / 1000, a);
      this.actor.batchSize.record(size ?? messages.length, a);
      if (batch.attempts > 1) this.actor.batchRetries.add(batch.attempts - 1, a);
    }
    this.spans(name, id, messages, path, batch);
  }

  /**
   * The spans of a committed batch, built once its outcome is known (attempts that did not commit
   * leave none): `process <actor>` (kind consumer) whose parent is the trace context of its first
   * traced message and which links every traced message, with children `reduce`, `commit` and
   * `after-commit`. A batch of untraced messages starts a trace of its own.
   */
  private spans(name: string, id: string, messages: readonly Seen[], path: 'queue' | 'inline', batch: BatchTiming | undefined): void {
    const api = this.api;
    let parent: Context | undefined;
    const links: Link[] = [];
    for (const m of messages) {
      const ctx = this.extract(m.trace);
      if (ctx === undefined) continue;
      parent ??= ctx;
      links.push({ context: api.trace.getSpanContext(ctx)!, attributes: { 'messaging.message.id': m.id } });
    }
    const now = performance.now();
    const attributes: Attributes = {
      'messaging.system': 'dgen',
      'messaging.operation.type': 'process',
      'messaging.destination.name': name,
      'messaging.batch.message_count': messages.length,
      'dgen.actor': name,
      'dgen.actor.id': id,
      'dgen.path': path,
    };
    if (messages.length === 1) attributes['messaging.message.id'] = messages[0]!.id;
    const start = epoch(batch?.started ?? now);
    const span = this.tracer.startSpan(`process ${name}`, { kind: api.SpanKind.CONSUMER, startTime: start, links, attributes }, parent ?? api.ROOT_CONTEXT);
    if (batch !== undefined && span.isRecording()) {
      const inside = api.trace.setSpan(api.ROOT_CONTEXT, span);
      this.child(inside, 'reduce', batch.reduceStart, batch.reduceEnd, { 'dgen.actions': messages.map((m) => m.action).join(',') });
      this.child(inside, 'commit', batch.bodyEnd, batch.committed, { 'dgen.attempts': batch.attempts });
      this.child(inside, 'after-commit', batch.committed, batch.published);
    }
    span.end(epoch(batch?.published ?? now));
  }

  private child(parent: Context, name: string, from: number, to: number, attributes?: Attributes): void {
    this.tracer.startSpan(name, { startTime: epoch(from), ...(attributes === undefined ? {} : { attributes }) }, parent).end(epoch(to));
  }

  /** Sends of reducers (`ctx.send`) committed with a batch. */
  forwarded(name: string, id: string, count: number): void {
    this.actor.enqueued.add(count, this.with(name, id, 'dgen.path', 'queue'));
  }

  failed(name: string, id: string, policy: 'dead-letter' | 'halt'): void {
    const a = this.attrs(name, id);
    this.actor.failed.add(1, this.with(name, id, 'dgen.policy', policy));
    if (policy === 'dead-letter') this.actor.deadLettered.add(1, a);
  }

  /** Runs a thunk inside a span whose parent is the locking message's trace context; counts and times it. */
  async thunk<T>(name: string, id: string, thunk: string, message: Seen | undefined, attempt: number, run: () => Promise<T>): Promise<T> {
    const api = this.api;
    const a = this.with(name, id, 'dgen.thunk', thunk);
    this.actor.thunkRuns.add(1, a);
    const parent = this.extract(message?.trace) ?? api.context.active();
    const span: Span = this.tracer.startSpan(`thunk ${name}.${thunk}`, { attributes: { 'dgen.actor': name, 'dgen.actor.id': id, 'dgen.thunk': thunk, 'dgen.attempt': attempt, ...(message === undefined ? {} : { 'messaging.message.id': message.id }) } }, parent);
    const started = performance.now();
    let outcome = 'ok';
    try {
      return await api.context.with(api.trace.setSpan(parent, span), run);
    } catch (e) {
      outcome = 'error';
      this.actor.thunkFailures.add(1, a);
      span.recordException(e instanceof Error ? e : String(e));
      span.setStatus({ code: api.SpanStatusCode.ERROR, message: e instanceof Error ? e.message : String(e) });
      throw e;
    } finally {
      this.actor.thunkDuration.record((performance.now() - started) / 1000, { ...a, 'dgen.outcome': outcome }); // once per thunk run
      span.end();
    }
  }

  leaseTaken(name: string, id: string): void {
    this.actor.leaseTakeovers.add(1, this.attrs(name, id));
  }

  /**
   * The attributes of an actor plus one more, cached per combination (no object built per record:
   * spreading attribute objects costs more than the no-op instruments themselves).
   */
  with(name: string, id: string, key: string, value: string): Attributes {
    if (this.instanceIds) return { 'dgen.actor': name, 'dgen.actor.id': id, [key]: value };
    const k = `${name}\u0000${key}\u0000${value}`;
    let a = this.byActor.get(k);
    if (a === undefined) this.byActor.set(k, (a = { 'dgen.actor': name, [key]: value }));
    return a;
  }

  /** The attributes of a definition alone, for what no single instance owns. */
  private named(name: string): Attributes {
    return this.instanceIds ? { 'dgen.actor': name } : this.attrs(name, '');
  }

  instances(name: string, delta: number): void {
    this.actor.instances.add(delta, this.named(name));
  }

  stateLoaded(name: string, id: string, ms: number, bytes: number): void {
    const a = this.attrs(name, id);
    this.actor.loadDuration.record(ms / 1000, a);
    this.actor.loadBytes.record(bytes, a);
  }

  timersFired(name: string, dues: readonly number[], now: number): void {
    const a = this.named(name);
    if (dues.length > 0) this.actor.timersFired.add(dues.length, a);
    for (const due of dues) this.actor.timerLateness.record(Math.max(0, now - due) / 1000, a);
  }

  unknownResult(): void {
    this.system.unknownResult.add(1);
  }

  retrying(cause: string): void {
    this.system.retries.add(1, { 'dgen.cause': cause });
  }

  transaction(ms: number, commitMs: number | undefined): void {
    this.system.transactionDuration.record(ms / 1000, { 'dgen.outcome': commitMs === undefined ? 'failed' : 'committed' });
    if (commitMs !== undefined) this.system.commitDuration.record(commitMs / 1000);
  }
}
