import type { Observable } from 'rxjs';
import { filter } from 'rxjs';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { describe, expectTypeOf, it } from 'vitest';
import { createSystem, type InspectionEvent, type InspectionEventType, type System, type TelemetryOptions } from '../../src/index.js';

declare const system: System;

describe('inspect$ types', () => {
  it('is an Observable of the lifecycle events, narrowed by type', () => {
    expectTypeOf(system.inspect$).toEqualTypeOf<Observable<InspectionEvent>>();
    expectTypeOf<InspectionEventType>().toEqualTypeOf<'enqueued' | 'taken' | 'applied' | 'committed' | 'failed' | 'dead-lettered'>();
    system.inspect$.pipe(filter((e): e is Extract<InspectionEvent, { type: 'committed' }> => e.type === 'committed')).subscribe((e) => {
      expectTypeOf(e.version).toEqualTypeOf<number>();
      expectTypeOf(e.path).toEqualTypeOf<'queue' | 'inline'>();
    });
    system.inspect$.subscribe((e) => {
      if (e.type === 'failed') expectTypeOf(e.policy).toEqualTypeOf<'dead-letter' | 'halt'>();
      if (e.type === 'taken') expectTypeOf(e.attempt).toEqualTypeOf<number>();
      // @ts-expect-error only 'committed' carries a version
      if (e.type === 'applied') void e.version;
    });
  });

  it('takes the SDK providers as telemetry options', () => {
    expectTypeOf(createSystem).toBeCallableWith({ telemetry: { meterProvider: new MeterProvider(), tracerProvider: new TracerProvider(), instanceIds: true } });
    expectTypeOf<TelemetryOptions['instanceIds']>().toEqualTypeOf<boolean | undefined>();
    // @ts-expect-error a provider must have getMeter
    void createSystem({ telemetry: { meterProvider: {} } });
  });
});
