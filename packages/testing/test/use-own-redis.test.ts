import { describe, expect, it } from 'vitest';
import { connectResp } from '../src/index.js';
import { useOwnRedis } from '../src/vitest.js';

describe('useOwnRedis', () => {
  const server = useOwnRedis({ topology: 'standalone', sources: ['binary'] });
  let readTooEarly: unknown;
  try {
    readTooEarly = server.port; // at collection time: before the beforeAll that starts it
  } catch (error) {
    readTooEarly = error;
  }

  it('throws, naming the topology, when read before its beforeAll ran', () => {
    expect(String(readTooEarly)).toMatch(/the standalone deployment is not started yet/);
  });

  it('stands for the started handle, methods included', async () => {
    expect(server.topology).toBe('standalone');
    expect(server.url).toBe(`redis://${server.host}:${server.port}`);
    const connection = await connectResp({ host: server.host, port: server.port });
    try {
      expect(await connection.command(['PING'])).toBe('PONG');
    } finally {
      await connection.close();
    }
    await server.kill(server.port);
    expect(server.servers[0]?.running).toBe(false);
    await server.restart(server.port);
    await server.waitHealthy();
    expect(server.servers[0]?.running).toBe(true);
  });
});
