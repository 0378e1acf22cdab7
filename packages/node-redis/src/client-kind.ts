import { describeValue } from '@redisotel/core-hooks';
import type {
  ClientHandle,
  NodeRedisCluster,
  NodeRedisSentinel,
  NodeRedisStandalone,
} from './internal-types.js';

/**
 * Tell a node-redis standalone client, cluster or sentinel apart by the members each one has (the
 * classes of redis 5 and 6 are different objects, so `instanceof` against one import would miss the
 * other major).
 *
 * @throws {TypeError} naming what was received when it is none of the three
 */
export function detectClient(client: unknown, caller: string): ClientHandle {
  if (typeof client !== 'object' || client === null) {
    throw new TypeError(
      `${caller}: expected a node-redis client (createClient, createCluster or createSentinel from "redis"), received ${describeValue(client)}`,
    );
  }
  const candidate = client as Record<string, unknown>;
  if (typeof candidate.sendCommand === 'function') {
    if (typeof candidate.nodeClient === 'function' && 'masters' in candidate && 'slots' in candidate) {
      return { kind: 'cluster', client: client as NodeRedisCluster };
    }
    if (typeof candidate.getMasterNode === 'function' && typeof candidate.use === 'function') {
      return { kind: 'sentinel', client: client as NodeRedisSentinel };
    }
    if ('totalClients' in candidate || 'idleClients' in candidate) {
      throw new TypeError(
        `${caller}: a RedisClientPool (createClientPool) is not supported; pass a client from createClient, createCluster or createSentinel`,
      );
    }
    if (
      typeof candidate.duplicate === 'function' &&
      typeof candidate.connect === 'function' &&
      'isOpen' in candidate &&
      typeof candidate.subscribe === 'function'
    ) {
      return { kind: 'standalone', client: client as NodeRedisStandalone };
    }
  }
  const constructorName = (client as { constructor?: { name?: string } }).constructor?.name;
  const looksLikeIoredis =
    typeof candidate.sendCommand === 'function' && typeof candidate.pipeline === 'function';
  throw new TypeError(
    `${caller}: expected a node-redis client (createClient, createCluster or createSentinel from "redis"), received ${describeValue(client)}${
      constructorName && constructorName !== 'Object' ? ` of class ${constructorName}` : ''
    }${looksLikeIoredis ? ' (this looks like an ioredis client: use fromIoredis from @redisotel/ioredis)' : ''}`,
  );
}
