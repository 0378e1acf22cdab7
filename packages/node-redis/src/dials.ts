import * as diagnostics from 'node:diagnostics_channel';
import { type DialInfo, RedisConnectionError } from '@redisotel/core-hooks';
import { standaloneEndpoint } from './describe.js';
import { connectionCode } from './errors.js';
import type { ClientHandle, NodeRedisEmitter, NodeRedisStandalone } from './internal-types.js';

/** What the driver hands core-hooks for each connection attempt. */
export type DialReporter = (info: DialInfo, connected: Promise<void>) => void;

/** One connection attempt per key (a node address); settling it resolves or rejects its promise. */
class Attempts {
  readonly #pending = new Map<string, { resolve: () => void; reject: (error: Error) => void }>();
  readonly #report: DialReporter;

  constructor(report: DialReporter) {
    this.#report = report;
  }

  begin(key: string, info: DialInfo): void {
    // A new attempt while one is pending: the previous one failed (node-redis retries in a loop).
    this.fail(
      key,
      new RedisConnectionError('connection attempt failed; node-redis is retrying', 'CONNECT_FAILED'),
    );
    let resolve!: () => void;
    let reject!: (error: Error) => void;
    const connected = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    connected.catch(() => {}); // observed by the dial chain; never an unhandled rejection here
    this.#pending.set(key, { resolve, reject });
    this.#report(info, connected);
  }

  succeed(key: string): void {
    const attempt = this.#pending.get(key);
    if (attempt === undefined) return;
    this.#pending.delete(key);
    attempt.resolve();
  }

  fail(key: string, error: unknown): void {
    const attempt = this.#pending.get(key);
    if (attempt === undefined) return;
    this.#pending.delete(key);
    const code = connectionCode(error);
    attempt.reject(
      RedisConnectionError.isInstance(error)
        ? error
        : new RedisConnectionError(
            `connection failed: ${error instanceof Error ? error.message : String(error)} (${code})`,
            code,
            undefined,
            { cause: error },
          ),
    );
  }

  failAll(error: unknown): void {
    for (const key of [...this.#pending.keys()]) this.fail(key, error);
  }
}

const CONNECT_START = 'tracing:node-redis:connect:start';

/**
 * Report the connection attempts of a standalone client: the first `connect()` (through node-redis'
 * `node-redis:connect` tracing channel, when the installed version publishes it) and every reconnect
 * (`reconnecting` → `ready`; a failed attempt is followed by the next `reconnecting` or by `end`). No
 * `error` listener is added: that would silence the client's own unhandled-`error` behaviour. The promise settles when the connection is ready, so the dial
 * span measures the real connect + handshake time. Returns a function that stops observing.
 */
export function observeStandaloneDials(
  client: NodeRedisStandalone,
  purpose: DialInfo['purpose'],
  report: DialReporter,
): () => void {
  const attempts = new Attempts(report);
  const endpoint = standaloneEndpoint(client);
  const info: DialInfo =
    endpoint.port === undefined
      ? { address: endpoint.address, purpose }
      : { address: endpoint.address, port: endpoint.port, purpose };
  const key = 'self';
  // The first connect() is only visible on node-redis' connect channel (>= 5.12). The global
  // subscription holds the client, so it lasts only until that first connection ends one way or another.
  let watchingStart = false;
  const onStart = (message: unknown) => {
    const clientId = (message as { clientId?: unknown } | undefined)?.clientId;
    if (clientId !== undefined && clientId === client._clientId) attempts.begin(key, info);
  };
  const stopWatchingStart = () => {
    if (!watchingStart) return;
    watchingStart = false;
    diagnostics.unsubscribe(CONNECT_START, onStart);
  };
  const onReconnecting = () => attempts.begin(key, info);
  const onReady = () => {
    stopWatchingStart();
    attempts.succeed(key);
  };
  const onEnd = () => {
    stopWatchingStart();
    attempts.fail(key, new RedisConnectionError('client closed while connecting', 'CLIENT_CLOSED'));
  };
  const emitter = client as NodeRedisEmitter;
  emitter.on('reconnecting', onReconnecting);
  emitter.on('ready', onReady);
  emitter.on('end', onEnd);
  emitter.on('terminated', onEnd);
  if (!client.isOpen) {
    watchingStart = true;
    diagnostics.subscribe(CONNECT_START, onStart);
  }
  return () => {
    stopWatchingStart();
    emitter.off('reconnecting', onReconnecting);
    emitter.off('ready', onReady);
    emitter.off('end', onEnd);
    emitter.off('terminated', onEnd);
  };
}

/** Report the connection attempts of any kind of client (see {@link observeStandaloneDials}). */
export function observeDials(handle: ClientHandle, report: DialReporter): () => void {
  if (handle.kind === 'standalone') return observeStandaloneDials(handle.client, 'command', report);
  const attempts = new Attempts(report);
  const emitter = handle.client as NodeRedisEmitter;
  const listeners: [string, (...args: never[]) => void][] = [];
  const on = (event: string, listener: (...args: never[]) => void) => {
    emitter.on(event, listener);
    listeners.push([event, listener]);
  };
  if (handle.kind === 'cluster') {
    type NodeInfo = { host?: string; port?: number } | undefined;
    const keyOf = (node: NodeInfo) => `${node?.host ?? '?'}:${node?.port ?? '?'}`;
    on('node-reconnecting', ((node: NodeInfo) =>
      attempts.begin(keyOf(node), {
        address: node?.host ?? 'unknown',
        ...(node?.port !== undefined ? { port: node.port } : {}),
        purpose: 'command',
      })) as never);
    on('node-ready', ((node: NodeInfo) => attempts.succeed(keyOf(node))) as never);
    on('node-error', ((error: unknown, node: NodeInfo) => attempts.fail(keyOf(node), error)) as never);
    on('disconnect', (() =>
      attempts.failAll(
        new RedisConnectionError('cluster closed while connecting', 'CLIENT_CLOSED'),
      )) as never);
  } else {
    const sentinel = handle.client;
    on('reconnecting', (() => {
      const master = safe(() => sentinel.getMasterNode());
      attempts.begin('master', {
        address: master?.host ?? 'unknown',
        ...(master?.port !== undefined ? { port: master.port } : {}),
        purpose: 'command',
      });
    }) as never);
    on('ready', (() => attempts.succeed('master')) as never);
    on('end', (() =>
      attempts.failAll(
        new RedisConnectionError('sentinel closed while connecting', 'CLIENT_CLOSED'),
      )) as never);
  }
  return () => {
    for (const [event, listener] of listeners) emitter.off(event, listener);
  };
}

function safe<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}
