import { keySlot } from '@redisotel/core-hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Cache,
  CacheLoaderTimeoutError,
  type CacheOptions,
  CacheSerializationError,
  createCache,
} from '../src/index.js';
import { READ_MANY_SCRIPT, READ_SCRIPT, WRITE_SCRIPT } from '../src/scripts.js';
import {
  type ConnectedClient,
  connectClient,
  deploymentFor,
  MATRIX,
  raw,
  sleep,
  uniquePrefix,
  waitUntil,
} from './support.js';

describe.each(MATRIX)('cache on $name', ({ client, topology }) => {
  let connected: ConnectedClient;
  /** Operations seen by a counting hook (EVALSHA, MGET, …), reset by each test that reads it. */
  const seen: string[] = [];
  const caches: Cache[] = [];

  beforeAll(async () => {
    connected = await connectClient(client, deploymentFor(topology));
    connected.redis.addHook({
      process: (next) => (command, info) => {
        seen.push(info.operation);
        return next(command, info);
      },
      processBatch: (next) => (commands, info) => {
        seen.push(`BATCH(${info.operations.join(',')})`);
        return next(commands, info);
      },
    });
  });

  afterAll(async () => {
    await Promise.all(caches.map((cache) => cache.close()));
    await connected?.close();
  });

  function make(options: Partial<CacheOptions> = {}, name = 'c'): { cache: Cache; prefix: string } {
    const prefix = options.prefix ?? uniquePrefix(name);
    const cache = createCache(connected.redis, { ttlMs: 60_000, ...options, prefix });
    caches.push(cache);
    return { cache, prefix };
  }

  /** Wait until `cache`'s invalidation channel is subscribed: only then does its L1 fill. */
  async function l1Ready(cache: Cache): Promise<void> {
    await cache.set('__warm', 1);
    await waitUntil(async () => (await countWhile(() => cache.get('__warm'))).operations.length === 0);
  }

  function countWhile<T>(run: () => Promise<T>): Promise<{ result: T; operations: string[] }> {
    seen.length = 0;
    return run().then((result) => ({ result, operations: [...seen] }));
  }

  it('loads the scripts under the SHA1 defineScript computed', async () => {
    for (const script of [READ_SCRIPT, READ_MANY_SCRIPT, WRITE_SCRIPT]) {
      const sha = await connected.redis.send({ name: 'SCRIPT', args: ['LOAD', script.source] });
      expect(sha).toBe(script.sha1);
    }
  });

  it('round-trips values exactly through the serializer', async () => {
    const { cache } = make();
    const values: unknown[] = [
      { a: 1, nested: { list: [1, 'two', { three: 3 }], empty: {} } },
      [1, 2, 3],
      'plain text with "quotes", newlines\nand unicode ☃ 🎉',
      '',
      0,
      -12.5,
      true,
      false,
      { line: 'a\nb', sep: '\u001f' },
    ];
    for (const [i, value] of values.entries()) {
      expect(await cache.set(`v${i}`, value)).toBe(true);
      expect(await cache.get(`v${i}`)).toEqual(value);
    }
  });

  it('uses a custom serializer both ways', async () => {
    const { cache } = make({
      serializer: {
        serialize: (value) => JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)),
        deserialize: (text) =>
          JSON.parse(text, (_k, v) =>
            typeof v === 'string' && /^\d+n$/.test(v) ? BigInt(v.slice(0, -1)) : v,
          ),
      },
    });
    await cache.set('big', { id: 12345678901234567890n });
    expect(await cache.get('big')).toEqual({ id: 12345678901234567890n });
  });

  it('never stores undefined, and stores null only with cacheNull', async () => {
    const { cache } = make();
    await expect(cache.set('u', undefined)).rejects.toThrow(TypeError);
    expect(await cache.set('n', null)).toBe(false);
    expect(await cache.get('n')).toBeUndefined();
    let calls = 0;
    expect(
      await cache.getOrLoad('n2', () => {
        calls++;
        return null;
      }),
    ).toBeNull();
    expect(
      await cache.getOrLoad('n2', () => {
        calls++;
        return null;
      }),
    ).toBeNull();
    expect(calls).toBe(2);
    expect(
      await cache.getOrLoad('u2', () => {
        calls++;
        return undefined;
      }),
    ).toBeUndefined();
    expect(await cache.get('u2')).toBeUndefined();

    const { cache: negative } = make({ cacheNull: true });
    expect(await negative.set('n', null)).toBe(true);
    expect(await negative.get('n')).toBeNull();
    let negativeCalls = 0;
    await negative.getOrLoad('n2', () => {
      negativeCalls++;
      return null;
    });
    expect(
      await negative.getOrLoad('n2', () => {
        negativeCalls++;
        return null;
      }),
    ).toBeNull();
    expect(negativeCalls).toBe(1);
  });

  it('reports a serializer failure as CacheSerializationError', async () => {
    const { cache } = make();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const error = await cache.set('cyclic', cyclic).catch((e: unknown) => e);
    expect(CacheSerializationError.isInstance(error)).toBe(true);
    expect((error as Error).cause).toBeInstanceOf(TypeError);
  });

  it('accepts keys with braces, colons and unicode (one slot per key on a cluster)', async () => {
    const { cache } = make({ distributed: { leaseMs: 1000 }, staleMs: 1000 });
    for (const key of ['user:{42}:profile', 'a{b', 'x}y', 'ключ ☃', '{}']) {
      expect(await cache.getOrLoad(key, () => key)).toBe(key);
      expect(await cache.get(key)).toBe(key);
    }
    expect(await cache.getMany(['user:{42}:profile', 'a{b', 'x}y'])).toEqual([
      'user:{42}:profile',
      'a{b',
      'x}y',
    ]);
    expect(await cache.delete('user:{42}:profile', 'a{b', 'x}y', 'ключ ☃', '{}')).toBe(5);
  });

  it('keeps a value for ttlMs + staleMs on the server clock, then it is gone', async () => {
    const { cache, prefix } = make({ staleMs: 500 });
    await cache.set('ttl', 'x', { ttlMs: 300 });
    const pttl = (await raw(connected.redis, 'PTTL', `${prefix}{ttl}`)) as number;
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(800);
    await waitUntil(async () => (await cache.get('ttl')) === undefined);
    await waitUntil(async () => (await raw(connected.redis, 'EXISTS', `${prefix}{ttl}`)) === 0);
  });

  it('spreads expiries with ttlJitter (never above ttlMs, never below ttlMs × (1 − jitter))', async () => {
    const { cache, prefix } = make({ ttlJitter: 0.5 });
    const pttls = new Set<number>();
    for (let i = 0; i < 20; i++) {
      await cache.set(`j${i}`, i, { ttlMs: 100_000 });
      const pttl = (await raw(connected.redis, 'PTTL', `${prefix}{j${i}}`)) as number;
      expect(pttl).toBeLessThanOrEqual(100_000);
      expect(pttl).toBeGreaterThan(49_000);
      pttls.add(Math.round(pttl / 1000));
    }
    expect(pttls.size).toBeGreaterThan(1);
  });

  it('answers a hit with one round trip: a plain GET, or one EVALSHA when a stale window or L1 is on', async () => {
    const { cache } = make();
    await cache.set('hit', { ok: true });
    const { result, operations } = await countWhile(() => cache.get('hit'));
    expect(result).toEqual({ ok: true });
    expect(operations).toEqual(['GET']);
    const loaded = await countWhile(() => cache.getOrLoad('hit', () => ({ ok: false })));
    expect(loaded.result).toEqual({ ok: true });
    expect(loaded.operations).toEqual(['GET']);
    const { cache: graced } = make({ staleMs: 1000 });
    await graced.set('hit', { ok: true });
    expect((await countWhile(() => graced.get('hit'))).operations).toEqual(['EVALSHA']);
    expect((await countWhile(() => graced.getOrLoad('hit', () => 1))).operations).toEqual(['EVALSHA']);
    const { cache: distributed } = make({ distributed: true });
    await distributed.set('hit', { ok: true });
    expect((await countWhile(() => distributed.getOrLoad('hit', () => 1))).operations).toEqual(['EVALSHA']);
  });

  it('an entry written with a per-call stale window is judged on the server clock by a plain-GET cache', async () => {
    const { cache } = make();
    await cache.set('window', 'v', { staleMs: 1000 });
    const twice = await countWhile(() => cache.get('window'));
    expect(twice.result).toBe('v');
    expect(twice.operations).toEqual(['GET', 'EVALSHA']);
    expect((await countWhile(() => cache.getOrLoad('window', () => 'x'))).operations).toEqual([
      'GET',
      'EVALSHA',
    ]);
    await cache.set('swr-call', 'old', { ttlMs: 50, staleMs: 60_000 });
    await waitUntil(async () => (await cache.get('swr-call')) === undefined);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    expect(
      await cache.getOrLoad(
        'swr-call',
        async () => {
          await gate;
          return 'new';
        },
        { staleMs: 60_000 },
      ),
    ).toBe('old');
    release();
    await waitUntil(async () => (await cache.get('swr-call')) === 'new');
  });

  it('deletes keys across slots and reports how many existed', async () => {
    const { cache } = make();
    await cache.setMany([
      { key: 'd1', value: 1 },
      { key: 'd2', value: 2 },
      { key: 'd3', value: 3 },
    ]);
    expect(await cache.delete('d1', 'd2', 'd3', 'missing')).toBe(3);
    expect(await cache.getMany(['d1', 'd2', 'd3'])).toEqual([undefined, undefined, undefined]);
    expect(await cache.delete()).toBe(0);
  });

  it('getMany/setMany keep the order and use one round trip per slot', async () => {
    const { cache, prefix } = make();
    const keys = Array.from({ length: 12 }, (_, i) => `m${i}`);
    const slots = new Set(keys.map((key) => keySlot(`${prefix}{${key}}`)));
    const expectedTrips = topology === 'cluster' ? slots.size : 1;
    const written = await countWhile(() =>
      cache.setMany(keys.filter((_, i) => i % 2 === 0).map((key, i) => ({ key, value: { i, key } }))),
    );
    expect(written.result).toBe(true);
    const readBack = await countWhile(() => cache.getMany(keys));
    expect(readBack.result).toEqual(keys.map((key, i) => (i % 2 === 0 ? { i: i / 2, key } : undefined)));
    expect(readBack.operations.filter((op) => op === 'EVALSHA').length).toBe(expectedTrips);
    expect(readBack.operations.length).toBe(expectedTrips);
    expect(await cache.getMany([])).toEqual([]);
  });

  it('setMany honours per-entry ttlMs', async () => {
    const { cache, prefix } = make();
    await cache.setMany([
      { key: 'short', value: 1, ttlMs: 1000 },
      { key: 'long', value: 2, ttlMs: 100_000 },
    ]);
    expect((await raw(connected.redis, 'PTTL', `${prefix}{short}`)) as number).toBeLessThanOrEqual(1000);
    expect((await raw(connected.redis, 'PTTL', `${prefix}{long}`)) as number).toBeGreaterThan(50_000);
  });

  it('getOrLoad loads on a miss, stores, then hits without the loader', async () => {
    const { cache } = make();
    let calls = 0;
    const loader = async ({ key }: { key: string }) => {
      calls++;
      return { key, n: calls };
    };
    expect(await cache.getOrLoad('g', loader)).toEqual({ key: 'g', n: 1 });
    expect(await cache.getOrLoad('g', loader)).toEqual({ key: 'g', n: 1 });
    expect(await cache.get('g')).toEqual({ key: 'g', n: 1 });
    expect(calls).toBe(1);
  });

  it('100 concurrent misses of one key call the loader once', async () => {
    const { cache } = make();
    let calls = 0;
    const results = await Promise.all(
      Array.from({ length: 100 }, () =>
        cache.getOrLoad('stampede', async () => {
          calls++;
          await sleep(50);
          return 'loaded';
        }),
      ),
    );
    expect(calls).toBe(1);
    expect(new Set(results)).toEqual(new Set(['loaded']));
  });

  it('does not cache loader errors; every coalesced caller gets the error', async () => {
    const { cache } = make();
    let calls = 0;
    const boom = new Error('database down');
    const settled = await Promise.allSettled(
      Array.from({ length: 10 }, () =>
        cache.getOrLoad('fails', async () => {
          calls++;
          await sleep(20);
          throw boom;
        }),
      ),
    );
    expect(calls).toBe(1);
    for (const result of settled) {
      expect(result.status).toBe('rejected');
      expect((result as PromiseRejectedResult).reason).toBe(boom);
    }
    expect(await cache.get('fails')).toBeUndefined();
    expect(await cache.getOrLoad('fails', () => 'recovered')).toBe('recovered');
    expect(calls).toBe(1);
  });

  it('treats a foreign string value as a miss and replaces it', async () => {
    const { cache, prefix } = make();
    await raw(connected.redis, 'SET', `${prefix}{foreign}`, '{"not":"ours"}');
    expect(await cache.get('foreign')).toBeUndefined();
    expect(await cache.getOrLoad('foreign', () => 'replaced')).toBe('replaced');
    expect(await cache.get('foreign')).toBe('replaced');
    expect(String(await raw(connected.redis, 'GET', `${prefix}{foreign}`))).toMatch(/^~rc1 /);
  });

  it('treats a value of another Redis type as a miss and replaces it', async () => {
    const { cache, prefix } = make();
    await raw(connected.redis, 'RPUSH', `${prefix}{list}`, 'a', 'b');
    expect(await cache.get('list')).toBeUndefined();
    expect(await cache.getMany(['list'])).toEqual([undefined]);
    expect(await cache.getOrLoad('list', () => 'now a string')).toBe('now a string');
    expect(await raw(connected.redis, 'TYPE', `${prefix}{list}`)).toBe('string');
  });

  it('treats a payload the serializer cannot read as a miss and replaces it', async () => {
    const { cache, prefix } = make();
    await raw(connected.redis, 'SET', `${prefix}{bad}`, '~rc1 1 60000 0 \n{not json');
    expect(await cache.get('bad')).toBeUndefined();
    expect(await cache.getOrLoad('bad', () => ({ good: true }))).toEqual({ good: true });
    expect(await cache.get('bad')).toEqual({ good: true });
  });

  it('serves a stale value at once while one background refresh runs', async () => {
    const { cache } = make({ staleMs: 60_000 });
    await cache.set('swr', 'old', { ttlMs: 50 });
    await waitUntil(async () => (await cache.get('swr')) === undefined);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let calls = 0;
    const loader = async () => {
      calls++;
      await gate;
      return 'new';
    };
    // The refresh is blocked on the gate, so these can only be answered from the stale value.
    expect(await cache.getOrLoad('swr', loader)).toBe('old');
    expect(await cache.getOrLoad('swr', loader)).toBe('old');
    expect(calls).toBe(1);
    release();
    await waitUntil(async () => (await cache.get('swr')) === 'new');
    expect(calls).toBe(1);
  });

  it('with distributed, only the lease holder refreshes a stale entry (two instances = two processes)', async () => {
    const prefix = uniquePrefix('swr-dist');
    const { cache: first } = make({ prefix, staleMs: 60_000, distributed: { leaseMs: 5000 } });
    const { cache: second } = make({ prefix, staleMs: 60_000, distributed: { leaseMs: 5000 } });
    await first.set('k', 'old', { ttlMs: 50 });
    await waitUntil(async () => (await first.get('k')) === undefined);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let calls = 0;
    const loader = async () => {
      calls++;
      await gate;
      return 'new';
    };
    expect(await Promise.all([first.getOrLoad('k', loader), second.getOrLoad('k', loader)])).toEqual([
      'old',
      'old',
    ]);
    release();
    await waitUntil(async () => (await second.get('k')) === 'new');
    expect(calls).toBe(1);
  });

  it('serves the stale value when the loader fails (with a soft timeout)', async () => {
    const { cache } = make({ staleMs: 60_000, softTimeoutMs: 5_000 });
    await cache.set('grace', 'old', { ttlMs: 50 });
    await waitUntil(async () => (await cache.get('grace')) === undefined);
    expect(
      await cache.getOrLoad('grace', () => {
        throw new Error('source down');
      }),
    ).toBe('old');
    // Not replaced: the next good load still happens.
    expect(await cache.getOrLoad('grace', () => 'fresh')).toBe('fresh');
  });

  it('soft timeout: serves stale when the loader is slow, and stores its result when it finishes', async () => {
    const { cache } = make({ staleMs: 60_000 });
    await cache.set('soft', 'old', { ttlMs: 50 });
    await waitUntil(async () => (await cache.get('soft')) === undefined);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const value = await cache.getOrLoad(
      'soft',
      async () => {
        await gate;
        return 'new';
      },
      { softTimeoutMs: 20 },
    );
    expect(value).toBe('old');
    release();
    await waitUntil(async () => (await cache.get('soft')) === 'new');
  });

  it('hard timeout: aborts the loader and rejects with CacheLoaderTimeoutError when nothing is stale', async () => {
    const { cache } = make({ hardTimeoutMs: 50 });
    let signal: AbortSignal | undefined;
    const error = await cache
      .getOrLoad('hard', (context) => {
        signal = context.signal;
        return new Promise(() => {});
      })
      .catch((e: unknown) => e);
    expect(CacheLoaderTimeoutError.isInstance(error)).toBe(true);
    expect((error as CacheLoaderTimeoutError).timeoutMs).toBe(50);
    expect(signal?.aborted).toBe(true);
    expect(await cache.get('hard')).toBeUndefined();
  });

  it('hard timeout with a stale value serves the stale value', async () => {
    const { cache } = make({ staleMs: 60_000, softTimeoutMs: 10, hardTimeoutMs: 50 });
    await cache.set('hard2', 'old', { ttlMs: 50 });
    await waitUntil(async () => (await cache.get('hard2')) === undefined);
    expect(await cache.getOrLoad('hard2', () => new Promise(() => {}))).toBe('old');
  });

  it('invalidates by tag in one call; untagged and later entries are unaffected', async () => {
    const { cache } = make();
    await cache.set('t1', 1, { tags: ['team:1'] });
    await cache.set('t2', 2, { tags: ['team:1', 'org:9'] });
    await cache.set('t3', 3, { tags: ['team:2'] });
    await cache.set('t4', 4);
    await cache.invalidateTags('team:1');
    expect(await cache.getMany(['t1', 't2', 't3', 't4'])).toEqual([undefined, undefined, 3, 4]);
    expect(await cache.get('t2')).toBeUndefined();
    await cache.set('t1', 'again', { tags: ['team:1'] });
    expect(await cache.get('t1')).toBe('again');
    let calls = 0;
    const reload = () => {
      calls++;
      return 'reloaded';
    };
    expect(await cache.getOrLoad('t2', reload, { tags: ['team:1'] })).toBe('reloaded');
    expect(calls).toBe(1);
    await cache.invalidateTags('org:9', 'team:2');
    expect(await cache.get('t3')).toBeUndefined();
    expect(await cache.get('t2')).toBe('reloaded');
  });

  it('a tag invalidation is not bypassed by the stale window (grace)', async () => {
    const { cache } = make({ staleMs: 60_000 });
    await cache.set('tg', 'old', { ttlMs: 50, tags: ['g'] });
    await waitUntil(async () => (await cache.get('tg')) === undefined);
    await cache.invalidateTags('g');
    let calls = 0;
    const load = () => {
      calls++;
      return 'new';
    };
    expect(await cache.getOrLoad('tg', load, { tags: ['g'] })).toBe('new');
    expect(calls).toBe(1);
  });

  it('L1: serves repeated reads from memory and is invalidated by another instance', async () => {
    const prefix = uniquePrefix('l1');
    const { cache: a } = make({ prefix, l1: true });
    const { cache: b } = make({ prefix });
    await l1Ready(a);
    await b.set('k', 'v1');
    expect(await a.get('k')).toBe('v1');
    const second = await countWhile(() => a.get('k'));
    expect(second.result).toBe('v1');
    expect(second.operations).toEqual([]);
    // b has no L1 but shares the prefix: its writes are announced only when it announces, so use an
    // L1 instance as the writer.
    const { cache: c } = make({ prefix, l1: true });
    await l1Ready(c);
    await c.set('k', 'v2');
    await waitUntil(async () => (await a.get('k')) === 'v2');
    await c.delete('k');
    await waitUntil(async () => (await a.get('k')) === undefined);
    await c.set('tagged', 1, { tags: ['x'] });
    expect(await a.get('tagged')).toBe(1);
    await c.invalidateTags('x');
    await waitUntil(async () => (await a.get('tagged')) === undefined);
  });

  it('L1 is bounded (least recently used evicted)', async () => {
    const { cache } = make({ l1: { maxEntries: 2 } });
    await l1Ready(cache);
    await cache.set('a', 1);
    await cache.set('b', 2);
    await cache.set('c', 3);
    const reads = await countWhile(async () => [
      await cache.get('b'),
      await cache.get('c'),
      await cache.get('a'),
    ]);
    expect(reads.result).toEqual([2, 3, 1]);
    expect(reads.operations).toEqual(['EVALSHA']); // only 'a' was evicted
  });

  if (topology === 'standalone') {
    it('L1 is cleared when the invalidation channel reconnects', async () => {
      const { cache } = make({ l1: true, ttlMs: 600_000 });
      await l1Ready(cache);
      await cache.set('r', 1);
      expect((await countWhile(() => cache.get('r'))).operations).toEqual([]);
      await connected.redis.send({ name: 'CLIENT', args: ['KILL', 'TYPE', 'pubsub'] });
      await waitUntil(async () => (await countWhile(() => cache.get('r'))).operations.length > 0, 20_000);
    });
  }
});
