import { describeValue } from '../script.js';
import type { RedisTelemetryOptions } from '../types.js';
import type { KeyMode } from './sanitize.js';

/** {@link RedisTelemetryOptions} checked once, with defaults applied and command lists upper-cased. */
export interface ResolvedTelemetryOptions {
  readonly tracing: boolean;
  readonly metrics: boolean;
  readonly includeCommands: ReadonlySet<string> | undefined;
  readonly excludeCommands: ReadonlySet<string> | undefined;
  readonly requireParentSpan: boolean;
  readonly keys: KeyMode;
  readonly maxQueryTextLength: number;
  readonly queryText: boolean;
  readonly dbStatementSerializer: RedisTelemetryOptions['dbStatementSerializer'];
  readonly batchCommandSpans: boolean;
  readonly responseHook: RedisTelemetryOptions['responseHook'];
}

const KEY_MODES: readonly KeyMode[] = ['keep', 'hash', 'drop'];

/**
 * Validate telemetry options: a wrong type throws `TypeError`, an out-of-range value `RangeError`,
 * both naming the option and the value received.
 */
export function resolveTelemetryOptions(options: RedisTelemetryOptions): ResolvedTelemetryOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`telemetry options must be an object, received ${describeValue(options)}`);
  }
  const maxQueryTextLength = options.maxQueryTextLength ?? 1000;
  if (typeof maxQueryTextLength !== 'number') {
    throw new TypeError(
      `"maxQueryTextLength" must be a number, received ${describeValue(options.maxQueryTextLength)}`,
    );
  }
  if (!Number.isInteger(maxQueryTextLength) || maxQueryTextLength < 1) {
    throw new RangeError(
      `"maxQueryTextLength" must be a positive integer, received ${describeValue(maxQueryTextLength)}`,
    );
  }
  const keys = options.keys ?? 'keep';
  if (!KEY_MODES.includes(keys)) {
    throw new TypeError(`"keys" must be 'keep', 'hash' or 'drop', received ${describeValue(keys)}`);
  }
  checkProvider(options.tracerProvider, 'tracerProvider', 'getTracer');
  checkProvider(options.meterProvider, 'meterProvider', 'getMeter');
  return {
    tracing: booleanOption(options.tracing, 'tracing', true),
    metrics: booleanOption(options.metrics, 'metrics', true),
    includeCommands: commandList(options.includeCommands, 'includeCommands'),
    excludeCommands: commandList(options.excludeCommands, 'excludeCommands'),
    requireParentSpan: booleanOption(options.requireParentSpan, 'requireParentSpan', false),
    keys,
    maxQueryTextLength,
    queryText: booleanOption(options.queryText, 'queryText', true),
    dbStatementSerializer: functionOption(options.dbStatementSerializer, 'dbStatementSerializer'),
    batchCommandSpans: booleanOption(options.batchCommandSpans, 'batchCommandSpans', false),
    responseHook: functionOption(options.responseHook, 'responseHook'),
  };
}

function booleanOption(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw new TypeError(`"${name}" must be a boolean, received ${describeValue(value)}`);
  }
  return value;
}

function functionOption<T>(value: T, name: string): T {
  if (value !== undefined && typeof value !== 'function') {
    throw new TypeError(`"${name}" must be a function, received ${describeValue(value)}`);
  }
  return value;
}

function commandList(value: unknown, name: string): ReadonlySet<string> | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) {
    throw new TypeError(`"${name}" must be an array of command names, received ${describeValue(value)}`);
  }
  const names = new Set<string>();
  for (const entry of value) {
    if (typeof entry !== 'string' || entry.length === 0) {
      throw new TypeError(`"${name}" must contain non-empty command names, received ${describeValue(entry)}`);
    }
    names.add(entry.toUpperCase());
  }
  return names;
}

function checkProvider(value: unknown, name: string, method: string): void {
  if (value === undefined) return;
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof (value as Record<string, unknown>)[method] !== 'function'
  ) {
    throw new TypeError(`"${name}" must have a ${method}() method, received ${describeValue(value)}`);
  }
}
