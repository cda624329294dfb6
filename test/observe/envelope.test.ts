/**
 * The trace context in the message envelope: an optional trailing slot, so messages written
 * without it (before it existed, or outside any span) decode as before, and one written with it
 * keeps it through encoding.
 */
import { describe, expect, it } from 'vitest';
import { encodeValue } from '../../src/state/codec.js';
import { CorruptMessageError, decodeEnvelope, encodeEnvelope, type Envelope } from '../../src/store/message.js';
import { formatTraceContext, parseTraceContext } from '../../src/observe/trace-context.js';

const base: Envelope = { id: '0190000000000000000000000000000a', action: 'add', payload: { n: 1 }, at: 1_700_000_000_000, wantsReply: false };
const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('trace context in the envelope', () => {
  it('round-trips with and without the other optional slots', () => {
    for (const e of [
      { ...base, trace: { traceparent } },
      { ...base, wantsReply: true, replyTo: 'inbox', trace: { traceparent, tracestate: 'vendor=x' } },
      { ...base, wantsReply: true, replyTo: 'inbox', keep: true as const, trace: { traceparent } },
    ]) {
      expect(decodeEnvelope(encodeEnvelope(e))).toEqual(e);
    }
  });

  it('costs no byte when absent, and old envelopes decode unchanged', () => {
    expect(encodeEnvelope(base)).toEqual(encodeValue([base.id, base.action, base.payload, base.at, false]));
    const old = encodeValue([base.id, base.action, base.payload, base.at, true, 'inbox', true]);
    expect(decodeEnvelope(old)).toEqual({ ...base, wantsReply: true, replyTo: 'inbox', keep: true });
  });

  it('is found among trailing slots by its shape, whatever else shares them', () => {
    const bytes = encodeValue([base.id, base.action, base.payload, base.at, false, null, false, 2, { tp: traceparent }]);
    expect(decodeEnvelope(bytes).trace).toEqual({ traceparent });
    expect(() => decodeEnvelope(encodeValue([base.id, base.action, base.payload, base.at, false, null, false, 1, 2, 3]))).toThrow(CorruptMessageError);
  });

  it('formats and parses W3C traceparent, refusing invalid ids', () => {
    const sc = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 };
    expect(formatTraceContext(sc)).toEqual({ traceparent });
    expect(parseTraceContext({ traceparent })).toEqual(sc);
    expect(parseTraceContext({ traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01' })).toBeUndefined();
    expect(parseTraceContext({ traceparent: '01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' })).toBeUndefined();
    expect(parseTraceContext({ traceparent, tracestate: 'a=b' })).toEqual({ ...sc, tracestate: 'a=b' });
  });
});
