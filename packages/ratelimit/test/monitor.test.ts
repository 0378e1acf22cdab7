import { randomBytes } from 'node:crypto';
import { connect as connectSocket, type Socket } from 'node:net';
import type { ConnectedClient } from '@redisotel/test-clients';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRateLimiter } from '../src/index.js';
import { ALGORITHMS, CLIENTS, connect, deploymentFor, filePrefix } from './support.js';

/** The commands Redis executes, from MONITOR, without those a script ran (`[… lua]`). */
class Monitor {
  readonly commands: string[] = [];
  /** What scripts ran: the command and its first argument (`PTTL key`). */
  readonly scripted: string[] = [];
  #socket: Socket | undefined;
  #buffer = '';
  readonly #markers = new Map<string, () => void>();

  async start(host: string, port: number): Promise<void> {
    const socket = connectSocket({ host, port });
    this.#socket = socket;
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.#buffer += chunk;
      for (let end = this.#buffer.indexOf('\r\n'); end !== -1; end = this.#buffer.indexOf('\r\n')) {
        this.#line(this.#buffer.slice(0, end));
        this.#buffer = this.#buffer.slice(end + 2);
      }
    });
    socket.write('MONITOR\r\n');
    await this.sync(host, port);
  }

  #line(line: string): void {
    const match = /^\+\d+\.\d+ \[\d+ ([^\]]+)\] "([^"]+)"(.*)$/.exec(line);
    if (!match) return;
    const marker = /^ "(monitor-marker-[0-9a-f]+)"$/.exec(match[3]!);
    if (match[2] === 'ECHO' && marker) {
      this.#markers.get(marker[1]!)?.();
      return;
    }
    if (match[1] !== 'lua') this.commands.push(match[2]!.toUpperCase());
    else this.scripted.push(`${match[2]!.toUpperCase()} ${/^ "([^"]*)"/.exec(match[3]!)?.[1] ?? ''}`);
  }

  /** Resolve once MONITOR showed everything sent before this call. */
  async sync(host: string, port: number): Promise<void> {
    const marker = `monitor-marker-${randomBytes(6).toString('hex')}`;
    const seen = new Promise<void>((resolve) => this.#markers.set(marker, resolve));
    const socket = connectSocket({ host, port });
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write(`ECHO ${marker}\r\n`);
    await seen;
    socket.destroy();
  }

  stop(): void {
    this.#socket?.destroy();
  }
}

describe.each(CLIENTS)('one round trip per decision, seen by the server ($name)', (client) => {
  let connected: ConnectedClient;
  const monitor = new Monitor();
  const prefix = filePrefix(`monitor-${client.library}`);
  const { host, port } = deploymentFor('standalone') as { host: string; port: number };

  beforeAll(async () => {
    connected = await connect(client, 'standalone');
    await monitor.start(host, port);
  });
  afterAll(async () => {
    monitor.stop();
    await connected?.close();
  });

  it('every consume, peek, penalty and reward is exactly one EVALSHA, admitted or denied, single or multi-limit', async () => {
    for (const algorithm of ALGORITHMS) {
      for (const limits of [
        [{ limit: 3, windowMs: 60_000 }],
        [
          { limit: 3, windowMs: 60_000 },
          { limit: 5, windowMs: 120_000 },
        ],
      ]) {
        const limiter = createRateLimiter(connected.redis, {
          name: 'monitor',
          prefix,
          algorithm,
          limits,
          blockDurationMs: 1000,
        });
        const key = `${algorithm}:${limits.length}`;
        await limiter.peek(key); // loads the script if this node lacks it
        await monitor.sync(host, port);
        monitor.commands.length = 0;
        for (let i = 0; i < 5; i++) await limiter.consume(key); // 3 admitted, 1 denied (starts a block), 1 blocked
        await limiter.peek(key);
        await limiter.penalty(key, 1);
        await limiter.reward(key, 1);
        await monitor.sync(host, port);
        expect(monitor.commands, `${algorithm} × ${limits.length}`).toEqual(Array(8).fill('EVALSHA'));
      }
    }
  });
  it('an admitted single-limit fixed-window consume reads no block key; a blocked one does', async () => {
    const limiter = createRateLimiter(connected.redis, {
      name: 'monitor-fw',
      prefix,
      algorithm: 'fixed-window',
      limit: 2,
      windowMs: 60_000,
      blockDurationMs: 60_000,
    });
    const key = 'fw-fast';
    await limiter.peek(key); // loads the script if this node lacks it
    await monitor.sync(host, port);
    monitor.scripted.length = 0;
    await limiter.consume(key);
    await limiter.consume(key);
    await monitor.sync(host, port);
    const admitted = [...monitor.scripted];
    expect(admitted.map((line) => line.split(' ')[0])).toEqual([
      'INCRBY',
      'PTTL',
      'PEXPIRE',
      'INCRBY',
      'PTTL',
    ]);
    expect(admitted.every((line) => !line.endsWith(':block'))).toBe(true);
    // Over the limit: the block starts, and the next consume finds it through the mark on the counter.
    monitor.scripted.length = 0;
    expect(await limiter.consume(key)).toMatchObject({ allowed: false, reason: 'limit-exceeded' });
    expect(await limiter.consume(key)).toMatchObject({ allowed: false, reason: 'blocked' });
    await monitor.sync(host, port);
    expect(
      monitor.scripted.filter((line) => line.startsWith('PTTL') && line.endsWith(':block')),
    ).toHaveLength(1);
  });
});
