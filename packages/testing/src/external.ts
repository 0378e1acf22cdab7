import { RedisDeploymentError } from './errors.js';
import { pairs, parseClusterNodes, parseInfo } from './info.js';
import { connectResp, type RespArgument, type RespReply, withTimeout } from './resp.js';
import { selectorPort, timeoutOf } from './spawned-deployment.js';
import type {
  ClusterDeployment,
  ClusterHandle,
  RedisDeploymentHandle,
  RedisDeploymentSource,
  RedisNodeAddress,
  RedisNodeDescription,
  RedisNodeRole,
  RedisNodeSelector,
  RedisServerNode,
  RedisTopologyName,
  SentinelDeployment,
  SentinelHandle,
  StandaloneDeployment,
  StandaloneHandle,
  WaitHealthyOptions,
} from './types.js';
import { waitUntil } from './wait.js';

type Env = Readonly<Record<string, string | undefined>>;

interface Credentials {
  readonly username?: string;
  readonly password?: string;
  readonly database?: number;
}

async function send(
  node: RedisNodeAddress,
  args: readonly RespArgument[],
  credentials: Credentials = {},
  timeoutMs = 5000,
): Promise<RespReply> {
  const connection = await connectResp({
    host: node.host,
    port: node.port,
    connectTimeoutMs: timeoutMs,
    ...credentials,
  });
  try {
    return await withTimeout(
      connection.command(args),
      timeoutMs,
      `${String(args[0])} on ${node.host}:${node.port}`,
    );
  } finally {
    connection.destroy();
  }
}

/** Parse `host:port,host:port`. @internal */
export function parseNodeList(variable: string, value: string): RedisNodeAddress[] {
  const nodes = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => {
      const colon = entry.lastIndexOf(':');
      const host = colon > 0 ? entry.slice(0, colon).replace(/^\[|\]$/g, '') : '';
      const port = Number(entry.slice(colon + 1));
      if (colon <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
        throw new RangeError(
          `${variable} must be a comma-separated host:port list, received ${JSON.stringify(value)}`,
        );
      }
      return { host, port };
    });
  if (nodes.length === 0) throw new RangeError(`${variable} names no node: ${JSON.stringify(value)}`);
  return nodes;
}

/** A server the harness does not own: no pid, no fault controls. */
class RemoteNode implements RedisServerNode {
  readonly pid = undefined;
  readonly running = true;
  readonly directory = undefined;
  constructor(
    readonly host: string,
    readonly port: number,
    public role: RedisNodeRole,
  ) {}
  toJSON(): RedisNodeDescription {
    return { host: this.host, port: this.port, role: this.role };
  }
}

/** What external and container deployments share: fault controls throw. @internal */
export abstract class RemoteDeployment {
  abstract readonly source: RedisDeploymentSource;
  abstract readonly servers: readonly RedisServerNode[];

  private unsupported(what: string): Promise<never> {
    const owner =
      this.source === 'external'
        ? 'external (REDIS_URL / REDIS_CLUSTER_NODES / REDIS_SENTINEL_NODES)'
        : `a ${this.source}`;
    return Promise.reject(
      new RedisDeploymentError(
        `${what} needs servers started by @redisotel/testing from a redis-server binary; this deployment is ${owner}, whose processes it does not own. For fault tests, start one with startRedis({ topology, sources: ['binary'] }).`,
      ),
    );
  }

  kill(selector: RedisNodeSelector): Promise<void> {
    selectorPort(selector);
    return this.unsupported('kill()');
  }

  restart(selector: RedisNodeSelector): Promise<void> {
    selectorPort(selector);
    return this.unsupported('restart()');
  }

  failover(_selector?: RedisNodeSelector): Promise<RedisServerNode> {
    return this.unsupported('failover()');
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/** A standalone server the harness does not own (external, or a container). @internal */
export class RemoteStandalone extends RemoteDeployment implements StandaloneHandle {
  readonly topology = 'standalone' as const;
  readonly servers: readonly RedisServerNode[];

  constructor(
    readonly source: RedisDeploymentSource,
    readonly url: string,
    readonly host: string,
    readonly port: number,
    readonly redisVersion: string,
    private readonly credentials: Credentials,
    private readonly onStop?: () => Promise<void>,
  ) {
    super();
    this.servers = [new RemoteNode(host, port, 'master')];
  }

  get deployment(): StandaloneDeployment {
    return {
      topology: 'standalone',
      source: this.source,
      redisVersion: this.redisVersion,
      url: this.url,
      host: this.host,
      port: this.port,
      nodes: [{ host: this.host, port: this.port, role: 'master' }],
    };
  }

  async waitHealthy(options?: WaitHealthyOptions): Promise<void> {
    await waitUntil(`${this.host}:${this.port} answering PING`, Date.now() + timeoutOf(options), async () =>
      (await send(this, ['PING'], this.credentials)) === 'PONG' ? undefined : 'no PONG',
    );
  }

  override async stop(): Promise<void> {
    await this.onStop?.();
  }
}

class ExternalCluster extends RemoteDeployment implements ClusterHandle {
  readonly topology = 'cluster' as const;
  readonly source = 'external' as const;

  constructor(
    readonly nodes: readonly RemoteNode[],
    readonly redisVersion: string,
  ) {
    super();
  }

  get servers(): readonly RedisServerNode[] {
    return this.nodes;
  }

  masters(): RedisServerNode[] {
    return this.nodes.filter((node) => node.role === 'master');
  }

  replicas(): RedisServerNode[] {
    return this.nodes.filter((node) => node.role === 'replica');
  }

  get deployment(): ClusterDeployment {
    return {
      topology: 'cluster',
      source: 'external',
      redisVersion: this.redisVersion,
      nodes: this.nodes.map((node) => node.toJSON()),
    };
  }

  async waitHealthy(options?: WaitHealthyOptions): Promise<void> {
    await waitUntil('external cluster healthy', Date.now() + timeoutOf(options), async () => {
      for (const node of this.nodes) {
        const info = parseInfo(await send(node, ['CLUSTER', 'INFO']));
        if (info.cluster_state !== 'ok')
          return `${node.host}:${node.port} cluster_state:${info.cluster_state}`;
      }
      return undefined;
    });
  }
}

class ExternalSentinel extends RemoteDeployment implements SentinelHandle {
  readonly topology = 'sentinel' as const;
  readonly source = 'external' as const;

  constructor(
    readonly sentinels: readonly RemoteNode[],
    readonly masterName: string,
    public master: RemoteNode,
    readonly nodes: readonly RemoteNode[],
    readonly redisVersion: string,
  ) {
    super();
  }

  get servers(): readonly RedisServerNode[] {
    return [...this.nodes, ...this.sentinels];
  }

  get deployment(): SentinelDeployment {
    return {
      topology: 'sentinel',
      source: 'external',
      redisVersion: this.redisVersion,
      masterName: this.masterName,
      master: { host: this.master.host, port: this.master.port },
      sentinels: this.sentinels.map((node) => ({ host: node.host, port: node.port })),
      nodes: this.nodes.map((node) => node.toJSON()),
    };
  }

  override failover(): Promise<RedisServerNode> {
    return super.failover();
  }

  async waitHealthy(options?: WaitHealthyOptions): Promise<void> {
    await waitUntil('external sentinel group healthy', Date.now() + timeoutOf(options), async () => {
      const addresses = new Set<string>();
      for (const sentinel of this.sentinels) {
        const reply = await send(sentinel, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.masterName]);
        if (!Array.isArray(reply)) return `sentinel ${sentinel.port} knows no master ${this.masterName}`;
        addresses.add(`${String(reply[0])}:${String(reply[1])}`);
      }
      return addresses.size === 1 ? undefined : `sentinels disagree: ${[...addresses].join(' vs ')}`;
    });
  }
}

function roleOf(flags: readonly string[]): RedisNodeRole {
  return flags.includes('master') ? 'master' : 'replica';
}

async function versionOf(node: RedisNodeAddress, credentials: Credentials = {}): Promise<string> {
  return parseInfo(await send(node, ['INFO', 'server'], credentials)).redis_version ?? 'unknown';
}

/**
 * The deployment named by env variables for `topology`, checked to answer; `undefined` when the
 * variables are not set.
 * @throws {RedisDeploymentError} when they are set but the deployment does not answer.
 * @internal
 */
export async function externalDeployment(
  topology: RedisTopologyName,
  env: Env,
  deadline: number,
): Promise<RedisDeploymentHandle | undefined> {
  const fail = (what: string, error: unknown): never => {
    throw new RedisDeploymentError(
      `${what} is set but the deployment does not answer: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  };
  const timeoutMs = Math.max(1000, Math.min(10_000, deadline - Date.now()));
  if (topology === 'standalone') {
    const url = env.REDIS_URL;
    if (!url) return undefined;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch (error) {
      throw new RangeError(`REDIS_URL must be a redis://host:port URL, received ${JSON.stringify(url)}`, {
        cause: error,
      });
    }
    if (parsed.protocol !== 'redis:') {
      throw new RangeError(
        `REDIS_URL must use redis:// (TLS is not supported by the harness), received ${url}`,
      );
    }
    const host = parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
    const port = parsed.port === '' ? 6379 : Number(parsed.port);
    const database = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : undefined;
    const credentials: Credentials = {
      ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
      ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
      ...(database !== undefined && Number.isInteger(database) ? { database } : {}),
    };
    try {
      const version = await versionOf({ host, port }, credentials);
      return new RemoteStandalone('external', url, host, port, version, credentials);
    } catch (error) {
      return fail('REDIS_URL', error);
    }
  }
  if (topology === 'cluster') {
    const list = env.REDIS_CLUSTER_NODES;
    if (!list) return undefined;
    const seeds = parseNodeList('REDIS_CLUSTER_NODES', list);
    let lastError: unknown;
    for (const seed of seeds) {
      try {
        const lines = parseClusterNodes(await send(seed, ['CLUSTER', 'NODES'], {}, timeoutMs)).filter(
          (line) => !line.flags.includes('fail') && !line.flags.includes('noaddr'),
        );
        const nodes = lines.map(
          (line) => new RemoteNode(line.host === '' ? seed.host : line.host, line.port, roleOf(line.flags)),
        );
        return new ExternalCluster(nodes, await versionOf(seed));
      } catch (error) {
        lastError = error;
      }
    }
    return fail('REDIS_CLUSTER_NODES', lastError);
  }
  const list = env.REDIS_SENTINEL_NODES;
  if (!list) return undefined;
  const masterName = env.REDIS_SENTINEL_MASTER;
  if (!masterName) {
    throw new RangeError(
      'REDIS_SENTINEL_NODES is set but REDIS_SENTINEL_MASTER (the master group name) is not',
    );
  }
  const sentinels = parseNodeList('REDIS_SENTINEL_NODES', list);
  let lastError: unknown;
  for (const sentinel of sentinels) {
    try {
      const address = await send(
        sentinel,
        ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName],
        {},
        timeoutMs,
      );
      if (!Array.isArray(address)) throw new Error(`sentinel knows no master named ${masterName}`);
      const master = new RemoteNode(String(address[0]), Number(address[1]), 'master');
      const replies = await send(sentinel, ['SENTINEL', 'REPLICAS', masterName], {}, timeoutMs);
      const replicas = (Array.isArray(replies) ? replies.map(pairs) : []).map(
        (entry) => new RemoteNode(entry.ip ?? '', Number(entry.port), 'replica'),
      );
      return new ExternalSentinel(
        sentinels.map((node) => new RemoteNode(node.host, node.port, 'sentinel')),
        masterName,
        master,
        [master, ...replicas],
        await versionOf(master).catch(() => 'unknown'),
      );
    } catch (error) {
      lastError = error;
    }
  }
  return fail('REDIS_SENTINEL_NODES', lastError);
}
