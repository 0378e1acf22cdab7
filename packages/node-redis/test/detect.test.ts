import { useRedisDeployment } from '@redisotel/testing/vitest';
import { describe, expect, it } from 'vitest';
import { compareVersions, detectLibrary, parseClusterNodes } from '../src/describe.js';
import { fromNodeRedis } from '../src/index.js';
import { MODULES, trackUnhandledRejections } from './helpers.js';

trackUnhandledRejections();

// The project's shared standalone server (test/global-setup.ts): these tests only connect and read.
const { deployment: server } = useRedisDeployment('standalone');

describe('fromNodeRedis input checks', () => {
  it.each([
    [undefined, /received undefined/],
    [null, /received null/],
    [42, /received 42/],
    ['redis://localhost', /received "redis:\/\/localhost"/],
    [{}, /received an object \(Object\)/],
    [{ get: () => {} }, /expected a node-redis client/],
  ])('rejects %o with a TypeError naming it', (value, message) => {
    expect(() => fromNodeRedis(value)).toThrow(TypeError);
    expect(() => fromNodeRedis(value)).toThrow(message);
  });

  it('points ioredis clients to the other adapter', () => {
    class Redis {
      sendCommand() {}
      pipeline() {}
    }
    expect(() => fromNodeRedis(new Redis())).toThrow(/class Redis.*fromIoredis/);
  });

  it('refuses a client pool with a clear message', () => {
    const pool = MODULES[0]!.lib.createClientPool();
    expect(() => fromNodeRedis(pool)).toThrow(/RedisClientPool/);
  });

  it('validates its options, naming the option and the value', () => {
    const client = MODULES[0]!.lib.createClient();
    expect(() => fromNodeRedis(client, 'fast' as never)).toThrow(
      /options must be an object, received "fast"/,
    );
    expect(() => fromNodeRedis(client, { masterName: 7 as never })).toThrow(
      /"masterName" must be a non-empty string, received 7/,
    );
    expect(() => fromNodeRedis(client, { maxQueryTextLength: -1 })).toThrow(RangeError);
  });
});

describe.each(MODULES)('detection ($name)', ({ lib, major }) => {
  it('tells the three kinds apart without connecting anything', async () => {
    const client = lib.createClient({ url: server.url });
    const cluster = lib.createCluster({ rootNodes: [{ url: 'redis://127.0.0.1:1' }] });
    const sentinel = lib.createSentinel({
      name: 'mymaster',
      sentinelRootNodes: [{ host: '127.0.0.1', port: 1 }],
    });
    expect(fromNodeRedis(client).describe().topology).toBe('standalone');
    expect(fromNodeRedis(cluster).describe().topology).toBe('cluster');
    expect(fromNodeRedis(cluster).describe().server).toEqual({ address: '127.0.0.1', port: 1 });
    const described = fromNodeRedis(sentinel, { masterName: 'mymaster' }).describe();
    expect(described.topology).toBe('sentinel');
    expect(described.masterName).toBe('mymaster');
    expect(described.server).toEqual({ address: '127.0.0.1', port: 1 });
    expect(client.isOpen).toBe(false);
    expect(cluster.isOpen).toBe(false);
    expect(sentinel.isOpen).toBe(false);
  });

  it('reads the version of the installed client that made the object', () => {
    const info = detectLibrary(lib.createClient());
    expect(info.version.startsWith(`${major}.`)).toBe(true);
    expect(info.diagnosticsChannel).toBe(true);
  });

  it('works with a client connected after the adapter was made', async () => {
    const client = lib.createClient({ url: server.url });
    client.on('error', () => {});
    const redis = fromNodeRedis(client);
    await client.connect();
    try {
      expect(await redis.send({ name: 'PING', args: [] })).toBe('PONG');
    } finally {
      await client.close();
    }
  });
});

describe('helpers', () => {
  it('compares versions numerically', () => {
    expect(compareVersions('5.12.1', '5.12.0')).toBeGreaterThan(0);
    expect(compareVersions('5.9.0', '5.12.0')).toBeLessThan(0);
    expect(compareVersions('6.0.0', '5.12.0')).toBeGreaterThan(0);
    expect(compareVersions('unknown', '5.12.0')).toBeLessThan(0);
  });

  it('parses CLUSTER NODES, skipping failed nodes and migrating slots', () => {
    const text = [
      'aaa 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460 [5461->-bbb]',
      'bbb 127.0.0.1:7001@17001 master - 0 0 2 connected 5461-10922 16000',
      'ccc 127.0.0.1:7002@17002 slave aaa 0 0 1 connected',
      'ddd 127.0.0.1:7003@17003 master,fail - 0 0 3 disconnected',
      'eee :0@0 master,noaddr - 0 0 4 disconnected',
      '',
    ].join('\n');
    expect(parseClusterNodes(text)).toEqual([
      { address: '127.0.0.1', port: 7000, role: 'master', id: 'aaa', slots: [[0, 5460]] },
      {
        address: '127.0.0.1',
        port: 7001,
        role: 'master',
        id: 'bbb',
        slots: [
          [5461, 10922],
          [16000, 16000],
        ],
      },
      { address: '127.0.0.1', port: 7002, role: 'replica', id: 'ccc' },
    ]);
  });
});
