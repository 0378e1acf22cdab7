import type { CreateRedisLikeOptions, RedisTelemetryOptions } from '@redisotel/core-hooks';

/**
 * What `fromIoredis` and `instrumentIoredis` accept: an ioredis `Redis` (standalone, or with
 * `sentinels` + `name`) or `Cluster`, from ioredis 5.x or 6.x. Written structurally so that both
 * majors' classes fit without this package's types depending on one of them.
 */
export interface IoredisClient {
  /** The client's options (`Redis#options` / `Cluster#options`). */
  readonly options: object;
  /** The connection status (`wait`, `connecting`, `ready`, `end`…). */
  readonly status: string;
  /** ioredis' low-level send. */
  sendCommand(...args: never[]): unknown;
  /** ioredis' pipeline factory. */
  pipeline(...args: never[]): unknown;
  /** ioredis' duplicate (used for the subscriber connection). */
  duplicate(...args: never[]): unknown;
}

/** Options of {@link fromIoredis}: telemetry options and hooks, see `@redisotel/core-hooks`. */
export type FromIoredisOptions = CreateRedisLikeOptions;

/** Options of {@link instrumentIoredis}. */
export interface InstrumentIoredisOptions extends RedisTelemetryOptions {
  /**
   * Group the commands of one ioredis pipeline (`client.pipeline()…exec()`) into one `PIPELINE` span,
   * as `fromIoredis` does. ioredis publishes no pipeline event, so the grouping is inferred (see the
   * README): `false` records one span per pipelined command instead.
   * @default true
   */
  readonly groupPipelines?: boolean;
}

/** What {@link instrumentIoredis} returns. */
export interface IoredisInstrumentation {
  /** Stop recording: unsubscribes from ioredis' channels. Calling it again does nothing. */
  disable(): void;
}
