import {
  CrossSlotError,
  defineScript,
  RedisConnectionError,
  type RedisLike,
  RedisReplyError,
} from '@redisotel/core-hooks';
import { recordPeers } from '@redisotel/testing';
import { useRedisDeployment } from '@redisotel/testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromNodeRedis } from '../src/index.js';
import { MODULES, prefix, trackUnhandledRejections } from './helpers.js';

trackUnhandledRejections();

// The project's shared standalone server (test/global-setup.ts); every key is under this file's prefix().
const { deployment: server } = useRedisDeployment('standalone');

describe.each(MODULES)('fromNodeRedis standalone ($name)', ({ lib, major }) => {
  for (const resp of [2, 3] as const) {
    describe(`RESP${resp}`, () => {
      let client: ReturnType<typeof lib.createClient>;
      let redis: RedisLike;
      const p = prefix();
      beforeAll(async () => {
        client = lib.createClient({ url: server.url, RESP: resp });
        client.on('error', () => {});
        await client.connect();
        redis = fromNodeRedis(client);
      });
      afterAll(async () => {
        await redis?.subscriber().close();
        await client?.close();
      });

      it('sends commands and normalises every reply type to RESP2 shapes', async () => {
        expect(await redis.send({ name: 'SET', args: [`${p}s`, 'hello'], keys: [0] })).toBe('OK');
        expect(await redis.send({ name: 'GET', args: [`${p}s`], keys: [0] })).toBe('hello');
        expect(await redis.send({ name: 'GET', args: [`${p}missing`], keys: [0] })).toBeNull();
        expect(await redis.send({ name: 'INCRBY', args: [`${p}n`, 5], keys: [0] })).toBe(5);
        // maps (HGETALL is a map in RESP3) → flat arrays
        await redis.send({ name: 'HSET', args: [`${p}h`, 'a', '1', 'b', '2'], keys: [0] });
        expect(await redis.send({ name: 'HGETALL', args: [`${p}h`], keys: [0] })).toEqual([
          'a',
          '1',
          'b',
          '2',
        ]);
        // sets → arrays
        await redis.send({ name: 'SADD', args: [`${p}set`, 'x'], keys: [0] });
        expect(await redis.send({ name: 'SMEMBERS', args: [`${p}set`], keys: [0] })).toEqual(['x']);
        // doubles → strings; WITHSCORES pairs flattened as in RESP2
        await redis.send({ name: 'ZADD', args: [`${p}z`, '1.5', 'm', '2', 'n'], keys: [0] });
        expect(await redis.send({ name: 'ZSCORE', args: [`${p}z`, 'm'], keys: [0] })).toBe('1.5');
        expect(await redis.send({ name: 'ZRANGE', args: [`${p}z`, 0, -1, 'WITHSCORES'], keys: [0] })).toEqual(
          ['m', '1.5', 'n', '2'],
        );
        expect(await redis.send({ name: 'ZPOPMIN', args: [`${p}z`, 1], keys: [0] })).toEqual(['m', '1.5']);
        // nested arrays, integers and nil inside arrays
        expect(await redis.send({ name: 'MGET', args: [`${p}s`, `${p}missing`], keys: [0, 1] })).toEqual([
          'hello',
          null,
        ]);
        // booleans from Lua (RESP3 true → 1 in RESP2)
        expect(await redis.send({ name: 'EVAL', args: ['return true', 0] })).toBe(1);
        expect(await redis.send({ name: 'EVAL', args: ['return {1, "two", {3}}', 0] })).toEqual([
          1,
          'two',
          [3],
        ]);
        // streams: XREAD is a map in RESP3, [[stream, entries]] in RESP2
        const id = await redis.send({ name: 'XADD', args: [`${p}x`, '*', 'f', 'v'], keys: [0] });
        expect(typeof id).toBe('string');
        expect(await redis.send({ name: 'XREAD', args: ['STREAMS', `${p}x`, '0'], keys: [1] })).toEqual([
          [`${p}x`, [[id, ['f', 'v']]]],
        ]);
        // a simple string reply
        expect(await redis.send({ name: 'PING', args: [] })).toBe('PONG');
      });

      it('returns Buffers for binary commands, strings otherwise', async () => {
        const bytes = Buffer.from([0xff, 0x00, 0xfe, 0x41]);
        expect(await redis.send({ name: 'SET', args: [`${p}bin`, bytes], keys: [0] })).toBe('OK');
        const reply = await redis.send({ name: 'GET', args: [`${p}bin`], keys: [0], binary: true });
        expect(Buffer.isBuffer(reply)).toBe(true);
        expect((reply as Buffer).equals(bytes)).toBe(true);
        const text = await redis.send({ name: 'GET', args: [`${p}bin`], keys: [0] });
        expect(typeof text).toBe('string');
        await redis.send({ name: 'HSET', args: [`${p}hb`, 'k', bytes], keys: [0] });
        const hash = (await redis.send({
          name: 'HGETALL',
          args: [`${p}hb`],
          keys: [0],
          binary: true,
        })) as Buffer[];
        expect(hash.map((b) => Buffer.isBuffer(b))).toEqual([true, true]);
        expect(hash[1]!.equals(bytes)).toBe(true);
      });

      it('maps error replies to RedisReplyError with prefix, command and cause', async () => {
        await redis.send({ name: 'SET', args: [`${p}str`, 'v'], keys: [0] });
        const error = await redis.send({ name: 'LPUSH', args: [`${p}str`, 'x'], keys: [0] }).catch((e) => e);
        expect(RedisReplyError.isInstance(error)).toBe(true);
        expect(error.prefix).toBe('WRONGTYPE');
        expect(error.command).toBe('LPUSH');
        expect(error.cause).toBeInstanceOf(Error);
        const unknown = await redis.send({ name: 'NOSUCHCOMMAND', args: [] }).catch((e) => e);
        expect(unknown.prefix).toBe('ERR');
        const noscript = await redis.send({ name: 'EVALSHA', args: ['0'.repeat(40), 0] }).catch((e) => e);
        expect(noscript.prefix).toBe('NOSCRIPT');
        // an error reply nested in an array rejects too
        const nested = await redis
          .send({ name: 'EVAL', args: ['return {1, redis.error_reply("MYERR nested")}', 0] })
          .catch((e) => e);
        expect(RedisReplyError.isInstance(nested)).toBe(true);
        expect(nested.prefix).toBe('MYERR');
        expect(nested.command).toBe('EVAL');
      });

      it('runs pipelines with per-command results and errors', async () => {
        await redis.send({ name: 'SET', args: [`${p}pl-str`, 'v'], keys: [0] });
        const results = await redis.batch([
          { name: 'SET', args: [`${p}pl`, '1'], keys: [0] },
          { name: 'INCR', args: [`${p}pl`], keys: [0] },
          { name: 'LPUSH', args: [`${p}pl-str`, 'x'], keys: [0] },
          { name: 'GET', args: [`${p}pl`], keys: [0], binary: true },
          { name: 'HGETALL', args: [`${p}h`], keys: [0] },
        ]);
        expect(results[0]).toEqual({ ok: true, value: 'OK' });
        expect(results[1]).toEqual({ ok: true, value: 2 });
        expect(results[2]!.ok).toBe(false);
        if (!results[2]!.ok) {
          expect(RedisReplyError.isInstance(results[2]!.error)).toBe(true);
          expect((results[2]!.error as RedisReplyError).prefix).toBe('WRONGTYPE');
        }
        expect(results[3]!.ok && Buffer.isBuffer(results[3]!.value)).toBe(true);
        expect(results[4]).toEqual({ ok: true, value: ['a', '1', 'b', '2'] });
      });

      it('runs atomic batches with MULTI/EXEC and per-command runtime errors', async () => {
        const results = await redis.batch(
          [
            { name: 'SET', args: [`${p}tx`, '10'], keys: [0] },
            { name: 'INCR', args: [`${p}tx`], keys: [0] },
            { name: 'HGET', args: [`${p}tx`, 'field'], keys: [0] },
            { name: 'GET', args: [`${p}tx`], keys: [0], binary: true },
            { name: 'ZRANGE', args: [`${p}z`, 0, -1, 'WITHSCORES'], keys: [0] },
          ],
          { atomic: true },
        );
        expect(results[0]).toEqual({ ok: true, value: 'OK' });
        expect(results[1]).toEqual({ ok: true, value: 11 });
        expect(results[2]!.ok).toBe(false);
        if (!results[2]!.ok) expect((results[2]!.error as RedisReplyError).prefix).toBe('WRONGTYPE');
        expect(results[3]!.ok && Buffer.isBuffer(results[3]!.value)).toBe(true);
        expect(results[4]).toEqual({ ok: true, value: ['n', '2'] });
      });

      it('rejects a transaction Redis refused to queue with EXECABORT (cause: the queuing error)', async () => {
        const error = await redis
          .batch(
            [
              { name: 'SET', args: [`${p}abort`, '1'], keys: [0] },
              { name: 'NOSUCHCOMMAND', args: [] },
            ],
            { atomic: true },
          )
          .catch((e) => e);
        expect(RedisReplyError.isInstance(error)).toBe(true);
        expect(error.prefix).toBe('EXECABORT');
        expect(error.command).toBe('EXEC');
        expect(RedisReplyError.isInstance(error.cause)).toBe(true);
        expect(error.cause.prefix).toBe('ERR');
        // nothing of the transaction ran
        expect(await redis.send({ name: 'EXISTS', args: [`${p}abort`], keys: [0] })).toBe(0);
        // and the connection is usable afterwards
        expect(await redis.send({ name: 'PING', args: [] })).toBe('PONG');
      });

      it('does not check slots on a standalone server', async () => {
        const results = await redis.batch([
          { name: 'SET', args: ['{a}1', '1'], keys: [0] },
          { name: 'SET', args: ['{b}2', '2'], keys: [0] },
        ]);
        expect(results.every((r) => r.ok)).toBe(true);
        expect(CrossSlotError).toBeDefined();
        await redis.send({ name: 'DEL', args: ['{a}1', '{b}2'], keys: [0, 1] });
      });

      it('runs scripts by SHA and reloads them after SCRIPT FLUSH', async () => {
        const script = defineScript({
          name: `echo-${resp}-${major}`,
          source: `return {KEYS[1], ARGV[1], ${resp}}`,
        });
        expect(await redis.send({ name: 'SCRIPT', args: ['LOAD', script.source] })).toBe(script.sha1);
        expect(await redis.runScript(script, [`${p}k`], ['v'])).toEqual([`${p}k`, 'v', resp]);
        await redis.send({ name: 'SCRIPT', args: ['FLUSH'] });
        expect(await redis.runScript(script, [`${p}k`], ['w'])).toEqual([`${p}k`, 'w', resp]);
      });

      it('describes itself and lists the server', async () => {
        const description = redis.describe();
        expect(description.library.name).toBe('redis');
        expect(description.library.version.startsWith(`${major}.`)).toBe(true);
        expect(description.adapter.name).toBe('@redisotel/node-redis');
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

      it('fills info.peer for hooks', async () => {
        const { peers, hook } = recordPeers();
        redis.addHook(hook);
        await redis.send({ name: 'GET', args: [`${p}s`], keys: [0] });
        expect(peers).toEqual([{ address: server.host, port: server.port }]);
      });
    });
  }

  it('reads the database index from the client', async () => {
    const client = lib.createClient({ url: `${server.url}/3` });
    client.on('error', () => {});
    await client.connect();
    try {
      const redis = fromNodeRedis(client);
      expect(redis.describe().database).toBe(3);
      await redis.send({ name: 'SET', args: ['db3-key', 'x'], keys: [0] });
      expect(await redis.send({ name: 'EXISTS', args: ['db3-key'], keys: [0] })).toBe(1);
      await redis.send({ name: 'DEL', args: ['db3-key'], keys: [0] });
    } finally {
      await client.close();
    }
  });

  it('applies the keyPrefix of node-redis 6 to key arguments, as node-redis does for its own commands', async () => {
    const p = prefix();
    const prefixed = lib.createClient({ url: server.url, keyPrefix: `${p}app:` } as Parameters<
      typeof lib.createClient
    >[0]);
    const plain = lib.createClient({ url: server.url });
    for (const c of [prefixed, plain]) c.on('error', () => {});
    await Promise.all([prefixed.connect(), plain.connect()]);
    try {
      const redis = fromNodeRedis(prefixed);
      await redis.send({ name: 'SET', args: ['k', 'v'], keys: [0] });
      await redis.batch([{ name: 'SET', args: ['b', Buffer.from('x')], keys: [0] }], { atomic: true });
      await prefixed.set('own', '1');
      const expected = major >= 6 ? [`${p}app:b`, `${p}app:k`, `${p}app:own`] : ['b', 'k', 'own'];
      const pattern = major >= 6 ? `${p}app:*` : '*';
      const keys = ((await plain.sendCommand(['KEYS', pattern])) as string[]).filter((key) =>
        major >= 6 ? true : ['b', 'k', 'own'].includes(key),
      );
      expect(keys.sort()).toEqual(expected);
      expect(await redis.send({ name: 'GET', args: ['k'], keys: [0] })).toBe('v');
      if (major < 6) await plain.del(['b', 'k', 'own']);
    } finally {
      await Promise.all([prefixed.close(), plain.close()]);
    }
  });

  it('maps a closed client to RedisConnectionError CLIENT_CLOSED (send and batch)', async () => {
    const client = lib.createClient({ url: server.url });
    client.on('error', () => {});
    await client.connect();
    const redis = fromNodeRedis(client);
    await client.close();
    const error = await redis.send({ name: 'GET', args: ['k'], keys: [0] }).catch((e) => e);
    expect(RedisConnectionError.isInstance(error)).toBe(true);
    expect(error.code).toBe('CLIENT_CLOSED');
    expect(error.command).toBe('GET');
    expect(error.cause).toBeInstanceOf(Error);
    const batchError = await redis.batch([{ name: 'GET', args: ['k'], keys: [0] }]).catch((e) => e);
    expect(RedisConnectionError.isInstance(batchError)).toBe(true);
    expect(batchError.code).toBe('CLIENT_CLOSED');
    const atomicError = await redis
      .batch([{ name: 'GET', args: ['k'], keys: [0] }], { atomic: true })
      .catch((e) => e);
    expect(RedisConnectionError.isInstance(atomicError)).toBe(true);
  });
});
