/**
 * system.inspect$: each message's life as the sending and the consuming process see it, on
 * every engine. A message processed from the queue is committed once; a failed one is failed and
 * dead-lettered, never committed.
 */
import { describe, expect, it, vi } from 'vitest';
import type { InspectionEvent } from '../../src/index.js';
import { actorEngines, systemsOn } from '../support/actor-engines.js';
import { Relay, Sink } from './actors.js';

describe.each(actorEngines())('inspect$ on $name', (engine) => {
  if (engine.skip !== undefined) {
    it.skip(`skipped: ${engine.skip}`, () => {});
    return;
  }
  const systems = systemsOn(engine);

  it('reports enqueued in the producer, then taken, applied and committed (or failed and dead-lettered) in the consumer', async () => {
    const producer = await systems();
    const consumer = await systems(true);
    const sent: InspectionEvent[] = [];
    const seen: InspectionEvent[] = [];
    producer.inspect$.subscribe((e) => sent.push(e));
    consumer.inspect$.subscribe((e) => seen.push(e));
    consumer.serve(Relay);
    consumer.serve(Sink);
    const relay = producer.ref(Relay, 'r1');
    await relay.call.ping(1);
    await relay.dispatch.boom();
    await vi.waitFor(() => expect(seen.some((e) => e.type === 'dead-lettered')).toBe(true));
    await vi.waitFor(() => expect(seen.some((e) => e.type === 'committed' && e.actor === 'sink')).toBe(true));

    expect(sent.map((e) => [e.type, e.actor, e.type === 'enqueued' ? e.path : ''])).toEqual([
      ['enqueued', 'relay', 'queue'],
      ['enqueued', 'relay', 'queue'],
    ]);
    const [ping, boom] = sent.map((e) => (e.type === 'enqueued' ? e.messageId : ''));
    const about = (id: string | undefined) => seen.filter((e) => 'messageId' in e && e.messageId === id).map((e) => e.type);
    const pingTypes = about(ping);
    expect(pingTypes.filter((t) => t === 'committed')).toHaveLength(1);
    expect(pingTypes.at(-1)).toBe('committed');
    expect(pingTypes.slice(0, 2)).toEqual(['taken', 'applied']);
    const boomTypes = about(boom);
    expect(boomTypes.filter((t) => t === 'taken').length).toBeGreaterThanOrEqual(1);
    expect(boomTypes).not.toContain('applied');
    expect(boomTypes).not.toContain('committed');
    expect(boomTypes.slice(-2)).toEqual(['failed', 'dead-lettered']);
    // The forwarded send is enqueued by the consumer's commit, then processed.
    const forwarded = seen.find((e) => e.type === 'enqueued' && e.actor === 'sink');
    expect(forwarded).toMatchObject({ action: 'got', id: 'only', path: 'queue' });
    const committed = seen.find((e) => e.type === 'committed' && e.actor === 'relay');
    expect(committed).toMatchObject({ action: 'ping', id: 'r1', path: 'queue', version: 1 });
  });

  it('reports a send processed inline as enqueued inline and committed', async () => {
    const system = await systems();
    const events: InspectionEvent[] = [];
    system.serve(Sink);
    const sink = system.ref(Sink, 'i1');
    await sink.call.got(1); // activates the instance; later sends to it go inline while it is idle
    system.inspect$.subscribe((e) => events.push(e));
    await vi.waitFor(async () => {
      await sink.call.got(1);
      expect(events.some((e) => e.type === 'enqueued' && e.path === 'inline')).toBe(true);
    });
    const inline = events.find((e) => e.type === 'enqueued' && e.path === 'inline')!;
    const id = inline.type === 'enqueued' ? inline.messageId : '';
    expect(events.filter((e) => 'messageId' in e && e.messageId === id).map((e) => e.type)).toEqual(['enqueued', 'committed']);
  });

  it('completes when the system closes', async () => {
    const system = await systems();
    let completed = false;
    system.inspect$.subscribe({ complete: () => (completed = true) });
    await system.close();
    expect(completed).toBe(true);
  });
});
