import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpanKind, context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSystem, lmdb, memory, type System } from '../../src/index.js';
import { testTelemetry, total } from '../support/otel.js';
import { Relay, Sink } from './actors.js';

// The producer's active span travels through the AsyncLocalStorage context manager, as in an application.
beforeAll(() => void context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable()));
afterAll(() => void context.disable());

const open: Array<{ close(): Promise<void> }> = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dgen-observe-'));
  dirs.push(dir);
  return join(dir, 'store');
}

/** A system with an OpenTelemetry SDK of its own, on its own LMDB handle of `path`. */
async function systemAt(path: string) {
  const tel = testTelemetry();
  const system = await createSystem({ backend: lmdb({ path }), telemetry: { meterProvider: tel.meterProvider, tracerProvider: tel.tracerProvider } });
  open.push(tel, system);
  return { system, tel };
}

describe('telemetry across a producer and a consumer on one LMDB path', () => {
  it('records the instruments of the processing path on each side', async () => {
    const path = tempPath();
    const producer = await systemAt(path);
    const consumer = await systemAt(path);
    consumer.system.serve(Relay);
    consumer.system.serve(Sink);
    const relay = producer.system.ref(Relay, 'r1');
    expect(await relay.call.ping(2)).toBe(2);
    await relay.dispatch.boom();
    await relay.call.work();
    const sink = producer.system.ref(Sink, 'only');
    await vi.waitFor(async () => expect(await sink.query((s) => s.got)).toBe(2));
    await vi.waitFor(async () => expect(await relay.query((s) => s.n)).toBe(102));

    const sent = await producer.tel.metrics();
    expect(total(sent, 'dgen.messages.enqueued', { 'dgen.actor': 'relay', 'dgen.path': 'queue' })).toBe(3);
    expect(total(sent, 'dgen.messages.processed')).toBe(0);
    expect(sent.get('dgen.store.commit.duration')?.unit).toBe('s');
    expect(total(sent, 'dgen.store.commits')).toBeGreaterThanOrEqual(1);

    const m = await consumer.tel.metrics();
    const relayAttrs = { 'dgen.actor': 'relay' };
    expect(total(m, 'dgen.messages.processed', relayAttrs)).toBe(2); // ping, work (boom failed)
    expect(total(m, 'dgen.messages.failed', { ...relayAttrs, 'dgen.policy': 'dead-letter' })).toBe(1);
    expect(total(m, 'dgen.messages.dead_lettered', relayAttrs)).toBe(1);
    expect(total(m, 'dgen.message.wait', relayAttrs, 'count')).toBe(2);
    expect(total(m, 'dgen.batch.size', relayAttrs)).toBe(3); // every message taken by a committed batch, failed ones too
    expect(total(m, 'dgen.batch.duration', relayAttrs, 'count')).toBeGreaterThanOrEqual(1);
    expect(total(m, 'dgen.thunk.runs', { ...relayAttrs, 'dgen.thunk': 'job' })).toBe(1);
    expect(total(m, 'dgen.thunk.failures', relayAttrs)).toBe(0);
    expect(total(m, 'dgen.thunk.duration', { ...relayAttrs, 'dgen.outcome': 'ok' }, 'count')).toBe(1);
    expect(total(m, 'dgen.instances.active', relayAttrs)).toBe(1);
    expect(total(m, 'dgen.messages.enqueued', { 'dgen.actor': 'sink' })).toBe(1); // ctx.send, committed with its batch
    expect(total(m, 'dgen.messages.processed', { 'dgen.actor': 'sink' })).toBe(1);
    expect(m.get('dgen.message.wait')?.unit).toBe('s');
    // Cardinality stays per definition unless instance ids are asked for.
    expect(m.get('dgen.messages.processed')!.points.every((p) => !('dgen.actor.id' in p.attributes))).toBe(true);
  });

  it('a call through the queue is one trace from the producer span to the consumer batch, its children, the forwarded send, the thunk and a delayed dispatch', async () => {
    const path = tempPath();
    const producer = await systemAt(path);
    const consumer = await systemAt(path);
    consumer.system.serve(Relay);
    consumer.system.serve(Sink);
    const relay = producer.system.ref(Relay, 'r1');
    const tracer = producer.tel.tracerProvider.getTracer('app');
    const request = await tracer.startActiveSpan('request', async (span) => {
      await relay.call.ping(1);
      await relay.call.work();
      await relay.dispatch.ping(10, { delay: 1 });
      span.end();
      return span.spanContext();
    });
    await vi.waitFor(async () => expect(await producer.system.ref(Sink, 'only').query((s) => s.got)).toBe(11));
    await vi.waitFor(() => expect(consumer.tel.spans().some((s) => s.name === 'thunk relay.job')).toBe(true));
    await vi.waitFor(() => expect(consumer.tel.spans().some((s) => s.name === 'process sink')).toBe(true));

    // The producer: a `create relay` span per message, child of the active span, ended at once.
    const produced = producer.tel.spans();
    const creates = produced.filter((s) => s.name === 'create relay');
    expect(produced.map((s) => s.name).sort()).toEqual(['create relay', 'create relay', 'create relay', 'request']);
    for (const c of creates) {
      expect(c.parentSpanContext?.spanId).toBe(request.spanId);
      expect(c.kind).toBe(SpanKind.PRODUCER);
    }
    const createIds = creates.map((c) => c.spanContext().spanId);
    const spans = consumer.tel.spans();
    const batches = spans.filter((s) => s.name === 'process relay');
    expect(batches.length).toBeGreaterThanOrEqual(2); // the delayed ping fires after the others were processed
    for (const b of batches) {
      expect(b.spanContext().traceId).toBe(request.traceId);
      expect(b.kind).toBe(SpanKind.CONSUMER);
      expect(createIds).toContain(b.parentSpanContext?.spanId);
      expect(b.links.map((l) => l.context.spanId)).toContain(b.parentSpanContext?.spanId);
      expect(b.attributes['messaging.destination.name']).toBe('relay');
      const children = spans.filter((s) => s.parentSpanContext?.spanId === b.spanContext().spanId).map((s) => s.name);
      // A batch has its phases as children; a fired timer processed inline is one span.
      expect(children.sort()).toEqual(b.attributes['dgen.path'] === 'inline' ? [] : ['after-commit', 'commit', 'reduce']);
    }
    // ctx.send carried the trace onward, and the thunk of the locking message runs in it too.
    const sinkBatch = spans.find((s) => s.name === 'process sink')!;
    expect(sinkBatch.spanContext().traceId).toBe(request.traceId);
    const thunk = spans.find((s) => s.name === 'thunk relay.job')!;
    expect(thunk.spanContext().traceId).toBe(request.traceId);
    expect(createIds).toContain(thunk.parentSpanContext?.spanId);
    // The delayed dispatch was a timer, fired by the consumer's process.
    const m = await consumer.tel.metrics();
    expect(total(m, 'dgen.timers.fired', { 'dgen.actor': 'relay' })).toBe(1);
    expect(total(m, 'dgen.timer.lateness', { 'dgen.actor': 'relay' }, 'count')).toBe(1);
  });

  it('counts a lease taken over from a consumer that stopped, and the state it loads', async () => {
    const path = tempPath();
    const first = await systemAt(path);
    const second = await systemAt(path);
    const serving = first.system.serve(Sink);
    await first.system.ref(Sink, 'only').call.got(5);
    await serving.stop(); // releases its lease
    expect(total(await first.tel.metrics(), 'dgen.instances.active', { 'dgen.actor': 'sink' })).toBe(0); // forgotten when serving stopped
    second.system.serve(Sink);
    await second.system.ref(Sink, 'only').call.got(1);
    const m = await second.tel.metrics();
    expect(total(m, 'dgen.lease.takeovers', { 'dgen.actor': 'sink' })).toBe(1);
    expect(total(m, 'dgen.state.load.duration', { 'dgen.actor': 'sink' }, 'count')).toBe(1);
    expect(total(m, 'dgen.state.load.size', { 'dgen.actor': 'sink' })).toBeGreaterThan(0);
    expect(total(await first.tel.metrics(), 'dgen.lease.takeovers')).toBe(0);
  });
});

describe('telemetry in one process', () => {
  let system: System | undefined;
  afterEach(async () => {
    await system?.close();
    system = undefined;
  });

  it('counts the inline path and adds instance ids when asked', async () => {
    const tel = testTelemetry();
    open.push(tel);
    system = await createSystem({ backend: memory(), telemetry: { meterProvider: tel.meterProvider, tracerProvider: tel.tracerProvider, instanceIds: true } });
    system.serve(Sink);
    const sink = system.ref(Sink, 's1');
    await sink.call.got(1); // activates the instance
    await vi.waitFor(async () => {
      await sink.call.got(1);
      expect(total(await tel.metrics(), 'dgen.inline.hits')).toBeGreaterThanOrEqual(1);
    });
    const m = await tel.metrics();
    expect(total(m, 'dgen.messages.enqueued', { 'dgen.actor': 'sink', 'dgen.actor.id': 's1', 'dgen.path': 'inline' })).toBeGreaterThanOrEqual(1);
    expect(total(m, 'dgen.messages.processed', { 'dgen.actor.id': 's1', 'dgen.path': 'inline' })).toBeGreaterThanOrEqual(1);
    expect(total(m, 'dgen.instances.active', { 'dgen.actor': 'sink' })).toBe(1);
    expect(tel.spans().some((s) => s.name === 'process sink' && s.attributes['dgen.path'] === 'inline')).toBe(true);
  });

  it('counts commit_unknown_result seen and conflicts of the engine', async () => {
    const tel = testTelemetry();
    open.push(tel);
    const backend = memory();
    system = await createSystem({ backend, telemetry: { meterProvider: tel.meterProvider, tracerProvider: tel.tracerProvider } });
    backend.faults.injectNext('unknownResult');
    await system.ref(Sink, 's1').dispatch.got(1); // the sender settles its ambiguous enqueue through its marker
    backend.faults.injectNext('conflict');
    await system.ref(Sink, 's1').dispatch.got(1);
    const m = await tel.metrics();
    expect(total(m, 'dgen.transaction.commit_unknown_result')).toBe(1);
    expect(total(m, 'dgen.store.conflicts', { 'dgen.store': 'memory' })).toBe(1);
    expect(total(m, 'dgen.messages.enqueued', { 'dgen.actor': 'sink' })).toBe(2);
  });

  it('lets go of the engine when the system closes: its counters are no longer read', async () => {
    const tel = testTelemetry();
    open.push(tel);
    const engine = memory();
    let reads = 0;
    const backend = new Proxy(engine, {
      get: (target, key) => {
        if (key === 'stats') return () => (reads++, target.stats());
        const v = Reflect.get(target, key, target) as unknown;
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const closing = await createSystem({ backend, telemetry: { meterProvider: tel.meterProvider } });
    await closing.ref(Sink, 's1').dispatch.got(1);
    expect(total(await tel.metrics(), 'dgen.store.commits')).toBeGreaterThanOrEqual(1);
    expect(reads).toBe(1);
    await closing.close();
    await tel.metrics();
    expect(reads).toBe(1);
  });

  it('records nothing with telemetry disabled, and runs as before', async () => {
    const tel = testTelemetry();
    open.push(tel);
    system = await createSystem({ backend: memory(), telemetry: { meterProvider: tel.meterProvider, tracerProvider: tel.tracerProvider, enabled: false } });
    system.serve(Sink);
    await system.ref(Sink, 's1').call.got(3);
    expect([...(await tel.metrics()).keys()]).toEqual([]);
    expect(tel.spans()).toEqual([]);
  });

  it('without an SDK the global providers are no-ops and nothing fails', async () => {
    system = await createSystem({ backend: memory() });
    system.serve(Sink);
    await trace.getTracer('app').startActiveSpan('no sdk', async (span) => {
      await system!.ref(Sink, 's1').call.got(3);
      span.end();
    });
    expect(await system.ref(Sink, 's1').query((s) => s.got)).toBe(3);
  });
});
