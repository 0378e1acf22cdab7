import { existsSync, readlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectResp, RedisDeploymentError, startRedis } from '../src/index.js';
import { respCommand } from '../src/resp.js';
import { alive, expectCleanedUp } from './helpers.js';

const respCommandForTests = (port: number, args: (string | number)[]) => respCommand('127.0.0.1', port, args);

describe('startRedis standalone (binary)', () => {
  it('starts a server on a free port in a redisotel-* directory and stops it', async () => {
    const redis = await startRedis({ topology: 'standalone', sources: ['binary'] });
    const [server] = redis.servers;
    const pid = server?.pid as number;
    const directory = server?.directory as string;
    try {
      expect(redis.topology).toBe('standalone');
      expect(redis.source).toBe('binary');
      expect(redis.host).toBe('127.0.0.1');
      expect(redis.port).not.toBe(6379);
      expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
      expect(redis.redisVersion).toMatch(/^\d+\.\d+\.\d+$/);
      expect(alive(pid)).toBe(true);
      expect(dirname(directory)).toMatch(/\/redisotel-standalone-[^/]+$/);
      // the root check-leftovers script recognises our servers by their working directory
      expect(readlinkSync(`/proc/${pid}/cwd`)).toBe(directory);
      expect(await respCommandForTests(redis.port, ['PING'])).toBe('PONG');
      // no persistence
      expect(await respCommandForTests(redis.port, ['CONFIG', 'GET', 'save'])).toEqual(['save', '']);
      expect(await respCommandForTests(redis.port, ['CONFIG', 'GET', 'appendonly'])).toEqual([
        'appendonly',
        'no',
      ]);
      expect(JSON.parse(JSON.stringify(redis.deployment))).toEqual({
        topology: 'standalone',
        source: 'binary',
        redisVersion: redis.redisVersion,
        url: redis.url,
        host: '127.0.0.1',
        port: redis.port,
        nodes: [{ host: '127.0.0.1', port: redis.port, role: 'master' }],
      });
    } finally {
      await redis.stop();
    }
    await expectCleanedUp([pid], [dirname(directory)]);
    // idempotent
    await redis.stop();
  });

  it('kills and restarts the server on the same port', async () => {
    await using redis = await startRedis({ topology: 'standalone', sources: ['binary'] });
    const port = redis.port;
    const firstPid = redis.servers[0]?.pid as number;
    const connection = await connectResp({ port });
    await redis.kill(redis.servers[0] as never);
    expect(alive(firstPid)).toBe(false);
    expect(redis.servers[0]?.running).toBe(false);
    expect(redis.servers[0]?.pid).toBeUndefined();
    await expect(connection.command(['PING'])).rejects.toThrow();
    await expect(redis.waitHealthy({ timeoutMs: 300 })).rejects.toBeInstanceOf(RedisDeploymentError);

    await redis.restart(port);
    const secondPid = redis.servers[0]?.pid as number;
    expect(secondPid).not.toBe(firstPid);
    expect(redis.port).toBe(port);
    await redis.waitHealthy();
    expect(await respCommandForTests(port, ['PING'])).toBe('PONG');
    await expect(redis.restart(port)).rejects.toThrow(/is running: kill it first/);
  });

  it('passes extra server arguments and rejects unknown nodes', async () => {
    const redis = await startRedis({
      topology: 'standalone',
      sources: ['binary'],
      serverArgs: ['--maxmemory', '12mb'],
    });
    try {
      expect(await respCommandForTests(redis.port, ['CONFIG', 'GET', 'maxmemory'])).toEqual([
        'maxmemory',
        String(12 * 1024 * 1024),
      ]);
      await expect(redis.kill(1)).rejects.toThrow(RangeError);
      await expect(redis.kill('x' as never)).rejects.toThrow(TypeError);
    } finally {
      await redis.stop();
    }
    await expect(redis.kill(redis.port)).rejects.toThrow(/stopped/);
  });

  it('reports a server that cannot start with the end of its log', async () => {
    const error = await startRedis({
      topology: 'standalone',
      sources: ['binary'],
      serverArgs: ['--no-such-option', 'x'],
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RedisDeploymentError);
    expect((error as Error).message).toMatch(/exited .* while starting/);
    expect((error as Error).message).toMatch(/no-such-option/);
    // the server's own complaint, from its output file
    expect((error as Error).message).toMatch(/Bad directive or wrong number of arguments/);
  });

  it('leaves no directory behind after a failed start', async () => {
    const error = (await startRedis({
      topology: 'standalone',
      sources: ['binary'],
      serverArgs: ['--bad-option'],
    }).catch((caught: unknown) => caught)) as Error;
    const match = /--- (\/.*\/redisotel-standalone-[^/]+)\/node-0\/output\.log ---/.exec(error.message);
    expect(match?.[1]).toBeDefined();
    expect(existsSync(match?.[1] as string)).toBe(false);
  });
});
