import {
  createNoopMeter,
  type Meter,
  type MeterProvider,
  metrics,
  ProxyTracerProvider,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { VERSION } from '../version.js';

/** The scope name of everything core-hooks records. */
export const INSTRUMENTATION_SCOPE = '@redisotel/core-hooks';

/** The no-op tracer provider of this copy of the API: what an unset `ProxyTracerProvider` delegates to. */
const NOOP_TRACER_PROVIDER: TracerProvider = new ProxyTracerProvider().getDelegate();
const NOOP_METER: Meter = createNoopMeter();
/**
 * Where `@opentelemetry/api` 1.x keeps what is registered globally (providers, propagator, logger).
 * While it is absent nothing is registered, which one property read tells.
 */
const GLOBAL_API_KEY = Symbol.for('opentelemetry.js.api.1');

/**
 * Whether a tracer provider is registered globally with `@opentelemetry/api` 1.x (any copy of it), in
 * one property read. Without one, the global tracer is the API's no-op tracer: a building block can
 * skip starting spans altogether.
 */
export function isGlobalTracingRegistered(): boolean {
  return (globalThis as Record<symbol, GlobalRegistry | undefined>)[GLOBAL_API_KEY]?.trace !== undefined;
}

/** What `@opentelemetry/api` 1.x keeps under {@link GLOBAL_API_KEY} (the parts read here). */
interface GlobalRegistry {
  readonly trace?: unknown;
  readonly metrics?: unknown;
}

/** Whether `provider` is a no-op (no SDK behind it), including the global proxy before registration. */
export function isNoopTracerProvider(provider: TracerProvider): boolean {
  const delegate = provider instanceof ProxyTracerProvider ? provider.getDelegate() : provider;
  return delegate === NOOP_TRACER_PROVIDER || delegate.constructor?.name === 'NoopTracerProvider';
}

/** Whether `provider` is a no-op meter provider (the global one before an SDK registers). */
export function isNoopMeterProvider(provider: MeterProvider): boolean {
  return (
    provider.constructor?.name === 'NoopMeterProvider' ||
    provider.getMeter(INSTRUMENTATION_SCOPE, VERSION) === NOOP_METER
  );
}

/**
 * Tracks the tracer and meter providers in use and whether an SDK is behind them, re-checking lazily:
 * an SDK registered after a client was wrapped is picked up at the next command. The check costs a
 * few property reads; the expensive part (getting a tracer, creating instruments) runs only when a
 * provider actually changed.
 */
export class ProviderTracker<Instruments> {
  private lastTraceDelegate: TracerProvider | undefined;
  private lastMeterProvider: MeterProvider | undefined;
  /** The tracer to record with, or `undefined` when tracing is off or no SDK is registered. */
  tracer: Tracer | undefined;
  /** The instruments to record with, or `undefined` when metrics are off or no SDK is registered. */
  instruments: Instruments | undefined;

  constructor(
    private readonly tracerProvider: TracerProvider | undefined,
    private readonly meterProvider: MeterProvider | undefined,
    private readonly tracing: boolean,
    private readonly metricsOn: boolean,
    private readonly createInstruments: (meter: Meter) => Instruments,
    private readonly disposeInstruments: (instruments: Instruments) => void,
  ) {}

  /** The provider spans go to now (the explicit one, else the global one). */
  currentTracerProvider(): TracerProvider {
    return this.tracerProvider ?? trace.getTracerProvider();
  }

  /** The provider metrics go to now (the explicit one, else the global one). */
  currentMeterProvider(): MeterProvider {
    return this.meterProvider ?? metrics.getMeterProvider();
  }

  private handleTracer: [TracerProvider, Tracer] | undefined;
  private handleMeter: [MeterProvider, Meter] | undefined;

  /** The core-hooks tracer of the current provider (cached per provider, for building blocks). */
  scopeTracer(): Tracer {
    const provider = this.currentTracerProvider();
    if (this.handleTracer?.[0] !== provider) {
      this.handleTracer = [provider, provider.getTracer(INSTRUMENTATION_SCOPE, VERSION)];
    }
    return this.handleTracer[1];
  }

  /** The core-hooks meter of the current provider (cached per provider, for building blocks). */
  scopeMeter(): Meter {
    const provider = this.currentMeterProvider();
    if (this.handleMeter?.[0] !== provider) {
      this.handleMeter = [provider, provider.getMeter(INSTRUMENTATION_SCOPE, VERSION)];
    }
    return this.handleMeter[1];
  }

  /** The global registrations seen by the last full check (see {@link refresh}). */
  private seenGlobal: GlobalRegistry | undefined | null = null;
  private seenGlobalTrace: unknown;
  private seenGlobalMetrics: unknown;
  private recording = false;

  /** Re-check the providers; returns whether anything at all would be recorded. */
  refresh(): boolean {
    if (this.tracerProvider === undefined && this.meterProvider === undefined) {
      // Global providers only: the API's registry object and its two entries tell whether anything
      // changed since the last full check (registering or disabling replaces them), in three reads.
      const registry = (globalThis as Record<symbol, GlobalRegistry | undefined>)[GLOBAL_API_KEY];
      if (
        registry === this.seenGlobal &&
        registry?.trace === this.seenGlobalTrace &&
        registry?.metrics === this.seenGlobalMetrics
      ) {
        return this.recording;
      }
      this.seenGlobal = registry;
      this.seenGlobalTrace = registry?.trace;
      this.seenGlobalMetrics = registry?.metrics;
    }
    this.recording = this.check();
    return this.recording;
  }

  private check(): boolean {
    if (this.tracing) {
      const provider = this.currentTracerProvider();
      const delegate = provider instanceof ProxyTracerProvider ? provider.getDelegate() : provider;
      if (delegate !== this.lastTraceDelegate) {
        this.lastTraceDelegate = delegate;
        this.tracer = isNoopTracerProvider(delegate)
          ? undefined
          : provider.getTracer(INSTRUMENTATION_SCOPE, VERSION);
      }
    }
    if (this.metricsOn) {
      const provider = this.currentMeterProvider();
      if (provider !== this.lastMeterProvider) {
        this.lastMeterProvider = provider;
        if (this.instruments !== undefined) this.disposeInstruments(this.instruments);
        this.instruments = isNoopMeterProvider(provider)
          ? undefined
          : this.createInstruments(provider.getMeter(INSTRUMENTATION_SCOPE, VERSION));
      }
    }
    return this.tracer !== undefined || this.instruments !== undefined;
  }
}
