import type { Attributes } from '@opentelemetry/api';
import type {
  CollectedHistogramPoint,
  CollectedNumberPoint,
  ReadableSpan,
  TelemetryCapture,
} from '@redisotel/testing';
import { expect } from 'vitest';

/** Seconds between a span's start and end. */
export function spanSeconds(span: ReadableSpan): number {
  return span.duration[0] + span.duration[1] / 1e9;
}

/** The point whose attributes include all of `attributes`. */
export function pointWith<P extends { readonly attributes: Attributes }>(
  points: readonly P[],
  attributes: Attributes,
): P | undefined {
  return points.find((point) =>
    Object.entries(attributes).every(([key, value]) => point.attributes[key] === value),
  );
}

/** The histogram points of `name` collected so far (none when the metric has no data). */
export async function histogramPoints(
  capture: TelemetryCapture,
  name: string,
): Promise<readonly CollectedHistogramPoint[]> {
  const metric = (await capture.collectMetrics())[name];
  if (metric === undefined) return [];
  expect(metric.kind).toBe('histogram');
  return metric.points as readonly CollectedHistogramPoint[];
}

/** The only ended span with this name. */
export function onlySpan(capture: TelemetryCapture, name: string): ReadableSpan {
  const spans = capture.findSpans(name);
  expect(spans, `spans named ${name}: ${capture.spans().map((span) => span.name)}`).toHaveLength(1);
  return spans[0]!;
}

/** The points of a counter or up-down counter `name` collected so far. */
export async function numberPoints(
  capture: TelemetryCapture,
  name: string,
): Promise<readonly CollectedNumberPoint[]> {
  const metric = await capture.metric(name);
  expect(metric.kind).not.toBe('histogram');
  return metric.points as readonly CollectedNumberPoint[];
}
