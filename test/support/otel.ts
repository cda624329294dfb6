import { MeterProvider, MetricReader, DataPointType, type MetricData } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';

/** A metric reader that collects on demand. */
class PullReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** One data point of a collected instrument: its attributes and its value (a sum, or a histogram's count and sum). */
export interface Point {
  readonly attributes: Record<string, unknown>;
  readonly value: number;
  readonly count?: number;
}

/**
 * An OpenTelemetry SDK of its own for one system (nothing registered globally): an in-memory
 * metric reader and span exporter.
 */
export function testTelemetry() {
  const reader = new PullReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  return {
    meterProvider,
    tracerProvider,
    /** Every instrument's data points, by instrument name, with its unit. */
    async metrics(): Promise<Map<string, { unit: string; points: Point[] }>> {
      const { resourceMetrics } = await reader.collect();
      const out = new Map<string, { unit: string; points: Point[] }>();
      for (const scope of resourceMetrics.scopeMetrics) for (const m of scope.metrics) out.set(m.descriptor.name, { unit: m.descriptor.unit, points: pointsOf(m) });
      return out;
    },
    spans(): ReadableSpan[] {
      return exporter.getFinishedSpans();
    },
    async close(): Promise<void> {
      await meterProvider.shutdown();
      await tracerProvider.shutdown();
    },
  };
}

function pointsOf(m: MetricData): Point[] {
  return m.dataPoints.map((p) => {
    const attributes = p.attributes as Record<string, unknown>;
    if (m.dataPointType === DataPointType.HISTOGRAM) {
      const h = p.value as { count: number; sum?: number };
      return { attributes, value: h.sum ?? 0, count: h.count };
    }
    return { attributes, value: p.value as number };
  });
}

/** The total of an instrument's points whose attributes include `where`. */
export function total(metrics: Map<string, { points: Point[] }>, name: string, where: Record<string, unknown> = {}, field: 'value' | 'count' = 'value'): number {
  const points = metrics.get(name)?.points ?? [];
  return points.filter((p) => Object.entries(where).every(([k, v]) => p.attributes[k] === v)).reduce((s, p) => s + (p[field] ?? 0), 0);
}
