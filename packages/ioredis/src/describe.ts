import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RedisDescription, RedisNode } from '@redisotel/core-hooks';
import { describeValue } from '@redisotel/core-hooks';
import type {
  DetectedClient,
  IoredisAny,
  IoredisCluster,
  IoredisCommand,
  IoredisCommandConstructor,
  IoredisRedis,
} from './internal-types.js';
import { VERSION } from './version.js';

/** The name `describe().adapter.name` reports. */
export const ADAPTER_NAME = '@redisotel/ioredis';

/** The first ioredis version that publishes `diagnostics_channel` tracing channels. */
export const FIRST_VERSION_WITH_CHANNELS = '5.11.0';

/**
 * Find out what kind of ioredis client `value` is, or throw a `TypeError` naming what was received.
 * No I/O: only properties and a throwaway (never executed) pipeline are looked at.
 */
export function detectClient(value: unknown, caller: string): DetectedClient {
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(
      `${caller}: expected an ioredis client (new Redis(), new Cluster() or new Redis({ sentinels, name })), received ${describeValue(value)}`,
    );
  }
  const candidate = value as Partial<IoredisRedis> & Partial<Pick<IoredisCluster, 'startupNodes' | 'nodes'>>;
  const looksLikeIoredis =
    typeof candidate.sendCommand === 'function' &&
    typeof candidate.pipeline === 'function' &&
    typeof candidate.duplicate === 'function' &&
    typeof candidate.status === 'string' &&
    typeof candidate.options === 'object' &&
    candidate.options !== null;
  if (!looksLikeIoredis) {
    const hint =
      typeof (value as { sendCommand?: unknown }).sendCommand === 'function' &&
      typeof (value as { isOpen?: unknown }).isOpen === 'boolean'
        ? ' (this looks like a node-redis client: use fromNodeRedis from @redisotel/node-redis)'
        : (value as { isPipeline?: unknown }).isPipeline === true
          ? ' (this is an ioredis pipeline, not a client)'
          : '';
    throw new TypeError(
      `${caller}: expected an ioredis client (new Redis(), new Cluster() or new Redis({ sentinels, name })), received ${describeValue(value)}${hint}`,
    );
  }
  const client = value as IoredisAny;
  let kind: DetectedClient['kind'];
  if (candidate.isCluster === true) {
    if (!Array.isArray(candidate.startupNodes) || typeof candidate.nodes !== 'function') {
      throw new TypeError(
        `${caller}: received an object that claims to be an ioredis Cluster but has no startupNodes`,
      );
    }
    kind = 'cluster';
  } else {
    const sentinels = (client as IoredisRedis).options.sentinels;
    kind = Array.isArray(sentinels) && sentinels.length > 0 ? 'sentinel' : 'standalone';
  }
  const Command = commandClassOf(client, caller);
  return { kind, client, Command, version: libraryVersion(client, Command) };
}

/**
 * The `Command` class of the client's own copy of ioredis (the application may run ioredis 5 while
 * this package resolves 6): a throwaway pipeline is asked to build a PING, which is captured and never
 * sent.
 */
function commandClassOf(client: IoredisAny, caller: string): IoredisCommandConstructor {
  const probe = client.pipeline();
  let found: IoredisCommandConstructor | undefined;
  probe.sendCommand = (command: IoredisCommand) => {
    found = command.constructor as IoredisCommandConstructor;
    return probe;
  };
  probe.ping();
  if (typeof found !== 'function') {
    throw new TypeError(`${caller}: could not find the ioredis Command class of this client`);
  }
  return found;
}

const versions = new WeakMap<object, string>();

/**
 * The version of the ioredis copy that made `client`, read from that copy's package.json. The copy
 * is found (1) in the CommonJS cache, as the module whose exported class has the client in its
 * prototype chain (ioredis is CommonJS, also when imported from ESM), else (2) from the file named in the
 * stack of an error thrown inside that copy's `Command` constructor (module runners such as vitest may
 * load a second instance of a package, so class identity is not always available). Falls back to
 * resolving `ioredis` from the working directory, then to `'unknown'`.
 */
export function libraryVersion(client: IoredisAny, Command: IoredisCommandConstructor): string {
  // ioredis mixes EventEmitter into its classes, `constructor` included: compare prototypes instead.
  const prototype = Object.getPrototypeOf(client) as object;
  const cached = versions.get(prototype);
  if (cached !== undefined) return cached;
  let version: string | undefined;
  try {
    const require = createRequire(join(process.cwd(), 'noop.js'));
    for (const [filename, module] of Object.entries(require.cache)) {
      if (!/[\\/]built[\\/](Redis|cluster[\\/]index)\.js$/.test(filename)) continue;
      const exported = (module?.exports as { default?: unknown } | undefined)?.default;
      if (typeof exported !== 'function' || !Object.prototype.isPrototypeOf.call(exported.prototype, client))
        continue;
      version = readIoredisVersion(dirname(filename));
      if (version !== undefined) break;
    }
    if (version === undefined) {
      const file = commandModuleFile(Command);
      if (file !== undefined) version = readIoredisVersion(dirname(file));
    }
    if (version === undefined) {
      const pkg = require('ioredis/package.json') as { version?: unknown };
      if (typeof pkg.version === 'string') version = pkg.version;
    }
  } catch {
    // Unusual module setups (bundled ioredis): fall through to 'unknown'.
  }
  version ??= 'unknown';
  versions.set(prototype, version);
  return version;
}

/** The file of ioredis' `Command` module, from the stack of an error its constructor throws. */
function commandModuleFile(Command: IoredisCommandConstructor): string | undefined {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 5;
  let stack = '';
  try {
    // `args` must be an array: `null.flat()` throws inside the constructor, naming its file.
    new Command('ping', null as unknown as unknown[]);
  } catch (error) {
    stack = error instanceof Error ? (error.stack ?? '') : '';
  } finally {
    Error.stackTraceLimit = limit;
  }
  const match = /((?:file:\/\/)?[^\s()]*[\\/]built[\\/]Command\.js):\d+:\d+/.exec(stack);
  if (match === null) return undefined;
  const location = match[1]!;
  return location.startsWith('file://') ? fileURLToPath(location) : location;
}

function readIoredisVersion(start: string): string | undefined {
  let dir = start;
  for (let i = 0; i < 4; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: unknown;
        version?: unknown;
      };
      if (pkg.name === 'ioredis' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not here: go up
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

/** Whether `version` is at least `minimum` (plain `x.y.z` comparison; pre-release tags ignored). */
export function versionAtLeast(version: string, minimum: string): boolean {
  const parse = (v: string) => v.split(/[.+-]/, 3).map((part) => Number.parseInt(part, 10));
  const a = parse(version);
  const b = parse(minimum);
  if (a.some((n) => Number.isNaN(n))) return false;
  for (let i = 0; i < 3; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}

/** `host:port` / URL / port number / object startup node → address and port, as ioredis reads it. */
export function parseStartupNode(node: unknown): { address: string; port: number } {
  if (typeof node === 'number') return { address: '127.0.0.1', port: node };
  if (typeof node === 'string') {
    try {
      const url = new URL(node.includes('://') ? node : `redis://${node}`);
      return { address: url.hostname || '127.0.0.1', port: url.port ? Number(url.port) : 6379 };
    } catch {
      return { address: node, port: 6379 };
    }
  }
  if (typeof node === 'object' && node !== null) {
    const { host, port } = node as { host?: unknown; port?: unknown };
    return {
      address: typeof host === 'string' && host.length > 0 ? host : '127.0.0.1',
      port: typeof port === 'number' ? port : typeof port === 'string' ? Number(port) : 6379,
    };
  }
  return { address: '127.0.0.1', port: 6379 };
}

/** The configured endpoint of a standalone client (what ioredis' own channel contexts report). */
export function configuredEndpoint(options: IoredisRedis['options']): { address: string; port?: number } {
  if (typeof options.path === 'string' && options.path.length > 0) return { address: options.path };
  return { address: options.host || 'localhost', port: options.port || 6379 };
}

/** Static description of the client (no I/O). */
export function describeClient(detected: DetectedClient): RedisDescription {
  const { kind, client, version } = detected;
  const diagnosticsChannel = versionAtLeast(version, FIRST_VERSION_WITH_CHANNELS);
  const library = { name: 'ioredis', version };
  const adapter = { name: ADAPTER_NAME, version: VERSION };
  if (kind === 'cluster') {
    const cluster = client as IoredisCluster;
    return {
      library,
      adapter,
      topology: 'cluster',
      server: parseStartupNode(cluster.startupNodes[0]),
      database: 0,
      capabilities: { shardedPubSub: true, requiresSameSlot: true, diagnosticsChannel },
    };
  }
  const redis = client as IoredisRedis;
  const database = typeof redis.options.db === 'number' ? redis.options.db : 0;
  if (kind === 'sentinel') {
    const first = redis.options.sentinels?.[0] ?? {};
    return {
      library,
      adapter,
      topology: 'sentinel',
      server: { address: first.host || 'localhost', port: first.port || 26379 },
      database,
      ...(typeof redis.options.name === 'string' ? { masterName: redis.options.name } : {}),
      capabilities: { shardedPubSub: true, requiresSameSlot: false, diagnosticsChannel },
    };
  }
  return {
    library,
    adapter,
    topology: 'standalone',
    server: configuredEndpoint(redis.options),
    database,
    capabilities: { shardedPubSub: true, requiresSameSlot: false, diagnosticsChannel },
  };
}

/** Split a `host:port` node key (IPv6 hosts keep their colons). */
export function splitNodeKey(key: string): { address: string; port: number } {
  const at = key.lastIndexOf(':');
  return { address: key.slice(0, at), port: Number(key.slice(at + 1)) };
}

/**
 * Parse `CLUSTER NODES` into {@link RedisNode}s: masters with their slot ranges, replicas; nodes
 * flagged `fail`, `handshake` or `noaddr` are left out.
 */
export function parseClusterNodes(text: string): RedisNode[] {
  const nodes: RedisNode[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(' ');
    if (fields.length < 8) continue;
    const [id, endpoint, flagText] = fields as [string, string, string];
    const flags = new Set(flagText.split(','));
    if (flags.has('fail') || flags.has('handshake') || flags.has('noaddr')) continue;
    const hostPort = endpoint.split('@')[0]!.split(',')[0]!;
    const { address, port } = splitNodeKey(hostPort);
    if (!address || !Number.isFinite(port) || port === 0) continue;
    if (flags.has('master')) {
      const slots: Array<[number, number]> = [];
      for (const range of fields.slice(8)) {
        if (range.startsWith('[')) continue; // migrating / importing slot markers
        const [from, to] = range.split('-');
        const start = Number(from);
        const end = to === undefined ? start : Number(to);
        if (Number.isFinite(start) && Number.isFinite(end)) slots.push([start, end]);
      }
      nodes.push({ address, port, role: 'master', id, slots });
    } else if (flags.has('slave') || flags.has('replica')) {
      nodes.push({ address, port, role: 'replica', id });
    }
  }
  return nodes;
}
