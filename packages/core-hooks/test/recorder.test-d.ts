import { describe, expectTypeOf, it } from 'vitest';
import {
  createOperationRecorder,
  type OperationOutcome,
  type OperationRecorder,
  type OperationTarget,
  type OperationToken,
  type RedisDescription,
  type RedisTelemetryOptions,
} from '../src/index.js';

describe('OperationRecorder types', () => {
  it('takes the telemetry options and any description-like target', () => {
    expectTypeOf(createOperationRecorder).parameter(0).toEqualTypeOf<RedisTelemetryOptions>();
    expectTypeOf<RedisDescription>().toMatchTypeOf<OperationTarget>();
    expectTypeOf(createOperationRecorder).returns.toEqualTypeOf<OperationRecorder>();
  });

  it('hands out opaque tokens that may be undefined', () => {
    expectTypeOf<OperationRecorder['startCommand']>().returns.toEqualTypeOf<OperationToken | undefined>();
    expectTypeOf<OperationRecorder['startBatch']>().returns.toEqualTypeOf<OperationToken | undefined>();
    expectTypeOf<{ id: number }>().not.toMatchTypeOf<OperationToken>();
    expectTypeOf<OperationRecorder['end']>().parameter(0).toEqualTypeOf<OperationToken | undefined>();
  });

  it('accepts an outcome with any subset of its fields', () => {
    expectTypeOf<Record<never, never>>().toMatchTypeOf<OperationOutcome>();
    expectTypeOf<{ error: unknown; peer: { address: string } }>().toMatchTypeOf<OperationOutcome>();
  });
});
