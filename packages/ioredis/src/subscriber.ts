import {
  type DialInfo,
  describeValue,
  type RedisMessage,
  type RedisMessageListener,
  type RedisSubscriber,
  type Unsubscribe,
} from '@redisotel/core-hooks';
import { toRedisotelError } from './errors.js';
import type { DetectedClient, IoredisCluster, IoredisRedis } from './internal-types.js';

type Kind = 'subscribe' | 'psubscribe' | 'ssubscribe';

const UNSUBSCRIBE: Record<Kind, 'unsubscribe' | 'punsubscribe' | 'sunsubscribe'> = {
  subscribe: 'unsubscribe',
  psubscribe: 'punsubscribe',
  ssubscribe: 'sunsubscribe',
};

interface Entry {
  readonly listeners: Set<RedisMessageListener>;
  /** Settles when Redis confirmed the subscription. */
  ready: Promise<void>;
}

/** Reports a connection attempt of the subscriber connection to the dial hooks. */
export type WatchConnection = (connection: IoredisRedis, purpose: DialInfo['purpose']) => void;

type SubscriberConnection = IoredisRedis | IoredisCluster;

const noop = () => {};

function warnListenerError(what: string, error: unknown): void {
  process.emitWarning(
    `@redisotel/ioredis: a ${what} listener threw: ${error instanceof Error ? error.message : String(error)}`,
    { code: 'REDISOTEL_LISTENER_ERROR' },
  );
}

/**
 * The dedicated subscriber connection of `fromIoredis`: a `duplicate()` of the application's client
 * (a `Redis` for standalone and sentinel; a `Cluster` with `shardedSubscribers: true` for a cluster),
 * opened on the first subscription. ioredis resubscribes by itself after a reconnect
 * (`autoResubscribe`); this class tells `onReconnect` listeners once that is done.
 */
export class IoredisSubscriber implements RedisSubscriber {
  readonly #detected: DetectedClient;
  readonly #watch: WatchConnection | undefined;
  #connection: SubscriberConnection | undefined;
  readonly #entries: Record<Kind, Map<string, Entry>> = {
    subscribe: new Map(),
    psubscribe: new Map(),
    ssubscribe: new Map(),
  };
  readonly #reconnectListeners = new Set<() => void>();

  constructor(detected: DetectedClient, watch: WatchConnection | undefined) {
    this.#detected = detected;
    this.#watch = watch;
  }

  subscribe(channels: string | readonly string[], listener: RedisMessageListener): Promise<Unsubscribe> {
    return this.#add('subscribe', channels, listener);
  }

  psubscribe(patterns: string | readonly string[], listener: RedisMessageListener): Promise<Unsubscribe> {
    return this.#add('psubscribe', patterns, listener);
  }

  ssubscribe(channels: string | readonly string[], listener: RedisMessageListener): Promise<Unsubscribe> {
    return this.#add('ssubscribe', channels, listener);
  }

  onReconnect(listener: () => void): () => void {
    if (typeof listener !== 'function') {
      throw new TypeError(`onReconnect: listener must be a function, received ${describeValue(listener)}`);
    }
    this.#reconnectListeners.add(listener);
    return () => {
      this.#reconnectListeners.delete(listener);
    };
  }

  async close(): Promise<void> {
    const connection = this.#connection;
    this.#connection = undefined;
    for (const map of Object.values(this.#entries)) map.clear();
    if (connection === undefined) return;
    connection.removeAllListeners('message');
    connection.removeAllListeners('pmessage');
    connection.removeAllListeners('smessage');
    if (connection.status !== 'ready') {
      // Connecting or reconnecting: a QUIT would wait in the offline queue; just drop the connection.
      connection.disconnect();
      return;
    }
    try {
      await connection.quit();
    } catch {
      connection.disconnect();
    }
  }

  async #add(
    kind: Kind,
    names: string | readonly string[],
    listener: RedisMessageListener,
  ): Promise<Unsubscribe> {
    const list = typeof names === 'string' ? [names] : names;
    if (!Array.isArray(list) || list.length === 0 || list.some((name) => typeof name !== 'string')) {
      throw new TypeError(
        `${kind}: channels must be a string or a non-empty array of strings, received ${describeValue(names)}`,
      );
    }
    if (typeof listener !== 'function') {
      throw new TypeError(`${kind}: listener must be a function, received ${describeValue(listener)}`);
    }
    const connection = this.#open();
    const entries = this.#entries[kind];
    const waits: Promise<void>[] = [];
    const fresh: string[] = [];
    for (const name of new Set(list)) {
      let entry = entries.get(name);
      if (entry === undefined) {
        entry = { listeners: new Set(), ready: Promise.resolve() };
        entries.set(name, entry);
        fresh.push(name);
      }
      entry.listeners.add(listener);
      waits.push(entry.ready);
    }
    if (fresh.length > 0) {
      const sent = this.#send(connection, kind, fresh);
      for (const name of fresh) entries.get(name)!.ready = sent;
      waits.push(sent);
      sent.catch(() => {
        // A failed subscription is forgotten, so a later call sends it again.
        for (const name of fresh) {
          const entry = entries.get(name);
          if (entry !== undefined && entry.ready === sent) entries.delete(name);
        }
      });
    }
    try {
      await Promise.all(waits);
    } catch (error) {
      for (const name of list) entries.get(name)?.listeners.delete(listener);
      throw error;
    }
    let done = false;
    return async () => {
      if (done) return;
      done = true;
      const gone: string[] = [];
      for (const name of new Set(list)) {
        const entry = entries.get(name);
        if (entry === undefined) continue;
        entry.listeners.delete(listener);
        if (entry.listeners.size === 0) {
          entries.delete(name);
          gone.push(name);
        }
      }
      if (gone.length === 0 || this.#connection !== connection) return;
      try {
        if (kind === 'ssubscribe') {
          await Promise.all(gone.map((name) => connection[UNSUBSCRIBE[kind]](name)));
        } else {
          await connection[UNSUBSCRIBE[kind]](...gone);
        }
      } catch (error) {
        throw toRedisotelError(error, UNSUBSCRIBE[kind], connection.status === 'end');
      }
    };
  }

  async #send(connection: SubscriberConnection, kind: Kind, names: string[]): Promise<void> {
    try {
      if (kind === 'ssubscribe') {
        // One SSUBSCRIBE per channel: channels of one call must share a slot on a cluster.
        await Promise.all(names.map((name) => connection.ssubscribe(name)));
      } else {
        await connection[kind](...names);
      }
    } catch (error) {
      throw toRedisotelError(error, kind, connection.status === 'end');
    }
  }

  #open(): SubscriberConnection {
    if (this.#connection !== undefined) return this.#connection;
    const { kind, client } = this.#detected;
    // Opened by the first subscription, which waits in the offline queue until the connection is ready
    // (also when the application's client disables its offline queue).
    const overrides = {
      lazyConnect: true,
      enableOfflineQueue: true,
      enableAutoPipelining: false,
      keyPrefix: undefined,
    };
    let connection: SubscriberConnection;
    if (kind === 'cluster') {
      connection = (client as IoredisCluster).duplicate([], { ...overrides, shardedSubscribers: true });
      this.#watchCluster(connection as IoredisCluster);
    } else {
      const redis = (client as IoredisRedis).duplicate(overrides);
      this.#watch?.(redis, 'subscriber');
      this.#watchRedis(redis);
      connection = redis;
    }
    // This connection is ours: its errors show up as failed subscriptions and reconnects.
    connection.on('error', noop);
    connection.on('message', (channel: string, message: string) => {
      this.#dispatch('subscribe', channel, { channel, message });
    });
    connection.on('pmessage', (pattern: string, channel: string, message: string) => {
      this.#dispatch('psubscribe', pattern, { channel, message, pattern });
    });
    connection.on('smessage', (channel: string, message: string) => {
      this.#dispatch('ssubscribe', channel, { channel, message });
    });
    this.#connection = connection;
    return connection;
  }

  #dispatch(kind: Kind, name: string, message: RedisMessage): void {
    const entry = this.#entries[kind].get(name);
    if (entry === undefined) return;
    for (const listener of entry.listeners) {
      try {
        listener(message);
      } catch (error) {
        // A throwing listener must not stop the others nor kill the connection's parser.
        warnListenerError('message', error);
      }
    }
  }

  /** Standalone / sentinel: every `ready` after the first is a reconnect that ioredis resubscribes on. */
  #watchRedis(redis: IoredisRedis): void {
    let readyBefore = false;
    redis.on('ready', () => {
      if (!readyBefore) {
        readyBefore = true;
        return;
      }
      this.#afterResubscribe(redis);
    });
  }

  /**
   * Cluster: ioredis' `ClusterSubscriber` (an internal of `Cluster`, present in 5.x and 6.x) replaces
   * its connection when it ends, on another node if needed, and resubscribes there. Follow it.
   */
  #watchCluster(cluster: IoredisCluster): void {
    const internal = (cluster as unknown as { subscriber?: { getInstance?: () => IoredisRedis | null } })
      .subscriber;
    if (typeof internal?.getInstance !== 'function') return;
    const follow = (instance: IoredisRedis | null, first: boolean) => {
      if (instance === null) {
        // No node known yet: look again once the cluster is ready.
        cluster.once('ready', () => follow(internal.getInstance!(), first));
        return;
      }
      if (!first) {
        instance.once('ready', () => this.#afterResubscribe(instance));
      }
      instance.once('end', () => {
        setImmediate(() => {
          if (this.#connection !== cluster) return;
          const next = internal.getInstance!();
          if (next !== instance) follow(next, false);
        });
      });
    };
    follow(internal.getInstance(), true);
  }

  /**
   * ioredis writes the resubscribe commands right after emitting `ready`; a PING sent after them is
   * answered after their confirmations, so listeners run once the subscriptions are back.
   */
  #afterResubscribe(redis: IoredisRedis): void {
    setImmediate(() => {
      redis.ping().then(
        () => this.#notifyReconnect(),
        () => this.#notifyReconnect(),
      );
    });
  }

  #notifyReconnect(): void {
    for (const listener of this.#reconnectListeners) {
      try {
        listener();
      } catch (error) {
        warnListenerError('onReconnect', error);
      }
    }
  }
}
