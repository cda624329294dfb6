/**
 * W3C trace context as a message carries it: the `traceparent` of the span a message was sent in
 * (and its `tracestate`), written by the producer and read back by the consumer as the remote
 * parent of its spans. Formatted here rather than through the global propagator, so that the
 * envelope always holds W3C trace context whatever propagator the application installed.
 * @internal
 */
import type { SpanContext } from '@opentelemetry/api';
import type { TraceContext } from '../store/message.js';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The headers of a valid span context. */
export function formatTraceContext(sc: SpanContext): TraceContext {
  const traceparent = `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
  const tracestate = sc.traceState?.serialize();
  return tracestate === undefined || tracestate === '' ? { traceparent } : { traceparent, tracestate };
}

/**
 * The remote span context of `trace`, or undefined when its traceparent is not version 00 or
 * carries an all-zero id (invalid by the W3C spec). The trace state is kept as a string the
 * caller turns into a TraceState (it needs the API).
 */
export function parseTraceContext(trace: TraceContext): { traceId: string; spanId: string; traceFlags: number; tracestate?: string } | undefined {
  const m = TRACEPARENT.exec(trace.traceparent);
  if (m === null || /^0+$/.test(m[1]!) || /^0+$/.test(m[2]!)) return undefined;
  const parsed = { traceId: m[1]!, spanId: m[2]!, traceFlags: parseInt(m[3]!, 16) };
  return trace.tracestate === undefined ? parsed : { ...parsed, tracestate: trace.tracestate };
}
