import * as diagnostics from 'node:diagnostics_channel';
import {
  describeValue,
  RedisConnectionError,
  type RedisMessageListener,
  type RedisSubscriber,
  type Unsubscribe,
} from '@redisotel/core-hooks';
import { type DialReporter, observeStandaloneDials } from './dials.js';
import { toRedisotelError } from './errors.js';
import type {
  ClientHandle,
  NodeRedisCluster,
  NodeRedisEmitter,
  NodeRedisPubSub,
  NodeRedisPubSubListener,
  NodeRedisStandalone,
} from './internal-types.js';

const CONNECTION_READY = 'node-redis:connection:ready';

type Kind = 'channel' | 'pattern' | 'sharded';

const COMMANDS: Record<
  Kind,
  { subscribe: keyof NodeRedisPubSub; unsubscribe: keyof NodeRedisPubSub; name: string }
> = {
  channel: { subscribe: 'subscribe', unsubscribe: 'unsubscribe', name: 'SUBSCRIBE' },
  pattern: { subscribe: 'pSubscribe', unsubscribe: 'pUnsubscribe', name: 'PSUBSCRIBE' },
  sharded: { subscribe: 'sSubscribe', unsubscribe: 'sUnsubscribe', name: 'SSUBSCRIBE' },
};

/**
 * The subscriber of a node-redis client, built on what node-redis already does:
 * - standalone: one `client.duplicate()` opened on first use (the only connection this adapter ever
 *   opens), closed by `close()` or when the user's client ends; node-redis resubscribes it after a
 *   reconnect before it emits `ready`, which is when `onReconnect` listeners run;
 * - cluster: the cluster's own pub/sub connections (one node for channels and patterns, the slot
 *   owner for each sharded channel), which node-redis opens lazily, moves and resubscribes;
 *   `onReconnect` runs when any node connection of the cluster came back (it may over-report);
 * - sentinel: the sentinel's own pub/sub connection to the current master (it follows failovers and
 *   resubscribes); `onReconnect` runs after a master change, a reconnect of the sentinel client, or
 *   when any connection to the master became ready again (`node-redis:connection:ready`, node-redis
 *   >= 5.12; it may over-report, never under-report).
 */
export function createSubscriber(
  handle: ClientHandle,
  reportDial: DialReporter | undefined,
  options: { readonly diagnosticsChannel: boolean },
): RedisSubscriber {
  const reconnectListeners = new Set<() => void>();
  const active = new Set<{ kind: Kind; channels: string[]; wrapper: NodeRedisPubSubListener }>();
  let closed = false;
  let target: Promise<NodeRedisPubSub> | undefined;
  let dedicated: NodeRedisStandalone | undefined;
  const cleanups: (() => void)[] = [];

  const notifyReconnect = () => {
    for (const listener of [...reconnectListeners]) {
      try {
        listener();
      } catch {
        // A listener's failure must not stop the others (nor surface as an unhandled error).
      }
    }
  };

  const watch = (emitter: NodeRedisEmitter, event: string, listener: (...args: never[]) => void) => {
    emitter.on(event, listener);
    cleanups.push(() => emitter.off(event, listener));
  };

  const openTarget = (): Promise<NodeRedisPubSub> => {
    if (handle.kind !== 'standalone') {
      if (handle.kind === 'cluster') {
        const cluster = handle.client;
        if (options.diagnosticsChannel) {
          // node-redis 5 emits `node-ready` only once per node client: use the connection channel,
          // where a pub/sub client of this cluster becoming ready a second time is a reconnect.
          const seen = new Set<string>();
          const onConnectionReady = (message: unknown) => {
            const clientId = (message as { clientId?: string }).clientId;
            if (clientId === undefined || !pubSubClientIds(cluster).has(clientId)) return;
            if (seen.has(clientId)) {
              if (active.size > 0) notifyReconnect();
            } else seen.add(clientId);
          };
          for (const id of pubSubClientIds(cluster)) seen.add(id);
          diagnostics.subscribe(CONNECTION_READY, onConnectionReady);
          cleanups.push(() => diagnostics.unsubscribe(CONNECTION_READY, onConnectionReady));
        } else {
          const pendingNodes = new Set<string>();
          type NodeInfo = { host?: string; port?: number } | undefined;
          watch(cluster, 'node-reconnecting', ((node: NodeInfo) =>
            pendingNodes.add(`${node?.host}:${node?.port}`)) as never);
          watch(cluster, 'node-ready', ((node: NodeInfo) => {
            if (pendingNodes.delete(`${node?.host}:${node?.port}`) && active.size > 0) notifyReconnect();
          }) as never);
        }
      } else {
        let reconnecting = false;
        watch(handle.client, 'reconnecting', (() => {
          reconnecting = true;
        }) as never);
        watch(handle.client, 'ready', (() => {
          if (reconnecting && active.size > 0) notifyReconnect();
          reconnecting = false;
        }) as never);
        watch(handle.client, 'topology-change', ((event: { type?: string }) => {
          if (event?.type === 'MASTER_CHANGE' && active.size > 0) notifyReconnect();
        }) as never);
        // The sentinel's pub/sub connection reconnects on its own, without an event on the sentinel:
        // node-redis (>= 5.12) publishes every connection that became ready, with its endpoint.
        const sentinel = handle.client;
        const onConnectionReady = (message: unknown) => {
          if (active.size === 0) return;
          const event = message as { serverAddress?: string; serverPort?: number };
          let master: { host: string; port: number } | undefined;
          try {
            master = sentinel.getMasterNode();
          } catch {
            return;
          }
          if (master && event.serverAddress === master.host && event.serverPort === master.port)
            notifyReconnect();
        };
        diagnostics.subscribe(CONNECTION_READY, onConnectionReady);
        cleanups.push(() => diagnostics.unsubscribe(CONNECTION_READY, onConnectionReady));
      }
      return Promise.resolve(handle.client);
    }
    const parent = handle.client;
    const connection = parent.duplicate();
    dedicated = connection;
    // Errors of this connection are the adapter's to handle: without a listener Node would throw.
    connection.on('error', () => {});
    let wasReady = false;
    watch(connection, 'ready', () => {
      if (wasReady) notifyReconnect();
      wasReady = true;
    });
    // The user's client ended: take our connection down with it so the process can exit.
    watch(parent, 'end', () => {
      void close();
    });
    if (reportDial) cleanups.push(observeStandaloneDials(connection, 'subscriber', reportDial));
    return connection.connect().then(
      () => {
        // node-redis 5 resolves connect() when the client is destroyed while connecting.
        if (closed || !connection.isOpen) {
          throw new RedisConnectionError(
            'the subscriber was closed while connecting',
            'CLIENT_CLOSED',
            'SUBSCRIBE',
          );
        }
        return connection;
      },
      (error: unknown) => {
        target = undefined;
        dedicated = undefined;
        destroyQuietly(connection);
        throw toRedisotelError(error, 'SUBSCRIBE');
      },
    );
  };

  const add = async (
    kind: Kind,
    input: string | readonly string[],
    listener: RedisMessageListener,
  ): Promise<Unsubscribe> => {
    const command = COMMANDS[kind];
    const channels = typeof input === 'string' ? [input] : Array.isArray(input) ? [...input] : undefined;
    if (
      channels === undefined ||
      channels.length === 0 ||
      channels.some((c) => typeof c !== 'string' || c.length === 0)
    ) {
      throw new TypeError(
        `${command.name.toLowerCase()}: channels must be a non-empty string or array of non-empty strings, received ${describeValue(input)}`,
      );
    }
    if (typeof listener !== 'function') {
      throw new TypeError(
        `${command.name.toLowerCase()}: listener must be a function, received ${describeValue(listener)}`,
      );
    }
    if (closed) throw new TypeError(`${command.name.toLowerCase()}: the subscriber is closed`);
    target ??= openTarget();
    const pubsub = await target;
    const pattern = kind === 'pattern' ? (channels.length === 1 ? channels[0] : undefined) : undefined;
    const wrapper: NodeRedisPubSubListener =
      kind === 'pattern'
        ? (message, channel) =>
            deliver(listener, { channel, message, pattern: pattern ?? matchPattern(channels, channel) })
        : (message, channel) => deliver(listener, { channel, message });
    const entry = { kind, channels, wrapper };
    try {
      await (pubsub[command.subscribe] as (c: string[], l: NodeRedisPubSubListener) => Promise<void>).call(
        pubsub,
        channels,
        wrapper,
      );
    } catch (error) {
      throw toRedisotelError(error, command.name);
    }
    active.add(entry);
    let done = false;
    return async () => {
      if (done) return;
      done = true;
      active.delete(entry);
      try {
        await (
          pubsub[command.unsubscribe] as (c: string[], l: NodeRedisPubSubListener) => Promise<void>
        ).call(pubsub, channels, wrapper);
      } catch (error) {
        if (!closed) throw toRedisotelError(error, command.name.replace('SUBSCRIBE', 'UNSUBSCRIBE'));
      }
    };
  };

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    const pending = target;
    target = undefined;
    for (const cleanup of cleanups.splice(0)) cleanup();
    reconnectListeners.clear();
    if (handle.kind === 'standalone') {
      const connection = dedicated;
      dedicated = undefined;
      active.clear();
      if (connection === undefined) return;
      // Destroy at once, also while it is still connecting (a server that is down would keep
      // connect() pending forever): that drops every subscription with it and rejects connect().
      destroyQuietly(connection);
      await pending?.catch(() => {});
      return;
    }
    // Cluster / sentinel: the connections are the client's own; only remove our listeners.
    const pubsub = handle.client;
    const entries = [...active];
    active.clear();
    await Promise.allSettled(
      entries.map((entry) =>
        (
          pubsub[COMMANDS[entry.kind].unsubscribe] as (
            c: string[],
            l: NodeRedisPubSubListener,
          ) => Promise<void>
        ).call(pubsub, entry.channels, entry.wrapper),
      ),
    );
  };

  return {
    subscribe: (channels, listener) => add('channel', channels, listener),
    psubscribe: (patterns, listener) => add('pattern', patterns, listener),
    ssubscribe: (channels, listener) => add('sharded', channels, listener),
    onReconnect(listener) {
      if (typeof listener !== 'function') {
        throw new TypeError(`onReconnect: listener must be a function, received ${describeValue(listener)}`);
      }
      reconnectListeners.add(listener);
      return () => {
        reconnectListeners.delete(listener);
      };
    },
    close,
  };
}

/** node-redis client ids of the cluster's pub/sub connections (channels/patterns, and per-master sharded). */
function pubSubClientIds(cluster: NodeRedisCluster): Set<string> {
  type WithPubSub = { pubSub?: { client?: { _clientId?: string } } };
  const ids = new Set<string>();
  const shared = (cluster as unknown as { pubSubNode?: { client?: { _clientId?: string } } }).pubSubNode;
  if (shared?.client?._clientId !== undefined) ids.add(shared.client._clientId);
  for (const master of cluster.masters as readonly WithPubSub[]) {
    const id = master.pubSub?.client?._clientId;
    if (id !== undefined) ids.add(id);
  }
  return ids;
}

function destroyQuietly(connection: NodeRedisStandalone): void {
  try {
    if (connection.isOpen) connection.destroy();
  } catch {
    // already closed
  }
}

function deliver(
  listener: RedisMessageListener,
  message: { channel: string; message: string; pattern?: string },
): void {
  try {
    listener(message);
  } catch {
    // A throwing listener must not break node-redis' reply parser for the other subscribers.
  }
}

/** For a multi-pattern subscription: which of our patterns matched (glob, as Redis does). */
function matchPattern(patterns: readonly string[], channel: string): string | undefined {
  for (const pattern of patterns) if (globToRegExp(pattern).test(channel)) return pattern;
  return undefined;
}

function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else if (char === '\\' && i + 1 < pattern.length) source += `\\${pattern[++i]}`;
    else if (char === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end === -1) source += '\\[';
      else {
        source += `[${pattern
          .slice(i + 1, end)
          .replace(/^\^/, '^')
          .replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else source += char.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}
