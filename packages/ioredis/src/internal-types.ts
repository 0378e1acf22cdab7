import type { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';

// Structural views of the ioredis internals this adapter touches. They are written by hand (STYLE #13)
// and hold for ioredis 5.x and 6.x; every use of a member that is not in ioredis' public typings is
// commented where it happens.

/** An ioredis `Command` (built/Command.js). */
export interface IoredisCommand {
  readonly name: string;
  args: unknown[];
  /** Set before sending so ioredis publishes no `ioredis:command` event for it (our hooks record it). */
  isTraced: boolean;
  /** Marks a command queued inside MULTI in a pipeline (what `Pipeline#multi` does). */
  inTransaction: boolean;
  readonly promise: Promise<unknown>;
  /**
   * Private cache of the key values ioredis computes from its command table. Preset to the caller's
   * explicit keys, it makes `getSlot()`/`getKeys()` (cluster routing, pipeline slot checks) use them.
   */
  keys?: unknown[];
  transformReply(result: unknown): unknown;
}

export interface IoredisCommandOptions {
  /** `'utf8'` for strings, `null` for Buffers. */
  replyEncoding?: BufferEncoding | null;
  readOnly?: boolean;
}

export type IoredisCommandConstructor = new (
  name: string,
  args?: unknown[],
  options?: IoredisCommandOptions,
) => IoredisCommand;

/** An ioredis `Pipeline`. */
export interface IoredisPipeline {
  sendCommand(command: IoredisCommand): unknown;
  exec(): Promise<Array<[Error | null, unknown]> | null>;
  ping(): unknown;
  /** Node key (`host:port`) a cluster pipeline goes to when its commands name no key. */
  preferKey?: string;
}

/** Options of an ioredis `Redis` that the adapter reads. */
export interface IoredisRedisOptions {
  host?: string;
  port?: number;
  path?: string;
  db?: number;
  keyPrefix?: string;
  sentinels?: Array<{ host?: string; port?: number }> | null;
  name?: string;
  protocol?: 2 | 3;
  replyMapping?: 'legacy' | 'resp3';
  stringNumbers?: boolean;
  enableAutoPipelining?: boolean;
  [option: string]: unknown;
}

/** An ioredis `Redis` (standalone or sentinel-managed). */
export interface IoredisRedis extends EventEmitter {
  readonly options: IoredisRedisOptions;
  readonly status: string;
  readonly isCluster?: boolean;
  readonly stream?: Socket;
  /** The reply context (select, protocol) of the current connection; internal. */
  readonly condition?: { select?: number; protocol?: number; replyMapping?: string } | null;
  sendCommand(command: IoredisCommand, stream?: unknown): Promise<unknown>;
  pipeline(): IoredisPipeline;
  duplicate(override?: Record<string, unknown>): IoredisRedis;
  connect(): Promise<void>;
  disconnect(reconnect?: boolean): void;
  quit(): Promise<unknown>;
  subscribe(...channels: string[]): Promise<unknown>;
  unsubscribe(...channels: string[]): Promise<unknown>;
  psubscribe(...patterns: string[]): Promise<unknown>;
  punsubscribe(...patterns: string[]): Promise<unknown>;
  ssubscribe(...channels: string[]): Promise<unknown>;
  sunsubscribe(...channels: string[]): Promise<unknown>;
  ping(): Promise<unknown>;
}

/** The node routing argument of `Cluster#sendCommand`. */
export interface IoredisClusterNodeTarget {
  slot: number | null;
  redis: IoredisRedis;
}

export interface IoredisClusterOptions {
  redisOptions?: IoredisRedisOptions;
  scaleReads?: unknown;
  natMap?: unknown;
  shardedSubscribers?: boolean;
  keyPrefix?: string;
  enableAutoPipelining?: boolean;
  [option: string]: unknown;
}

/** An ioredis `Cluster`. */
export interface IoredisCluster extends EventEmitter {
  readonly isCluster: true;
  readonly options: IoredisClusterOptions;
  readonly status: string;
  readonly startupNodes: unknown[];
  /** Slot → node keys (`host:port`), master first. */
  readonly slots: Array<string[] | undefined>;
  nodes(role?: 'all' | 'master' | 'slave'): IoredisRedis[];
  sendCommand(command: IoredisCommand, stream?: unknown, node?: IoredisClusterNodeTarget): Promise<unknown>;
  pipeline(): IoredisPipeline;
  duplicate(startupNodes?: unknown[], options?: Record<string, unknown>): IoredisCluster;
  connect(): Promise<void>;
  disconnect(reconnect?: boolean): void;
  quit(): Promise<unknown>;
  subscribe(...channels: string[]): Promise<unknown>;
  unsubscribe(...channels: string[]): Promise<unknown>;
  psubscribe(...patterns: string[]): Promise<unknown>;
  punsubscribe(...patterns: string[]): Promise<unknown>;
  ssubscribe(...channels: string[]): Promise<unknown>;
  sunsubscribe(...channels: string[]): Promise<unknown>;
}

export type IoredisAny = IoredisRedis | IoredisCluster;

/** What `fromIoredis` found out about the client it was given. */
export interface DetectedClient {
  readonly kind: 'standalone' | 'cluster' | 'sentinel';
  readonly client: IoredisAny;
  /** The `Command` class of the client's own copy of ioredis. */
  readonly Command: IoredisCommandConstructor;
  /** The installed ioredis version of that copy, `'unknown'` when it cannot be read. */
  readonly version: string;
}
