/**
 * `GET /metrics` on the inspector: the Prometheus text of the system's metrics through the OTel
 * Prometheus exporter, behind the inspector's token; absent when no endpoint was given.
 */
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { createSystem, memory, type Inspector, type System } from '../../src/index.js';
import { Sink } from './actors.js';

let system: System | undefined;
let inspector: Inspector | undefined;
let provider: MeterProvider | undefined;
afterEach(async () => {
  await inspector?.close();
  await system?.close();
  await provider?.shutdown();
  inspector = system = provider = undefined;
});

describe('inspector /metrics', () => {
  it('serves the Prometheus text of the metrics, with the token only', async () => {
    const exporter = new PrometheusExporter({ preventServerStart: true });
    provider = new MeterProvider({ readers: [exporter] });
    system = await createSystem({ backend: memory(), telemetry: { meterProvider: provider } });
    system.serve(Sink);
    await system.ref(Sink, 'a').call.got(2);
    inspector = await system.inspector({ metrics: exporter });
    const base = `http://127.0.0.1:${inspector.port}`;
    const res = await fetch(`${base}/metrics?token=${inspector.token}`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^dgen_messages_processed\w*\{[^}]*dgen_actor="sink"[^}]*\} 1/m);
    expect(text).toContain('dgen_message_wait');
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
  });

  it('has no /metrics without an endpoint', async () => {
    system = await createSystem({ backend: memory() });
    inspector = await system.inspector();
    const res = await fetch(`http://127.0.0.1:${inspector.port}/metrics?token=${inspector.token}`);
    expect(res.status).toBe(404);
  });
});
