/**
 * What the observer asks of the telemetry, in types that do not name `@opentelemetry/api`: the
 * declarations the runtime exposes reach this file, never the API's, so an application without
 * the optional peer dependency type-checks with `skipLibCheck: false`.
 * @internal
 */
import type { TraceContext } from '../store/message.js';

/** A message as the telemetry sees it. */
export interface Seen {
  readonly id: string;
  readonly action: string;
  readonly at?: number | undefined;
  readonly trace?: TraceContext | undefined;
}

/** Performance-clock marks of one consumer batch (ms, `performance.now()`). */
export interface BatchTiming {
  readonly started: number;
  readonly reduceStart: number;
  readonly reduceEnd: number;
  readonly bodyEnd: number;
  readonly committed: number;
  readonly published: number;
  readonly attempts: number;
}

/** The telemetry of a system (observe/telemetry.ts), as the observer calls it. */
export interface TelemetryHooks {
  inject(name: string, action: string): TraceContext | undefined;
  sent(name: string, id: string, count: number, path: 'queue' | 'inline'): void;
  processed(name: string, id: string, messages: readonly Seen[], path: 'queue' | 'inline', now: number, batch?: BatchTiming, size?: number): void;
  forwarded(name: string, id: string, count: number): void;
  failed(name: string, id: string, policy: 'dead-letter' | 'halt'): void;
  thunk<T>(name: string, id: string, thunk: string, message: Seen | undefined, attempt: number, run: () => Promise<T>): Promise<T>;
  leaseTaken(name: string, id: string): void;
  instances(name: string, delta: number): void;
  stateLoaded(name: string, id: string, ms: number, bytes: number): void;
  timersFired(name: string, dues: readonly number[], now: number): void;
  unknownResult(): void;
  retrying(cause: string): void;
  transaction(ms: number, commitMs: number | undefined): void;
  /** The system closed. */
  close(): void;
}
