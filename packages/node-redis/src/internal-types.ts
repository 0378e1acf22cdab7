/**
 * The parts of node-redis (`redis` 5 and 6) the adapter touches, written structurally so that no
 * client type leaks into our public API and both majors (different module instances) fit.
 * Never re-exported from `index.ts`.
 */

/** node-redis command options (`CommandOptions` in `@redis/client`). */
export interface NodeRedisCommandOptions {
  typeMapping?: Record<number, unknown>;
  chainId?: symbol;
  timeout?: number | undefined;
  abortSignal?: AbortSignal;
}

/** node-redis pub/sub listener: `(message, channel)`. */
export type NodeRedisPubSubListener = (message: string, channel: string) => unknown;

/** The EventEmitter surface shared by all three client kinds. */
export interface NodeRedisEmitter {
  on(event: string, listener: (...args: never[]) => void): unknown;
  off(event: string, listener: (...args: never[]) => void): unknown;
}

/** Pub/sub methods shared by the three kinds. */
export interface NodeRedisPubSub {
  subscribe(channels: string | string[], listener: NodeRedisPubSubListener): Promise<void>;
  unsubscribe(channels?: string | string[], listener?: NodeRedisPubSubListener): Promise<void>;
  pSubscribe(patterns: string | string[], listener: NodeRedisPubSubListener): Promise<void>;
  pUnsubscribe(patterns?: string | string[], listener?: NodeRedisPubSubListener): Promise<void>;
  sSubscribe(channels: string | string[], listener: NodeRedisPubSubListener): Promise<void>;
  sUnsubscribe(channels?: string | string[], listener?: NodeRedisPubSubListener): Promise<void>;
}

/** `createClient()` — a standalone `RedisClient`. */
export interface NodeRedisStandalone extends NodeRedisEmitter, NodeRedisPubSub {
  sendCommand(args: (string | Buffer)[], options?: NodeRedisCommandOptions): Promise<unknown>;
  duplicate(overrides?: Record<string, unknown>): NodeRedisStandalone;
  withTypeMapping(typeMapping: Record<number, unknown>): NodeRedisStandalone;
  withCommandOptions(options: NodeRedisCommandOptions): NodeRedisStandalone;
  connect(): Promise<unknown>;
  destroy(): void;
  close?(): Promise<void>;
  readonly isOpen: boolean;
  readonly isReady: boolean;
  readonly options?: NodeRedisClientOptions;
  readonly _clientId?: string;
}

/** What we read of `RedisClientOptions`. */
export interface NodeRedisClientOptions {
  url?: string;
  socket?: { host?: string; port?: number; path?: string; tls?: boolean };
  database?: number;
  RESP?: 2 | 3;
  commandOptions?: { timeout?: number };
}

/** A node of `cluster.slots[n].master`, `cluster.masters`, `cluster.replicas`. */
export interface NodeRedisShardNode {
  id: string;
  host: string;
  port: number;
  address: string;
}

/** `createCluster()` — a `RedisCluster`. */
export interface NodeRedisCluster extends NodeRedisEmitter, NodeRedisPubSub {
  sendCommand(
    firstKey: string | Buffer | undefined,
    isReadonly: boolean | undefined,
    args: (string | Buffer)[],
    options?: NodeRedisCommandOptions,
  ): Promise<unknown>;
  withTypeMapping(typeMapping: Record<number, unknown>): NodeRedisCluster;
  nodeClient(node: NodeRedisShardNode): NodeRedisStandalone | Promise<NodeRedisStandalone>;
  readonly slots: readonly ({ master: NodeRedisShardNode; replicas: NodeRedisShardNode[] } | undefined)[];
  readonly masters: readonly NodeRedisShardNode[];
  readonly replicas: readonly NodeRedisShardNode[];
  readonly isOpen: boolean;
  readonly _options?: {
    rootNodes?: readonly { url?: string; socket?: { host?: string; port?: number } }[];
    defaults?: NodeRedisClientOptions;
    RESP?: 2 | 3;
    commandOptions?: { timeout?: number };
  };
}

/** A lease of `sentinel.use(fn)`. */
export interface NodeRedisSentinelLease {
  sendCommand(
    isReadonly: boolean | undefined,
    args: (string | Buffer)[],
    options?: NodeRedisCommandOptions,
  ): Promise<unknown>;
}

/** `createSentinel()` — a `RedisSentinel`. */
export interface NodeRedisSentinel extends NodeRedisEmitter, NodeRedisPubSub {
  sendCommand(
    isReadonly: boolean | undefined,
    args: (string | Buffer)[],
    options?: NodeRedisCommandOptions,
  ): Promise<unknown>;
  withTypeMapping(typeMapping: Record<number, unknown>): NodeRedisSentinel;
  use<T>(fn: (lease: NodeRedisSentinelLease) => Promise<T>): Promise<T>;
  getMasterNode(): { host: string; port: number } | undefined;
  getSentinelNode(): { host: string; port: number } | undefined;
  getReplicaNodes(): Map<{ host: string; port: number }, number>;
  readonly isOpen: boolean;
  readonly isReady: boolean;
  readonly commandOptions?: { timeout?: number };
}

/** The three kinds, tagged. */
export type ClientHandle =
  | { readonly kind: 'standalone'; readonly client: NodeRedisStandalone }
  | { readonly kind: 'cluster'; readonly client: NodeRedisCluster }
  | { readonly kind: 'sentinel'; readonly client: NodeRedisSentinel };
