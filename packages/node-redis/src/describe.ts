import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import type { RedisDescription, RedisNode } from '@redisotel/core-hooks';
import type {
  ClientHandle,
  NodeRedisCluster,
  NodeRedisSentinel,
  NodeRedisStandalone,
} from './internal-types.js';
import { TEXT_MAPPING } from './reply.js';
import { suppressChannelTracing } from './suppress.js';
import { VERSION } from './version.js';

/** The adapter package name, as `describe().adapter.name`. */
export const ADAPTER_NAME = '@redisotel/node-redis';
/** The client library name, as `describe().library.name` (the npm package users install). */
export const LIBRARY_NAME = 'redis';
/** The first node-redis release that publishes `diagnostics_channel` events. */
export const FIRST_VERSION_WITH_CHANNELS = '5.12.0';

/** What we learnt about the installed `@redis/client` a client object was made by. */
export interface LibraryInfo {
  /** `@redis/client` version, which `redis` releases in lockstep with. `unknown` if not found. */
  readonly version: string;
  /** The installed client publishes `node-redis:*` diagnostics channels. */
  readonly diagnosticsChannel: boolean;
}

const MODULE_SUFFIXES = ['client', 'cluster', 'sentinel'].map((kind) =>
  join('@redis', 'client', 'dist', 'lib', kind, 'index.js'),
);
const libraryCache = new WeakMap<object, LibraryInfo>();

/**
 * Find the `@redis/client` copy that built `client` by walking the CommonJS module cache (node-redis
 * is CommonJS, so even an ESM `import` loads it there) and testing `instanceof` against each loaded
 * client class; then read that copy's `package.json`. Works with several copies side by side (redis 5
 * and 6 in one process). Falls back to resolving `@redis/client` / `redis` from the working directory.
 */
export function detectLibrary(client: object): LibraryInfo {
  const prototype = Object.getPrototypeOf(client) as object | null;
  const cached = prototype ? libraryCache.get(prototype) : undefined;
  if (cached) return cached;
  let info: LibraryInfo | undefined;
  const require = createRequire(join(process.cwd(), 'noop.js'));
  try {
    for (const [file, module] of Object.entries(require.cache)) {
      if (module === undefined || !MODULE_SUFFIXES.some((suffix) => file.endsWith(sep + suffix))) continue;
      const clientClass = (module.exports as { default?: unknown } | undefined)?.default;
      if (typeof clientClass !== 'function' || !(client instanceof clientClass)) continue;
      // …/@redis/client/dist/lib/<kind>/index.js → …/@redis/client
      const packageDir = dirname(dirname(dirname(dirname(file))));
      info = readLibrary(packageDir);
      break;
    }
  } catch {
    // The module cache is an implementation detail of Node; never fail the adapter over it.
  }
  if (info === undefined) {
    for (const name of ['@redis/client/package.json', 'redis/package.json']) {
      try {
        info = readLibrary(dirname(require.resolve(name)));
        break;
      } catch {
        // not resolvable from here
      }
    }
  }
  info ??= { version: 'unknown', diagnosticsChannel: false };
  if (prototype) libraryCache.set(prototype, info);
  return info;
}

function readLibrary(packageDir: string): LibraryInfo {
  const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version?: unknown };
  const version = typeof pkg.version === 'string' ? pkg.version : 'unknown';
  const tracing = join(packageDir, 'dist', 'lib', 'client', 'tracing.js');
  return {
    version,
    diagnosticsChannel: existsSync(tracing) || compareVersions(version, FIRST_VERSION_WITH_CHANNELS) >= 0,
  };
}

/** Compare dotted numeric versions (pre-release tags ignored); `unknown` sorts first. */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => v.split(/[.+-]/, 3).map((part) => Number.parseInt(part, 10) || 0);
  const left = parse(a);
  const right = parse(b);
  for (let i = 0; i < 3; i++) {
    const diff = (left[i] ?? 0) - (right[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

/** Adapter options that only describe() reads. */
export interface DescribeOverrides {
  readonly masterName?: string;
}

/** The static description of a client, for `describe()` and telemetry attributes. */
export function describeClient(
  handle: ClientHandle,
  library: LibraryInfo,
  overrides: DescribeOverrides,
): RedisDescription {
  const common = {
    library: { name: LIBRARY_NAME, version: library.version },
    adapter: { name: ADAPTER_NAME, version: VERSION },
  };
  switch (handle.kind) {
    case 'standalone': {
      const options = handle.client.options;
      const server = standaloneEndpoint(handle.client);
      return {
        ...common,
        topology: 'standalone',
        server,
        database: options?.database ?? 0,
        capabilities: {
          shardedPubSub: true,
          requiresSameSlot: false,
          diagnosticsChannel: library.diagnosticsChannel,
        },
      };
    }
    case 'cluster': {
      const root = handle.client._options?.rootNodes?.[0];
      const server = root ? endpointOf(root) : { address: 'localhost', port: 6379 };
      return {
        ...common,
        topology: 'cluster',
        server,
        database: 0,
        capabilities: {
          shardedPubSub: true,
          requiresSameSlot: true,
          diagnosticsChannel: library.diagnosticsChannel,
        },
      };
    }
    case 'sentinel': {
      const description: RedisDescription = {
        ...common,
        topology: 'sentinel',
        server: sentinelEndpoint(handle.client),
        database: 0,
        ...(overrides.masterName !== undefined ? { masterName: overrides.masterName } : {}),
        capabilities: {
          shardedPubSub: true,
          requiresSameSlot: false,
          diagnosticsChannel: library.diagnosticsChannel,
        },
      };
      return description;
    }
  }
}

/**
 * The first configured sentinel. node-redis keeps `sentinelRootNodes` private; its (internal) client
 * identity is built from the first one (`host:port/db-…`). Falls back to the sentinel it is connected to.
 */
function sentinelEndpoint(sentinel: NodeRedisSentinel): { address: string; port: number } {
  const id = safeCall(() => (sentinel as unknown as { identity?: { id?: unknown } }).identity?.id);
  if (typeof id === 'string') {
    const match = /^(.+):(\d+)\//.exec(id);
    if (match && match[1] !== 'unknown') return { address: match[1]!, port: Number(match[2]) };
  }
  const current = safeCall(() => sentinel.getSentinelNode());
  if (current) return { address: current.host, port: current.port };
  return { address: 'localhost', port: 26379 };
}

/** The configured endpoint of a standalone client (socket options, or the parsed URL). */
export function standaloneEndpoint(client: NodeRedisStandalone): { address: string; port?: number } {
  const options = client.options;
  if (options?.socket?.path !== undefined) return { address: options.socket.path };
  if (options?.socket?.host !== undefined || options?.socket?.port !== undefined) {
    return { address: options.socket.host ?? 'localhost', port: options.socket.port ?? 6379 };
  }
  if (options?.url !== undefined) return endpointOf({ url: options.url });
  return { address: 'localhost', port: 6379 };
}

function endpointOf(node: { url?: string; socket?: { host?: string; port?: number } }): {
  address: string;
  port: number;
} {
  if (node.socket?.host !== undefined || node.socket?.port !== undefined) {
    return { address: node.socket.host ?? 'localhost', port: node.socket.port ?? 6379 };
  }
  if (node.url !== undefined) {
    try {
      const url = new URL(node.url);
      return { address: url.hostname || 'localhost', port: url.port ? Number(url.port) : 6379 };
    } catch {
      // fall through
    }
  }
  return { address: 'localhost', port: 6379 };
}

function safeCall<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

/** The nodes of the deployment with their roles (cluster: `CLUSTER NODES`; sentinel: `ROLE` on the master). */
export async function listNodes(handle: ClientHandle): Promise<RedisNode[]> {
  switch (handle.kind) {
    case 'standalone': {
      const { address, port } = standaloneEndpoint(handle.client);
      return [{ address, port: port ?? 0, role: 'master' }];
    }
    case 'cluster':
      try {
        return await clusterNodesFromServer(handle.client);
      } catch {
        return clusterNodes(handle.client);
      }
    case 'sentinel':
      return sentinelNodes(handle.client);
  }
}

/**
 * `CLUSTER NODES` from a master the client is connected to: node-redis only tracks replicas when it
 * was created with `useReplicas`, so the server's view is the complete one.
 */
async function clusterNodesFromServer(cluster: NodeRedisCluster): Promise<RedisNode[]> {
  const first = cluster.masters[0];
  if (first === undefined) throw new Error('cluster not connected');
  const node = await cluster.nodeClient(first);
  const text = await suppressChannelTracing(() =>
    node.sendCommand(['CLUSTER', 'NODES'], { typeMapping: TEXT_MAPPING }),
  );
  if (typeof text !== 'string') throw new Error('unexpected CLUSTER NODES reply');
  return parseClusterNodes(text);
}

/** Parse `CLUSTER NODES` output into nodes with roles, ids and slot ranges (failed nodes skipped). */
export function parseClusterNodes(text: string): RedisNode[] {
  const masters: RedisNode[] = [];
  const replicas: RedisNode[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(' ');
    if (fields.length < 8) continue;
    const [id, endpoint, flags] = fields as [string, string, string];
    const flagList = flags.split(',');
    if (flagList.some((flag) => flag === 'fail' || flag === 'noaddr' || flag === 'handshake')) continue;
    const hostPort = endpoint.split('@')[0]!;
    const colon = hostPort.lastIndexOf(':');
    const address = hostPort.slice(0, colon);
    const port = Number(hostPort.slice(colon + 1));
    if (address === '' || !Number.isInteger(port) || port <= 0) continue;
    if (flagList.includes('master')) {
      const slots: [number, number][] = [];
      for (const range of fields.slice(8)) {
        if (range.startsWith('[')) continue; // migrating / importing
        const [from, to] = range.split('-');
        const start = Number(from);
        const end = to === undefined ? start : Number(to);
        if (Number.isInteger(start) && Number.isInteger(end)) slots.push([start, end]);
      }
      slots.sort((a, b) => a[0] - b[0]);
      masters.push({ address, port, role: 'master', id, slots });
    } else if (flagList.includes('slave') || flagList.includes('replica')) {
      replicas.push({ address, port, role: 'replica', id });
    }
  }
  return [...masters, ...replicas];
}

function clusterNodes(cluster: NodeRedisCluster): RedisNode[] {
  const ranges = new Map<string, [number, number][]>();
  const slots = cluster.slots;
  for (let slot = 0; slot < slots.length; slot++) {
    const master = slots[slot]?.master;
    if (master === undefined) continue;
    let list = ranges.get(master.address);
    if (list === undefined) {
      list = [];
      ranges.set(master.address, list);
    }
    const last = list[list.length - 1];
    if (last !== undefined && last[1] === slot - 1) last[1] = slot;
    else list.push([slot, slot]);
  }
  const nodes: RedisNode[] = [];
  for (const master of cluster.masters) {
    nodes.push({
      address: master.host,
      port: master.port,
      role: 'master',
      ...(master.id ? { id: master.id } : {}),
      slots: ranges.get(master.address) ?? [],
    });
  }
  for (const replica of cluster.replicas) {
    nodes.push({
      address: replica.host,
      port: replica.port,
      role: 'replica',
      ...(replica.id ? { id: replica.id } : {}),
    });
  }
  return nodes;
}

/**
 * Sentinel: the current master, its replicas (from `ROLE` on the master: node-redis only tracks
 * replicas when created with `useReplicas`), and the sentinel node-redis is connected to (node-redis
 * keeps its list of sentinels private).
 */
async function sentinelNodes(sentinel: NodeRedisSentinel): Promise<RedisNode[]> {
  const nodes: RedisNode[] = [];
  const master = safeCall(() => sentinel.getMasterNode());
  if (master) nodes.push({ address: master.host, port: master.port, role: 'master' });
  const replicas = new Map<string, RedisNode>();
  try {
    const role = await suppressChannelTracing(
      () => sentinel.sendCommand(false, ['ROLE'], { typeMapping: TEXT_MAPPING }),
      true,
    );
    if (Array.isArray(role) && role[0] === 'master' && Array.isArray(role[2])) {
      for (const entry of role[2] as unknown[]) {
        if (!Array.isArray(entry)) continue;
        const [host, port] = entry as [unknown, unknown];
        const node: RedisNode = { address: String(host), port: Number(port), role: 'replica' };
        if (Number.isInteger(node.port)) replicas.set(`${node.address}:${node.port}`, node);
      }
    }
  } catch {
    // fall back to what node-redis tracks
  }
  const tracked = safeCall(() => sentinel.getReplicaNodes());
  if (tracked) {
    for (const replica of tracked.keys()) {
      const key = `${replica.host}:${replica.port}`;
      if (!replicas.has(key))
        replicas.set(key, { address: replica.host, port: replica.port, role: 'replica' });
    }
  }
  nodes.push(...replicas.values());
  const current = safeCall(() => sentinel.getSentinelNode());
  if (current) nodes.push({ address: current.host, port: current.port, role: 'sentinel' });
  return nodes;
}
