/**
 * Options of `createSystem({ telemetry })`. Providers are typed structurally, so that dgen's
 * public types do not require `@opentelemetry/api` (an optional peer dependency).
 */

/**
 * What dgen asks of a meter provider (an `@opentelemetry/api` MeterProvider).
 *
 * @example
 * ```ts
 * import { MeterProvider } from '@opentelemetry/sdk-metrics';
 * const meterProvider: MeterProviderLike = new MeterProvider({ readers: [reader] });
 * ```
 */
export interface MeterProviderLike {
  getMeter(name: string, version?: string, options?: object): object;
}

/**
 * What dgen asks of a tracer provider (an `@opentelemetry/api` TracerProvider).
 *
 * @example
 * ```ts
 * import { TracerProvider } from '@opentelemetry/sdk-trace';
 * const tracerProvider: TracerProviderLike = new TracerProvider({ spanProcessors: [processor] });
 * ```
 */
export interface TracerProviderLike {
  getTracer(name: string, version?: string, options?: object): object;
}

/**
 * Telemetry of a system (docs/observability.md). By default dgen records through the global
 * providers of `@opentelemetry/api` when that package is installed; without an SDK every
 * instrument is a no-op.
 *
 * @example
 * ```ts
 * const system = await createSystem({ telemetry: { meterProvider, tracerProvider, instanceIds: false } });
 * ```
 */
export interface TelemetryOptions {
  /** Meter provider to record metrics with. Default: the global one (`metrics.getMeterProvider()`). */
  readonly meterProvider?: MeterProviderLike;
  /** Tracer provider to record spans with. Default: the global one (`trace.getTracerProvider()`). */
  readonly tracerProvider?: TracerProviderLike;
  /**
   * Add the instance id (`dgen.actor.id`) to per-definition metrics. Default false: one series
   * per definition, however many instances (an id per series can overwhelm a metrics backend).
   */
  readonly instanceIds?: boolean;
  /** False: record no metrics and no spans (`inspect$` still works). Default true. */
  readonly enabled?: boolean;
}
