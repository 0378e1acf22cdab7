import {
  defineScript,
  RedisConnectionError,
  type RedisLike,
  RedisReplyError,
  RedisTimeoutError,
  scheduledTimerCount,
} from '@redisotel/core-hooks';
import { recordPeers } from '@redisotel/testing';
import type { default as IoredisV6, RedisOptions } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromIoredis } from '../src/index.js';
import { MODULES, ownStandalone, prefix, recordDials, trackUnhandledRejections } from './helpers.js';

trackUnhandledRejections();

const server = ownStandalone();

const PROTOCOLS = [
  { name: 'RESP2', options: { protocol: 2 }, majors: [5, 6] },
  { name: 'RESP3 (legacy mapping)', options: { protocol: 3 }, majors: [6] },
  { name: 'RESP3 (resp3 mapping)', options: { protocol: 3, replyMapping: 'resp3' }, majors: [6] },
] as const;

describe.each(MODULES)('fromIoredis standalone ($name)', ({ Redis, major }) => {
  for (const protocol of PROTOCOLS.filter((p) => (p.majors as readonly number[]).includes(major))) {
    describe(protocol.name, () => {
      let client: IoredisV6;
      let redis: RedisLike;
      const p = prefix();
      beforeAll(async () => {
        client = new Redis({
          host: server.host,
          port: server.port,
          lazyConnect: true,
          ...(major === 6 ? protocol.options : {}),
        } as RedisOptions);
        await client.connect();
        redis = fromIoredis(client);
      });
      afterAll(async () => {
        await redis?.subscriber().close();
        await client?.quit();
      });

      it("enforces timeoutMs on the client's own command, leaving no deadline behind", async () => {
        const before = scheduledTimerCount();
        const pending = Array.from({ length: 30 }, (_, i) =>
          redis.send({ name: 'SET', args: [`${p}dl${i}`, 'v'], keys: [0] }, { timeoutMs: 10_000 }),
        );
        expect(scheduledTimerCount()).toBe(before + 30);
        await Promise.all(pending);
        expect(scheduledTimerCount()).toBe(before);
        const error = await redis
          .send({ name: 'BLPOP', args: [`${p}dl-empty`, '0.3'], keys: [0] }, { timeoutMs: 30 })
          .catch((caught: unknown) => caught);
        expect(RedisTimeoutError.isInstance(error)).toBe(true);
        expect(scheduledTimerCount()).toBe(before);
        // The late BLPOP reply is ignored; the next command is answered as usual.
        expect(await redis.send({ name: 'GET', args: [`${p}dl0`], keys: [0] })).toBe('v');
      });

      it('normalises every reply type to RESP2 shapes', async () => {
        expect(await redis.send({ name: 'SET', args: [`${p}s`, 'hello'], keys: [0] })).toBe('OK');
        expect(await redis.send({ name: 'GET', args: [`${p}s`], keys: [0] })).toBe('hello');
        expect(await redis.send({ name: 'GET', args: [`${p}missing`], keys: [0] })).toBeNull();
        expect(await redis.send({ name: 'INCRBY', args: [`${p}n`, 5], keys: [0] })).toBe(5);
        await redis.send({ name: 'HSET', args: [`${p}h`, 'a', '1', 'b', '2'], keys: [0] });
        expect(await redis.send({ name: 'HGETALL', args: [`${p}h`], keys: [0] })).toEqual([
          'a',
          '1',
          'b',
          '2',
        ]);
        expect(await redis.send({ name: 'hgetall', args: [`${p}h`], keys: [0] })).toEqual([
          'a',
          '1',
          'b',
          '2',
        ]);
        await redis.send({ name: 'SADD', args: [`${p}set`, 'x'], keys: [0] });
        expect(await redis.send({ name: 'SMEMBERS', args: [`${p}set`], keys: [0] })).toEqual(['x']);
        await redis.send({ name: 'ZADD', args: [`${p}z`, '1.5', 'm', '2', 'n'], keys: [0] });
        expect(await redis.send({ name: 'ZSCORE', args: [`${p}z`, 'm'], keys: [0] })).toBe('1.5');
        expect(await redis.send({ name: 'ZSCORE', args: [`${p}z`, 'n'], keys: [0] })).toBe('2');
        expect(await redis.send({ name: 'ZRANGE', args: [`${p}z`, 0, -1, 'WITHSCORES'], keys: [0] })).toEqual(
          ['m', '1.5', 'n', '2'],
        );
        expect(await redis.send({ name: 'MGET', args: [`${p}s`, `${p}missing`], keys: [0, 1] })).toEqual([
          'hello',
          null,
        ]);
        expect(await redis.send({ name: 'PING', args: [] })).toBe('PONG');
        // A map reply (CONFIG GET is a map in RESP3) becomes a flat array.
        expect(await redis.send({ name: 'CONFIG', args: ['GET', 'maxmemory-policy'] })).toEqual([
          'maxmemory-policy',
          'noeviction',
        ]);
        // Streams: XRANGE entries and XREAD's per-stream shape.
        const id = await redis.send({ name: 'XADD', args: [`${p}x`, '*', 'f', 'v'], keys: [0] });
        expect(typeof id).toBe('string');
        expect(await redis.send({ name: 'XRANGE', args: [`${p}x`, '-', '+'], keys: [0] })).toEqual([
          [id, ['f', 'v']],
        ]);
        expect(
          await redis.send({ name: 'XREAD', args: ['COUNT', 1, 'STREAMS', `${p}x`, '0'], keys: [3] }),
        ).toEqual([[`${p}x`, [[id, ['f', 'v']]]]]);
        // Lua: a boolean true becomes 1, false becomes nil; a table an array.
        expect(await redis.send({ name: 'EVAL', args: ['return {1, "two", true}', 0] })).toEqual([
          1,
          'two',
          1,
        ]);
      });

      it('returns Buffers for binary commands', async () => {
        const bytes = Buffer.from([0xff, 0x00, 0xfe]);
        await redis.send({ name: 'SET', args: [`${p}bin`, bytes], keys: [0] });
        const reply = await redis.send({ name: 'GET', args: [`${p}bin`], keys: [0], binary: true });
        expect(Buffer.isBuffer(reply)).toBe(true);
        expect(reply).toEqual(bytes);
        await redis.send({ name: 'HSET', args: [`${p}hb`, Buffer.from([0xc3]), bytes], keys: [0] });
        const hash = await redis.send({ name: 'HGETALL', args: [`${p}hb`], keys: [0], binary: true });
        if (protocol.name === 'RESP3 (resp3 mapping)') {
          // ioredis decodes RESP3 map keys to JavaScript strings with this mapping: values stay binary.
          expect((hash as Buffer[])[1]).toEqual(bytes);
        } else {
          expect(hash).toEqual([Buffer.from([0xc3]), bytes]);
        }
        expect(await redis.send({ name: 'GET', args: [`${p}missing`], keys: [0], binary: true })).toBeNull();
      });

      it('maps error replies to RedisReplyError with prefix, command and cause', async () => {
        await redis.send({ name: 'SET', args: [`${p}str`, 'x'], keys: [0] });
        const wrongType = await redis
          .send({ name: 'LPUSH', args: [`${p}str`, 'y'], keys: [0] })
          .catch((e) => e);
        expect(RedisReplyError.isInstance(wrongType)).toBe(true);
        expect(wrongType.prefix).toBe('WRONGTYPE');
        expect(wrongType.command).toBe('LPUSH');
        expect(wrongType.cause).toBeInstanceOf(Error);
        const unknown = await redis.send({ name: 'NOPE', args: [] }).catch((e) => e);
        expect(unknown.prefix).toBe('ERR');
        const noscript = await redis.send({ name: 'EVALSHA', args: ['a'.repeat(40), 0] }).catch((e) => e);
        expect(noscript.prefix).toBe('NOSCRIPT');
        // An error nested in a reply (a Lua error table in an array) rejects the command.
        const nested = await redis
          .send({ name: 'EVAL', args: ["return {1, redis.error_reply('BUSYKEY nested')}", 0] })
          .catch((e) => e);
        expect(RedisReplyError.isInstance(nested)).toBe(true);
        expect(nested.prefix).toBe('BUSYKEY');
      });

      it('runs pipelines with per-command results and errors', async () => {
        const results = await redis.batch([
          { name: 'SET', args: [`${p}b1`, 'v'], keys: [0] },
          { name: 'INCR', args: [`${p}b1`], keys: [0] },
          { name: 'GET', args: [`${p}b1`], keys: [0] },
          { name: 'HGETALL', args: [`${p}h`], keys: [0] },
        ]);
        expect(results[0]).toEqual({ ok: true, value: 'OK' });
        expect(results[1]?.ok).toBe(false);
        expect(
          !results[1]!.ok && RedisReplyError.isInstance(results[1]!.error) && results[1]!.error.prefix,
        ).toBe('ERR');
        expect(results[2]).toEqual({ ok: true, value: 'v' });
        expect(results[3]).toEqual({ ok: true, value: ['a', '1', 'b', '2'] });
        expect(await redis.batch([])).toEqual([]);
      });

      it('runs MULTI/EXEC atomically, with runtime errors per command', async () => {
        const results = await redis.batch(
          [
            { name: 'SET', args: [`${p}t`, 'a'], keys: [0] },
            { name: 'LPUSH', args: [`${p}t`, 'b'], keys: [0] },
            { name: 'GET', args: [`${p}t`], keys: [0] },
            { name: 'HGETALL', args: [`${p}h`], keys: [0] },
          ],
          { atomic: true },
        );
        expect(results[0]).toEqual({ ok: true, value: 'OK' });
        expect(
          !results[1]!.ok && RedisReplyError.isInstance(results[1]!.error) && results[1]!.error.prefix,
        ).toBe('WRONGTYPE');
        expect(results[2]).toEqual({ ok: true, value: 'a' });
        expect(results[3]).toEqual({ ok: true, value: ['a', '1', 'b', '2'] });
      });

      it('rejects a transaction that Redis refused to queue with EXECABORT, cause the queuing error', async () => {
        const error = await redis
          .batch(
            [
              { name: 'SET', args: [`${p}abort`, 'a'], keys: [0] },
              { name: 'NOSUCHCOMMAND', args: [] },
            ],
            { atomic: true },
          )
          .catch((e) => e);
        expect(RedisReplyError.isInstance(error)).toBe(true);
        expect(error.prefix).toBe('EXECABORT');
        expect(error.command).toBe('EXEC');
        expect(RedisReplyError.isInstance(error.cause)).toBe(true);
        expect(error.cause.command).toBe('NOSUCHCOMMAND');
        expect(error.cause.prefix).toBe('ERR');
        expect(await redis.send({ name: 'EXISTS', args: [`${p}abort`], keys: [0] })).toBe(0);
      });

      it('runs scripts by SHA and again after SCRIPT FLUSH', async () => {
        const script = defineScript({ name: 'echo_key', source: 'return {KEYS[1], ARGV[1]}' });
        expect(await redis.runScript(script, [`${p}k`], ['v'])).toEqual([`${p}k`, 'v']);
        expect(await redis.send({ name: 'SCRIPT', args: ['LOAD', script.source] })).toBe(script.sha1);
        await redis.send({ name: 'SCRIPT', args: ['FLUSH'] });
        expect(await redis.runScript(script, [`${p}k`], ['w'])).toEqual([`${p}k`, 'w']);
        expect(await redis.send({ name: 'SCRIPT', args: ['EXISTS', script.sha1] })).toEqual([1]);
      });

      it('reports the socket peer to hooks and describes itself', async () => {
        const { peers, hook } = recordPeers();
        redis.addHook(hook);
        await redis.send({ name: 'PING', args: [] });
        expect(peers).toEqual([{ address: '127.0.0.1', port: server.port }]);
        const description = redis.describe();
        expect(description.library).toEqual({ name: 'ioredis', version: major === 6 ? '6.0.0' : '5.11.1' });
        expect(description.adapter.name).toBe('@redisotel/ioredis');
        expect(description.topology).toBe('standalone');
        expect(description.server).toEqual({ address: server.host, port: server.port });
        expect(description.database).toBe(0);
        expect(description.capabilities).toEqual({
          shardedPubSub: true,
          requiresSameSlot: false,
          diagnosticsChannel: true,
        });
        expect(await redis.nodes()).toEqual([{ address: server.host, port: server.port, role: 'master' }]);
      });
    });
  }

  describe('client options', () => {
    it('applies keyPrefix to the explicit key positions and uses the selected database', async () => {
      const p = prefix();
      const client = new Redis({
        host: server.host,
        port: server.port,
        db: 3,
        keyPrefix: p,
        lazyConnect: true,
      });
      const plain = new Redis({ host: server.host, port: server.port, db: 3, lazyConnect: true });
      try {
        await client.connect();
        const redis = fromIoredis(client);
        expect(redis.describe().database).toBe(3);
        await redis.send({ name: 'SET', args: ['a', '1'], keys: [0] });
        await redis.batch([{ name: 'SET', args: ['b', '2'], keys: [0] }]);
        expect(await plain.get(`${p}a`)).toBe('1');
        expect(await plain.get(`${p}b`)).toBe('2');
        expect(await redis.send({ name: 'MGET', args: ['a', 'b'], keys: [0, 1] })).toEqual(['1', '2']);
      } finally {
        client.disconnect();
        plain.disconnect();
      }
    });

    it('reports each connection attempt to dial hooks, settled when ready', async () => {
      const { dials, settled, hook } = recordDials();
      const client = new Redis({ host: server.host, port: server.port, lazyConnect: true });
      try {
        const redis = fromIoredis(client, {
          hooks: [hook],
        });
        await client.connect();
        await redis.send({ name: 'PING', args: [] });
        await new Promise((resolve) => setImmediate(resolve));
        expect(dials).toEqual([{ address: server.host, port: server.port, purpose: 'command' }]);
        expect(settled).toEqual(['command']);
        // The subscriber connection is reported when it is opened, with its purpose.
        const off = await redis.subscriber().subscribe('dial-check', () => {});
        await new Promise((resolve) => setImmediate(resolve));
        expect(dials.at(-1)).toEqual({ address: server.host, port: server.port, purpose: 'subscriber' });
        expect(settled).toEqual(['command', 'subscriber']);
        await off();
        await redis.subscriber().close();
      } finally {
        client.disconnect();
      }
    });

    it('fails with typed connection errors after quit (CLIENT_CLOSED)', async () => {
      const client = new Redis({ host: server.host, port: server.port, lazyConnect: true });
      await client.connect();
      const redis = fromIoredis(client);
      await client.quit();
      const error = await redis.send({ name: 'PING', args: [] }).catch((e) => e);
      expect(RedisConnectionError.isInstance(error)).toBe(true);
      expect(error.code).toBe('CLIENT_CLOSED');
      expect(error.cause).toBeInstanceOf(Error);
    });
  });
});
