import { keySlot } from '@redisotel/core-hooks';
import { describe, expect, it } from 'vitest';
import { FIRST_VERSION_WITH_CHANNELS, versionAtLeast } from '../src/describe.js';
import { fromIoredis, instrumentIoredis } from '../src/index.js';
import { normalizeReply } from '../src/reply.js';
import { MODULES } from './helpers.js';

describe('fromIoredis input checks', () => {
  it.each([
    ['null', null, /received null/],
    ['a number', 42, /received 42/],
    ['a URL string', 'redis://localhost', /received "redis:\/\/localhost"/],
    ['a plain object', {}, /received an object \(Object\)/],
    ['a node-redis-like client', { sendCommand() {}, isOpen: false }, /node-redis client/],
  ])('throws a TypeError naming what it received: %s', (_, value, message) => {
    expect(() => fromIoredis(value as never)).toThrow(TypeError);
    expect(() => fromIoredis(value as never)).toThrow(message);
    expect(() => instrumentIoredis(value as never)).toThrow(TypeError);
  });

  it('rejects invalid options', () => {
    const { Redis } = MODULES[0]!;
    const client = new Redis({ lazyConnect: true });
    expect(() => fromIoredis(client, 'x' as never)).toThrow(TypeError);
    expect(() => instrumentIoredis(client, { groupPipelines: 'yes' as never })).toThrow(/groupPipelines/);
  });
});

describe.each(MODULES)('detection and description ($name)', ({ Redis, Cluster, version }) => {
  it('rejects an ioredis pipeline', () => {
    const client = new Redis({ lazyConnect: true });
    expect(() => fromIoredis(client.pipeline() as never)).toThrow(/pipeline/);
  });

  it('describes a standalone client without connecting', () => {
    const client = new Redis({ host: '127.0.0.2', port: 7001, db: 2, lazyConnect: true });
    const redis = fromIoredis(client);
    expect(client.status).toBe('wait');
    expect(redis.specificationVersion).toBe(1);
    expect(redis.describe()).toEqual({
      library: { name: 'ioredis', version },
      adapter: { name: '@redisotel/ioredis', version: '0.0.0' },
      topology: 'standalone',
      server: { address: '127.0.0.2', port: 7001 },
      database: 2,
      capabilities: { shardedPubSub: true, requiresSameSlot: false, diagnosticsChannel: true },
    });
    const unix = fromIoredis(new Redis({ path: '/tmp/redis.sock', lazyConnect: true }));
    expect(unix.describe().server).toEqual({ address: '/tmp/redis.sock' });
  });

  it('describes cluster and sentinel clients without connecting', () => {
    const cluster = new Cluster(['127.0.0.3:7002', { host: '127.0.0.4', port: 7003 }], { lazyConnect: true });
    const description = fromIoredis(cluster).describe();
    expect(cluster.status).toBe('wait');
    expect(description.topology).toBe('cluster');
    expect(description.server).toEqual({ address: '127.0.0.3', port: 7002 });
    expect(description.capabilities.requiresSameSlot).toBe(true);
    const sentinel = new Redis({
      sentinels: [{ host: '127.0.0.5', port: 26380 }],
      name: 'primary',
      db: 1,
      lazyConnect: true,
    });
    expect(fromIoredis(sentinel).describe()).toMatchObject({
      topology: 'sentinel',
      server: { address: '127.0.0.5', port: 26380 },
      masterName: 'primary',
      database: 1,
    });
  });

  it("routes like ioredis' own command table where both know the keys", () => {
    const client = new Redis({ lazyConnect: true });
    // The client's own Command class, as the adapter finds it.
    const pipeline = client.pipeline() as unknown as {
      sendCommand(command: unknown): unknown;
      get(key: string): unknown;
    };
    let Command: (new (name: string, args: unknown[]) => { getSlot(): number | null }) | undefined;
    pipeline.sendCommand = (command: unknown) => {
      Command = (command as { constructor: typeof Command }).constructor;
      return pipeline;
    };
    pipeline.get('x');
    const cases: Array<[string, unknown[], string]> = [
      ['get', ['user:1'], 'user:1'],
      ['set', ['{tag}:a', 'v'], '{tag}:a'],
      ['eval', ['return 1', 1, 'script-key'], 'script-key'],
      ['xread', ['COUNT', 1, 'STREAMS', 'stream-key', '0'], 'stream-key'],
      ['zunionstore', ['dest-key', 2, 'a', 'b'], 'dest-key'],
    ];
    for (const [name, args, key] of cases) expect(new Command!(name, args).getSlot()).toBe(keySlot(key));
    // ioredis knows no keys for a command it does not know: the adapter routes by explicit keys instead.
    expect(new Command!('my.module.cmd', ['k']).getSlot()).toBeNull();
  });
});

describe('helpers', () => {
  it('compares versions', () => {
    expect(versionAtLeast('5.11.1', FIRST_VERSION_WITH_CHANNELS)).toBe(true);
    expect(versionAtLeast('6.0.0', FIRST_VERSION_WITH_CHANNELS)).toBe(true);
    expect(versionAtLeast('5.10.9', FIRST_VERSION_WITH_CHANNELS)).toBe(false);
    expect(versionAtLeast('4.30.0', FIRST_VERSION_WITH_CHANNELS)).toBe(false);
    expect(versionAtLeast('unknown', FIRST_VERSION_WITH_CHANNELS)).toBe(false);
  });

  it('normalises RESP3-mapped values without a server', () => {
    expect(normalizeReply(true, 'exists', false, false)).toBe(1);
    expect(normalizeReply(false, 'exists', false, false)).toBe(0);
    expect(normalizeReply(1.25, 'x', false, false)).toBe('1.25');
    expect(normalizeReply(10n, 'x', false, false)).toBe('10');
    expect(normalizeReply(new Map([['a', 1]]), 'x', false, false)).toEqual(['a', 1]);
    expect(normalizeReply(new Set(['a']), 'x', false, false)).toEqual(['a']);
    expect(normalizeReply({ a: { b: [true, null] } }, 'x', false, false)).toEqual(['a', ['b', [1, null]]]);
    expect(normalizeReply(Buffer.from('hi'), 'x', false, false)).toBe('hi');
    expect(normalizeReply(Buffer.from('hi'), 'x', true, false)).toEqual(Buffer.from('hi'));
    expect(normalizeReply({ s: [['1-0', ['f', 'v']]] }, 'xread', false, true)).toEqual([
      ['s', [['1-0', ['f', 'v']]]],
    ]);
    expect(normalizeReply([['m', 1]], 'zrange', false, true)).toEqual(['m', '1']);
    expect(normalizeReply(2, 'zscore', false, true)).toBe('2');
  });
});
