import { describe, expect, it } from 'vitest';
import { startContainer } from '../src/container.js';
import { parseNodeList } from '../src/external.js';
import { dockerAvailable, RedisDeploymentError, RedisUnavailableError, startRedis } from '../src/index.js';
import { respCommand } from '../src/resp.js';
import { useRedisDeployment } from '../src/vitest.js';
import { noRedisEnv } from './helpers.js';

const { deployment } = useRedisDeployment('standalone');

describe('startRedis options', () => {
  it('rejects invalid options with TypeError / RangeError naming the option and the value', async () => {
    await expect(startRedis(undefined as never)).rejects.toThrow(TypeError);
    await expect(startRedis({ topology: 'mesh' } as never)).rejects.toThrow(
      /options\.topology must be one of standalone, cluster, sentinel, received "mesh"/,
    );
    await expect(startRedis({ topology: 'mesh' } as never)).rejects.toBeInstanceOf(RangeError);
    await expect(startRedis({ topology: 1 } as never)).rejects.toThrow(
      /options\.topology must be a string, received 1/,
    );
    await expect(startRedis({ topology: 'standalone', startTimeoutMs: 0 })).rejects.toThrow(
      /options\.startTimeoutMs must be a positive finite number, received 0/,
    );
    await expect(startRedis({ topology: 'standalone', startTimeoutMs: '5' as never })).rejects.toBeInstanceOf(
      TypeError,
    );
    await expect(startRedis({ topology: 'cluster', nodeTimeoutMs: -5 })).rejects.toThrow(
      /nodeTimeoutMs .* -5/,
    );
    await expect(startRedis({ topology: 'sentinel', downAfterMs: Number.NaN })).rejects.toThrow(
      /downAfterMs/,
    );
    await expect(startRedis({ topology: 'sentinel', masterName: 'has space' })).rejects.toThrow(
      /options\.masterName .* received "has space"/,
    );
    await expect(startRedis({ topology: 'standalone', sources: ['cloud'] as never })).rejects.toThrow(
      /options\.sources entries must be external, binary, container, received "cloud"/,
    );
    await expect(startRedis({ topology: 'standalone', sources: [] })).rejects.toBeInstanceOf(TypeError);
    await expect(startRedis({ topology: 'standalone', serverArgs: [1] as never })).rejects.toThrow(
      /options\.serverArgs must be an array of strings/,
    );
  });
});

describe('when no Redis can be had', () => {
  it.each(['standalone', 'cluster', 'sentinel'] as const)(
    'a %s start fails with the reasons and exactly the three ways to fix it',
    async (topology) => {
      const error = await startRedis({ topology, env: noRedisEnv() }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(RedisUnavailableError);
      const { message, reasons } = error as RedisUnavailableError;
      expect(reasons).toHaveLength(3);
      expect(reasons[0]).toMatch(/^external: REDIS_/);
      expect(reasons[1]).toBe('binary: REDIS_SERVER_BIN=/nonexistent/redis-server is not an executable file');
      // this machine runs no Docker engine; where one runs the reason names testcontainers instead
      expect(reasons[2]).toMatch(/^container: /);
      expect(message).toContain(`could not get a Redis ${topology} deployment`);
      expect(message).toContain('Fix it one of three ways:');
      expect(message).toMatch(
        /1\. point at a running deployment: REDIS_URL=.*REDIS_CLUSTER_NODES=.*REDIS_SENTINEL_NODES=/,
      );
      expect(message).toMatch(
        /2\. install Redis 6\.2\+ so that redis-server is on PATH .* or set REDIS_SERVER_BIN/,
      );
      expect(message).toMatch(
        /3\. run Docker \(DOCKER_HOST or \/var\/run\/docker\.sock\) and install .* testcontainers/,
      );
      expect(message).not.toMatch(/\n {2}4\./);
    },
  );

  it('names PATH when REDIS_SERVER_BIN is not set', async () => {
    const error = (await startRedis({
      topology: 'standalone',
      sources: ['binary'],
      env: { PATH: '/nonexistent-bin' },
    }).catch((caught: unknown) => caught)) as RedisUnavailableError;
    expect(error.reasons).toEqual(['binary: redis-server is not on PATH and REDIS_SERVER_BIN is not set']);
  });
});

describe('external deployments', () => {
  it('uses REDIS_URL for standalone and refuses fault controls', async () => {
    const redis = await startRedis({ topology: 'standalone', env: { REDIS_URL: deployment.url } });
    expect(redis.source).toBe('external');
    expect(redis.port).toBe(deployment.port);
    expect(redis.deployment).toMatchObject({
      topology: 'standalone',
      source: 'external',
      url: deployment.url,
    });
    expect(redis.servers[0]?.pid).toBeUndefined();
    await redis.waitHealthy();
    const error = await redis.kill(redis.port).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RedisDeploymentError);
    expect((error as Error).message).toMatch(
      /kill\(\) needs servers started by @redisotel\/testing .* external/,
    );
    await expect(redis.restart(redis.port)).rejects.toThrow(/restart\(\) needs servers started/);
    await redis.stop();
    // stop() on an external deployment leaves the server alone
    expect(await respCommand(deployment.host, deployment.port, ['PING'])).toBe('PONG');
  });

  it('keeps the credentials and database of REDIS_URL in the url', async () => {
    const redis = await startRedis({ topology: 'standalone', env: { REDIS_URL: `${deployment.url}/3` } });
    expect(redis.url).toBe(`${deployment.url}/3`);
    await redis.waitHealthy();
    await redis.stop();
  });

  it('fails loudly when REDIS_URL is set but does not answer (no silent fallback)', async () => {
    const error = await startRedis({
      topology: 'standalone',
      env: { REDIS_URL: 'redis://127.0.0.1:1' },
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RedisDeploymentError);
    expect((error as Error).message).toMatch(/REDIS_URL is set but the deployment does not answer/);
  });

  it('validates the env variables', async () => {
    await expect(startRedis({ topology: 'standalone', env: { REDIS_URL: 'not a url' } })).rejects.toThrow(
      /REDIS_URL must be a redis:\/\/host:port URL/,
    );
    await expect(startRedis({ topology: 'standalone', env: { REDIS_URL: 'rediss://h:1' } })).rejects.toThrow(
      /TLS is not supported/,
    );
    await expect(startRedis({ topology: 'sentinel', env: { REDIS_SENTINEL_NODES: 'h:1' } })).rejects.toThrow(
      /REDIS_SENTINEL_MASTER/,
    );
    expect(() => parseNodeList('REDIS_CLUSTER_NODES', 'a:1,b')).toThrow(/comma-separated host:port list/);
    expect(parseNodeList('REDIS_CLUSTER_NODES', ' a:1, [::1]:7000 ')).toEqual([
      { host: 'a', port: 1 },
      { host: '::1', port: 7000 },
    ]);
  });
});

describe('testcontainers source', () => {
  it('detects Docker from DOCKER_HOST or the socket', () => {
    expect(dockerAvailable({ DOCKER_HOST: 'tcp://docker:2375' }, () => false)).toEqual({ available: true });
    expect(dockerAvailable({}, (path) => path === '/var/run/docker.sock')).toEqual({ available: true });
    const none = dockerAvailable({}, () => false);
    expect(none.available).toBe(false);
    expect(none).toMatchObject({ reason: expect.stringMatching(/DOCKER_HOST is not set/) });
  });

  it('explains when testcontainers is not installed', async () => {
    const result = await startContainer('standalone', [], Date.now() + 1000, () =>
      Promise.reject(new Error("Cannot find package 'testcontainers'")),
    );
    expect(result).toEqual({
      reason: expect.stringMatching(
        /Docker is reachable but the optional peer dependency testcontainers cannot be loaded \(npm install -D testcontainers\): Cannot find package/,
      ),
    });
  });

  it('is the thin path: standalone only', async () => {
    const result = await startContainer('cluster', [], Date.now() + 1000, () => {
      throw new Error('must not load');
    });
    expect(result).toEqual({ reason: expect.stringMatching(/starts standalone servers only/) });
  });

  it('the default loader really cannot find testcontainers here (it is an optional peer)', async () => {
    const result = await startContainer('standalone', [], Date.now() + 1000);
    expect(result).toEqual({ reason: expect.stringMatching(/testcontainers cannot be loaded/) });
  });
});
