/**
 * `GET /metrics` on the inspector: the Prometheus text of the application's OpenTelemetry metrics,
 * when it hands the inspector an endpoint such as `@opentelemetry/exporter-prometheus`'s
 * PrometheusExporter (created with `preventServerStart: true`, so that it needs no port of its own).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * What serves the metrics: a PrometheusExporter, or anything with its request handler.
 *
 * @example
 * ```ts
 * import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
 * const exporter = new PrometheusExporter({ preventServerStart: true });
 * metrics.setGlobalMeterProvider(new MeterProvider({ readers: [exporter] }));
 * const inspector = await system.inspector({ metrics: exporter }); // GET /metrics?token=…
 * ```
 */
export interface MetricsEndpoint {
  getMetricsRequestHandler(req: IncomingMessage, res: ServerResponse): void;
}

/** Answers `GET /metrics` (already authorized) through the endpoint. */
export function serveMetrics(endpoint: MetricsEndpoint, req: IncomingMessage, res: ServerResponse): void {
  endpoint.getMetricsRequestHandler(req, res);
}
