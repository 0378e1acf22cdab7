import { createServer } from 'node:net';

function listenOnce(port: number, host: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(undefined));
    server.listen({ port, host, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : undefined;
      server.close(() => resolve(bound));
    });
  });
}

const handedOut = new Set<number>();

/**
 * A port that is free on `host` right now (bind port 0, close). With `busOffset`, `port + busOffset` must
 * be free too (the cluster bus). Ports handed out by this process are not handed out again, so parallel
 * starts in one process do not collide; other processes can still race us, which is why spawning
 * retries on `EADDRINUSE`.
 * @internal
 */
export async function freePort(host = '127.0.0.1', busOffset?: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const port = await listenOnce(0, host);
    if (port === undefined || handedOut.has(port)) continue;
    if (busOffset !== undefined) {
      if (port + busOffset > 65535) continue;
      if ((await listenOnce(port + busOffset, host)) === undefined) continue;
    }
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free port found on ${host}`);
}
