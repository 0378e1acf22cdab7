/** The three deployment shapes the harness can start. */
export type RedisTopologyName = 'standalone' | 'cluster' | 'sentinel';

/** Where a deployment comes from. */
export type RedisDeploymentSource = 'external' | 'binary' | 'container';

/** A role of one server in a deployment. */
export type RedisNodeRole = 'master' | 'replica' | 'sentinel';

/** One server of a deployment, as plain data. */
export interface RedisNodeAddress {
  readonly host: string;
  readonly port: number;
}

/** One data server of a deployment with its role, as plain data. */
export interface RedisNodeDescription extends RedisNodeAddress {
  readonly role: RedisNodeRole;
}

interface DeploymentBase {
  /** Where it comes from: `external` (env variables), `binary` (spawned `redis-server`), `container`. */
  readonly source: RedisDeploymentSource;
  /** The `redis_version` the servers report (`7.0.15`). */
  readonly redisVersion: string;
}

/** A standalone server, as plain data. */
export interface StandaloneDeployment extends DeploymentBase {
  readonly topology: 'standalone';
  /** `redis://host:port` (with credentials and database when the external `REDIS_URL` had them). */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The one server. */
  readonly nodes: readonly RedisNodeDescription[];
}

/** A cluster, as plain data: every master and replica. */
export interface ClusterDeployment extends DeploymentBase {
  readonly topology: 'cluster';
  /** Every node (3 masters and 3 replicas when the harness started it). */
  readonly nodes: readonly RedisNodeDescription[];
}

/** A sentinel group, as plain data. */
export interface SentinelDeployment extends DeploymentBase {
  readonly topology: 'sentinel';
  /** The sentinels to give a client. */
  readonly sentinels: readonly RedisNodeAddress[];
  /** The monitored master group name. */
  readonly masterName: string;
  /** The master the sentinels agreed on when this description was made. */
  readonly master: RedisNodeAddress;
  /** The data servers (master and replicas) with their roles. */
  readonly nodes: readonly RedisNodeDescription[];
}

/**
 * A deployment as plain, JSON-serialisable data: what the vitest global setup hands to tests through
 * `inject`, and what {@link RedisDeploymentHandle.deployment} returns.
 */
export type RedisDeployment = StandaloneDeployment | ClusterDeployment | SentinelDeployment;

/** A server process of a started deployment, live: `pid` and `role` change with kills and failovers. */
export interface RedisServerNode extends RedisNodeAddress {
  /** The process id, while it runs (`undefined` for external and container servers, or after `kill`). */
  readonly pid: number | undefined;
  /** The role as last observed (refreshed by `waitHealthy()` and `failover()`). */
  readonly role: RedisNodeRole;
  /** Whether the harness believes the process runs (it started it and did not kill it). */
  readonly running: boolean;
  /** The node's working directory (config, `nodes.conf`, log), for spawned servers. */
  readonly directory: string | undefined;
}

/** Anything naming a node: the node itself, `{ host, port }` or the port. */
export type RedisNodeSelector = RedisNodeAddress | number;

/** Options of {@link RedisDeploymentHandle.waitHealthy}. */
export interface WaitHealthyOptions {
  /** Give up after this many milliseconds. @default 60000 */
  readonly timeoutMs?: number;
}

interface HandleBase {
  readonly topology: RedisTopologyName;
  readonly source: RedisDeploymentSource;
  readonly redisVersion: string;
  /** Every server process (data nodes and sentinels), live. */
  readonly servers: readonly RedisServerNode[];
  /** A fresh plain-data description of the deployment. */
  readonly deployment: RedisDeployment;
  /**
   * SIGKILL one server (by its pid) and wait until it exited. The node keeps its port and directory
   * for {@link restart}.
   * @throws {RedisDeploymentError} on an external or container deployment.
   */
  kill(node: RedisNodeSelector): Promise<void>;
  /**
   * Start a killed server again on the same port with the same configuration and wait until it
   * answers `PING`. Call {@link waitHealthy} to wait for the deployment as a whole.
   * @throws {RedisDeploymentError} on an external or container deployment.
   */
  restart(node: RedisNodeSelector): Promise<void>;
  /**
   * Wait until the deployment serves again: standalone answers `PING`; cluster: `cluster_state:ok` on
   * every running node; sentinel: every running sentinel names the same master, which answers as master.
   * @throws {RedisDeploymentError} when it is not healthy after `timeoutMs`.
   */
  waitHealthy(options?: WaitHealthyOptions): Promise<void>;
  /** Stop every server the harness started (SIGTERM, then SIGKILL) and remove its directories. Idempotent. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A started (or external) standalone server. */
export interface StandaloneHandle extends HandleBase {
  readonly topology: 'standalone';
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly deployment: StandaloneDeployment;
}

/** A started (or external) cluster. */
export interface ClusterHandle extends HandleBase {
  readonly topology: 'cluster';
  /** The data nodes, live (`role` as last observed). */
  readonly nodes: readonly RedisServerNode[];
  readonly deployment: ClusterDeployment;
  /** The nodes currently believed to be masters. */
  masters(): RedisServerNode[];
  /** The nodes currently believed to be replicas. */
  replicas(): RedisServerNode[];
  /**
   * Promote a replica of `master` with `CLUSTER FAILOVER` (sent to the replica) and wait until it
   * serves as master and the cluster is healthy. Resolves with the new master.
   */
  failover(master: RedisNodeSelector): Promise<RedisServerNode>;
}

/** A started (or external) sentinel group. */
export interface SentinelHandle extends HandleBase {
  readonly topology: 'sentinel';
  /** The sentinel processes, live. */
  readonly sentinels: readonly RedisServerNode[];
  readonly masterName: string;
  /** The current master as last observed (refreshed by `waitHealthy()` and `failover()`). */
  readonly master: RedisServerNode;
  /** The data nodes (master and replicas), live. */
  readonly nodes: readonly RedisServerNode[];
  readonly deployment: SentinelDeployment;
  /**
   * `SENTINEL FAILOVER <masterName>` and wait until every sentinel names the new master and it serves
   * as master. Resolves with the new master.
   */
  failover(): Promise<RedisServerNode>;
}

/** What {@link startRedis} resolves with. */
export type RedisDeploymentHandle = StandaloneHandle | ClusterHandle | SentinelHandle;

/** Options shared by every topology of {@link startRedis}. */
export interface StartRedisCommonOptions {
  /**
   * Where the deployment may come from, tried in this order.
   * @default ['external', 'binary', 'container']
   */
  readonly sources?: readonly RedisDeploymentSource[];
  /** Give up starting (and waiting for health) after this many milliseconds. @default 60000 */
  readonly startTimeoutMs?: number;
  /** Extra `redis-server` arguments for every data node (`['--maxmemory', '64mb']`). @default [] */
  readonly serverArgs?: readonly string[];
  /** The environment to read `REDIS_URL`, `REDIS_SERVER_BIN`, `PATH`… from. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** {@link startRedis} options for a standalone server. */
export interface StartStandaloneOptions extends StartRedisCommonOptions {
  readonly topology: 'standalone';
}

/** {@link startRedis} options for a cluster of 3 masters and 3 replicas. */
export interface StartClusterOptions extends StartRedisCommonOptions {
  readonly topology: 'cluster';
  /** `cluster-node-timeout`: how long a node may be unreachable before failover starts. @default 3000 */
  readonly nodeTimeoutMs?: number;
}

/** {@link startRedis} options for a sentinel group (master, replica, 3 sentinels). */
export interface StartSentinelOptions extends StartRedisCommonOptions {
  readonly topology: 'sentinel';
  /** The master group name. @default 'mymaster' */
  readonly masterName?: string;
  /** `sentinel down-after-milliseconds`: how long before a silent master is down. @default 3000 */
  readonly downAfterMs?: number;
  /** `sentinel failover-timeout`. @default 10000 */
  readonly failoverTimeoutMs?: number;
}

/** Options of {@link startRedis}. */
export type StartRedisOptions = StartStandaloneOptions | StartClusterOptions | StartSentinelOptions;
