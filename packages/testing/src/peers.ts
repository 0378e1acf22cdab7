/** Where a RedisLike sent a command or batch, as it reports it to hooks (`info.peer`). */
export interface ReportedPeer {
  readonly address: string;
  readonly port?: number;
}

/** A `process` / `processBatch` middleware, typed loosely enough to fit any RedisLike's hook types. */
type Middleware = (subject: never, info: never) => Promise<unknown>;

/** What {@link recordPeers} returns. */
export interface PeerRecorder {
  /** `info.peer` of every command (and/or batch) that went through the hook, in order; `undefined` when none was reported. */
  readonly peers: (ReportedPeer | undefined)[];
  /** Add it to the RedisLike (`redis.addHook(hook)` or `hooks: [hook]`). */
  readonly hook: {
    process?<F extends Middleware>(next: F): F;
    processBatch?<F extends Middleware>(next: F): F;
  };
}

/**
 * A hook that records the peer a RedisLike reports for each command (`process`) and/or batch
 * (`processBatch`), after it completed or failed. Only the kinds asked for are hooked.
 * @example
 * ```ts
 * const { peers, hook } = recordPeers();
 * redis.addHook(hook);
 * await redis.send({ name: 'PING', args: [] });
 * expect(peers).toEqual([{ address: '127.0.0.1', port: 6379 }]);
 * ```
 */
export function recordPeers(
  options: { readonly commands?: boolean; readonly batches?: boolean } = {},
): PeerRecorder {
  const { commands = true, batches = false } = options;
  const peers: (ReportedPeer | undefined)[] = [];
  const record = <F extends Middleware>(next: F): F =>
    (async (subject: never, info: never) => {
      try {
        return await next(subject, info);
      } finally {
        peers.push((info as { readonly peer?: ReportedPeer }).peer);
      }
    }) as unknown as F;
  return {
    peers,
    hook: { ...(commands ? { process: record } : {}), ...(batches ? { processBatch: record } : {}) },
  };
}
