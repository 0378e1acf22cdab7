import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectResp, type RespConnection, RespReplyError } from '../src/index.js';
import { useRedisDeployment } from '../src/vitest.js';

const { deployment, key } = useRedisDeployment('standalone');

describe('connectResp', () => {
  let connection: RespConnection;
  beforeAll(async () => {
    connection = await connectResp({ host: deployment.host, port: deployment.port });
  });
  afterAll(async () => {
    await connection.close();
  });

  it('sends commands and decodes simple strings, bulk strings, integers, nil and arrays', async () => {
    expect(await connection.command(['PING'])).toBe('PONG');
    expect(await connection.command(['SET', key('a'), 'héllo'])).toBe('OK');
    expect(await connection.command(['GET', key('a')])).toBe('héllo');
    expect(await connection.command(['GET', key('missing')])).toBeNull();
    expect(await connection.command(['RPUSH', key('list'), 1, 2, 3])).toBe(3);
    expect(await connection.command(['LRANGE', key('list'), 0, -1])).toEqual(['1', '2', '3']);
    expect(await connection.command(['BLPOP', key('empty'), '0.01'])).toBeNull();
  });

  it('returns Buffers with binary and sends Buffer arguments unchanged', async () => {
    const bytes = Buffer.from([0, 255, 13, 10, 36]);
    await connection.command(['SET', key('bin'), bytes]);
    const reply = await connection.command(['GET', key('bin')], { binary: true });
    expect(Buffer.isBuffer(reply)).toBe(true);
    expect(Buffer.compare(reply as Buffer, bytes)).toBe(0);
  });

  it('rejects error replies with RespReplyError whose message is the reply', async () => {
    await connection.command(['SET', key('str'), 'x']);
    const error = await connection.command(['LPUSH', key('str'), 'y']).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RespReplyError);
    expect((error as RespReplyError).prefix).toBe('WRONGTYPE');
    expect((error as RespReplyError).message).toMatch(
      /^WRONGTYPE Operation against a key holding the wrong kind/,
    );
    // the connection stays usable after an error reply
    expect(await connection.command(['PING'])).toBe('PONG');
  });

  it('keeps an error inside an EXEC reply in place', async () => {
    await connection.command(['SET', key('tx'), 'text']);
    await connection.command(['MULTI']);
    await connection.command(['INCR', key('tx')]);
    await connection.command(['GET', key('tx')]);
    const reply = (await connection.command(['EXEC'])) as unknown[];
    expect(reply).toHaveLength(2);
    expect(reply[0]).toBeInstanceOf(RespReplyError);
    expect(reply[1]).toBe('text');
  });

  it('answers pipelined commands in order', async () => {
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, index) => connection.command(['INCRBY', key('counter'), index])),
    );
    let total = 0;
    expect(replies).toEqual(Array.from({ length: 50 }, (_, index) => (total += index)));
  });

  it('reassembles replies split across TCP packets', async () => {
    const large = 'x'.repeat(1024 * 1024);
    await connection.command(['SET', key('large'), large]);
    expect(await connection.command(['GET', key('large')])).toBe(large);
  });

  it('rejects pending and later commands once the connection closed', async () => {
    const other = await connectResp({ host: deployment.host, port: deployment.port });
    const pending = other.command(['BLPOP', key('never'), 0]);
    other.destroy();
    await expect(pending).rejects.toThrow(/connection to .* (closed|destroyed)/);
    await expect(other.command(['PING'])).rejects.toThrow(/is closed/);
    expect(other.open).toBe(false);
  });

  it('authenticates and selects a database', async () => {
    const other = await connectResp({ host: deployment.host, port: deployment.port, database: 2 });
    await other.command(['SET', key('db2'), 'two']);
    expect(await connection.command(['GET', key('db2')])).toBeNull();
    expect(await other.command(['GET', key('db2')])).toBe('two');
    await other.close();
    await expect(
      connectResp({ host: deployment.host, port: deployment.port, password: 'wrong' }),
    ).rejects.toBeInstanceOf(RespReplyError);
  });

  it('fails to connect with a clear error', async () => {
    const error = await connectResp({ host: '127.0.0.1', port: 1 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/cannot connect to 127\.0\.0\.1:1: .*ECONNREFUSED/);
    expect((error as Error).cause).toBeDefined();
  });

  it('validates its options', async () => {
    await expect(connectResp({ port: 0 })).rejects.toThrow(RangeError);
    await expect(connectResp({ port: 0 })).rejects.toThrow(/options\.port .* received 0/);
    await expect(connectResp({ port: '6379' as unknown as number })).rejects.toThrow(TypeError);
    await expect(connectResp({ port: 6380, connectTimeoutMs: -1 })).rejects.toThrow(/connectTimeoutMs .* -1/);
  });
});
