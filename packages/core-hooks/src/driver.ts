import type {
  BatchInfo,
  BatchResult,
  CommandInfo,
  DialInfo,
  RedisCommand,
  RedisDescription,
  RedisNode,
  RedisReply,
  RedisSubscriber,
} from './types.js';

/**
 * The service-provider interface an adapter implements; {@link createRedisLike} turns it into a
 * {@link RedisLike} with hooks, telemetry, timeouts and the script runner. A driver only talks to its
 * client: it sends what it is given and normalises what comes back.
 *
 * Errors: error replies reject with `RedisReplyError`; failures to send or receive reject with
 * `RedisConnectionError` carrying a stable `code`; both with the client's error as `cause`.
 */
export interface RedisDriver {
  /** Static facts about the client; called once by {@link createRedisLike}. */
  describe(): RedisDescription;
  /**
   * Send one command, routed by `command.keys` on a cluster. Fill `info.peer` with the node that
   * served it when known (after the reply, or before sending when the route is known up front).
   */
  send(command: RedisCommand, info: CommandInfo): Promise<RedisReply>;
  /**
   * `true` when `send` itself rejects with `RedisTimeoutError` (see `timeoutError`) once
   * `info.deadline.timeoutMs` has passed, e.g. by rejecting the client's own command: the
   * `RedisLike` then races no wrapper promise for deadlines without a signal. A signal, and every
   * batch deadline, are still raced by the `RedisLike`.
   */
  readonly enforcesDeadlines?: boolean;
  /**
   * Send a batch in one round trip (pipeline, or `MULTI`/`EXEC` when `info.atomic`). The caller has
   * already checked that all keys share one slot. Resolve with one result per command.
   */
  batch(commands: readonly RedisCommand[], info: BatchInfo): Promise<BatchResult[]>;
  /** The dedicated subscriber connection (opened lazily, once). */
  subscriber(): RedisSubscriber;
  /** The nodes of the deployment with their roles. */
  nodes(): Promise<RedisNode[]>;
  /**
   * Called once by {@link createRedisLike}: the driver calls `dial(info, connected)` when one of its
   * client's connections starts connecting, where `connected` resolves (or rejects) when that
   * connection is ready. Dial hooks (and the connection span) wrap it.
   */
  observeDials?(dial: (info: DialInfo, connected: Promise<void>) => void): void;
}
