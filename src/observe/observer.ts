/**
 * The one object the runtime tells what happens to messages: it feeds the OpenTelemetry metrics
 * and spans (when the API is installed) and `system.inspect$` (when someone subscribes). Each
 * point of the runtime makes one call here; when neither listens, a call is a couple of checks.
 * @internal
 */
import { Subject } from 'rxjs';
import type { TraceContext } from '../store/message.js';
import type { InspectionEvent } from './inspection.js';
import type { BatchTiming, Seen, TelemetryHooks } from './hooks.js';

/** A queued message as a batch attempt read it (its envelope, or why it does not decode). */
interface Taken {
  readonly envelope: Seen | Error;
}

/** What happened to one message of a commit (serve/consumer.ts `Outcome`, as far as observing goes). */
interface Result {
  readonly envelope: Pick<Seen, 'id' | 'action'> | undefined;
  readonly applied?: { readonly sends: ReadonlyArray<{ readonly name: string; readonly id: string; readonly out: { readonly envelope: Seen } }> } | undefined;
}

/** A `message-failed` system event (runtime/events.ts, which is a layer above this one). */
interface Failed {
  readonly type: 'message-failed';
  readonly actor: string;
  readonly id: string;
  readonly messageId: string;
  readonly action: string;
  readonly error: unknown;
  readonly policy: 'dead-letter' | 'halt';
}

export class Observer {
  readonly inspect$ = new Subject<InspectionEvent>();

  constructor(readonly telemetry: TelemetryHooks | undefined) {}

  /** The trace context a message to `name` sent now carries (inside an active span), if any. */
  inject(name: string, action: string): TraceContext | undefined {
    return this.telemetry?.inject(name, action);
  }

  /** Messages a sender (or a timer firing) committed into an instance: queued, or processed inline. */
  sent(name: string, id: string, messages: ReadonlyArray<{ readonly envelope: Seen }>, path: 'queue' | 'inline'): void {
    if (messages.length === 0) return;
    this.telemetry?.sent(name, id, messages.length, path);
    if (!this.inspect$.observed) return;
    for (const { envelope: m } of messages) this.inspect$.next({ type: 'enqueued', actor: name, id, messageId: m.id, action: m.action, path });
  }

  /** A batch attempt took `taken` and produced `results` (not committed yet). */
  attempted(name: string, id: string, taken: readonly Taken[], results: readonly Result[], attempt: number): void {
    if (!this.inspect$.observed) return;
    for (const { envelope: m } of taken) if (!(m instanceof Error)) this.inspect$.next({ type: 'taken', actor: name, id, messageId: m.id, action: m.action, attempt });
    for (const r of results) if (r.applied !== undefined && r.envelope !== undefined) this.inspect$.next({ type: 'applied', actor: name, id, messageId: r.envelope.id, action: r.envelope.action, attempt });
  }

  /** A commit that processed messages succeeded (a batch with its timing, or an inline commit). */
  committed(name: string, id: string, version: number, results: readonly Result[], path: 'queue' | 'inline', batch?: BatchTiming): void {
    const processed: Seen[] = [];
    let sends = 0;
    for (const r of results) {
      if (r.applied === undefined || r.envelope === undefined) continue;
      processed.push(r.envelope);
      sends += r.applied.sends.length;
    }
    if (this.telemetry !== undefined) {
      this.telemetry.processed(name, id, processed, path, Date.now(), batch, results.length);
      if (sends > 0) for (const r of results) for (const s of r.applied?.sends ?? []) this.telemetry.forwarded(s.name, s.id, 1);
    }
    if (!this.inspect$.observed) return;
    for (const m of processed) this.inspect$.next({ type: 'committed', actor: name, id, messageId: m.id, action: m.action, version, path });
    for (const r of results) for (const s of r.applied?.sends ?? []) this.inspect$.next({ type: 'enqueued', actor: s.name, id: s.id, messageId: s.out.envelope.id, action: s.out.envelope.action, path: 'queue' });
  }

  /** Every system event (runtime/events.ts): failures for good and store retries feed metrics and inspect$. */
  event(event: { readonly type: string }): void {
    const e = event as Failed | { readonly type: 'store-retrying'; readonly error: unknown };
    if (e.type === 'store-retrying') {
      this.telemetry?.retrying(codeOf(e.error));
      return;
    }
    if (e.type !== 'message-failed') return;
    this.telemetry?.failed(e.actor, e.id, e.policy);
    if (!this.inspect$.observed) return;
    const about = { actor: e.actor, id: e.id, messageId: e.messageId, action: e.action };
    this.inspect$.next({ type: 'failed', ...about, error: e.error, policy: e.policy });
    if (e.policy === 'dead-letter') this.inspect$.next({ type: 'dead-lettered', ...about });
  }

  /** Runs one thunk run (in its span, counted and timed when telemetry is on). */
  thunk<T>(name: string, id: string, thunk: string, message: Seen | undefined, attempt: number, run: () => Promise<T>): Promise<T> {
    return this.telemetry === undefined ? run() : this.telemetry.thunk(name, id, thunk, message, attempt, run);
  }

  leaseTaken(name: string, id: string): void {
    this.telemetry?.leaseTaken(name, id);
  }

  instances(name: string, delta: number): void {
    this.telemetry?.instances(name, delta);
  }

  stateLoaded(name: string, id: string, ms: number, bytes: number): void {
    this.telemetry?.stateLoaded(name, id, ms, bytes);
  }

  timersFired(name: string, dues: readonly number[]): void {
    this.telemetry?.timersFired(name, dues, Date.now());
  }

  /** A transaction ended: how long it took from admission, and its commit (undefined when it failed). */
  transaction(ms: number, commitMs: number | undefined, error?: unknown): void {
    if (this.telemetry === undefined) return;
    this.telemetry.transaction(ms, commitMs);
    if (codeOf(error) === 'commit_unknown_result') this.telemetry.unknownResult();
  }

  /** The system closed: `inspect$` completes and the telemetry lets go of the engine. */
  complete(): void {
    this.inspect$.complete();
    this.telemetry?.close();
  }
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : 'unknown';
}
