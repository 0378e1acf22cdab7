// Redis stopped under a holder: these tests start their own server and kill it (never the shared one).
import type { RedisLike } from '@redisotel/core-hooks';
import { CLIENTS, type ConnectedClient, connectClient } from '@redisotel/test-clients';
import { type StandaloneHandle, startRedis } from '@redisotel/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLock, LockLostError, LockUnavailableError } from '../src/index.js';
import { untilAborted, waitUntil } from './support.js';

describe.each(CLIENTS)('$name with Redis stopped', (client) => {
  let server: StandaloneHandle;
  let connected: ConnectedClient;
  let redis: RedisLike;

  beforeAll(async () => {
    server = await startRedis({ topology: 'standalone' });
    connected = await connectClient(client, server.deployment);
    // The clients report connection errors as 'error' events; this test causes them on purpose.
    (connected.client as { on(event: 'error', listener: () => void): void }).on('error', () => {});
    redis = connected.redis;
  });
  afterAll(async () => {
    await connected?.close().catch(() => {});
    await server?.stop();
  });
  beforeEach(async () => {
    if (!server.servers[0]!.running) await server.restart(server.port);
    await waitUntil(async () =>
      redis
        .send({ name: 'PING', args: [] }, { timeoutMs: 500 })
        .then(() => true)
        .catch(() => false),
    );
  });

  it('aborts the lease signal within the TTL when extensions cannot reach Redis', async () => {
    const ttlMs = 2000;
    const lease = await createLock(redis, 'stopped', { ttlMs, autoExtendIntervalMs: 300 }).acquire();
    const killedAt = Date.now();
    await server.kill(server.port);
    const reason = await untilAborted(lease.signal, ttlMs + 10_000);
    const abortedAt = Date.now();
    expect(LockLostError.isInstance(reason)).toBe(true);
    expect((reason as LockLostError).reason).toBe('expired');
    // The loss is declared no later than the lease's expiry on Redis' clock (same host: same clock);
    // the bound is generous for timer lag on a loaded machine, never tighter than the TTL itself.
    expect(abortedAt - killedAt).toBeLessThan(ttlMs + 1500);
    expect(lease.held).toBe(false);
  });

  it('withLock rejects with LockLostError when Redis stops while the function runs', async () => {
    const error = await createLock(redis, 'stopped-with-lock', { ttlMs: 1500, autoExtendIntervalMs: 300 })
      .withLock(async (signal) => {
        await server.kill(server.port);
        await untilAborted(signal, 15_000);
        return 'finished';
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(LockLostError.isInstance(error)).toBe(true);
  });

  it('acquire fails closed with LockUnavailableError while Redis is down', async () => {
    await server.kill(server.port);
    const error = await createLock(redis, 'down', { ttlMs: 1000, waitMs: 0 })
      .acquire()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(LockUnavailableError.isInstance(error)).toBe(true);
    expect((error as LockUnavailableError).operation).toBe('acquire');
    expect((error as Error).cause).toBeDefined();
  });

  it('works again after Redis comes back', async () => {
    const lock = createLock(redis, 'back', { ttlMs: 2000 });
    const lease = await lock.acquire();
    expect(await lease.release()).toBe(true);
  });
});
