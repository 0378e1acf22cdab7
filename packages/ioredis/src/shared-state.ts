/**
 * State `fromIoredis` and `instrumentIoredis` share so that, on one client, every operation and every
 * connection attempt is recorded once. One registry per copy of this package.
 */

/**
 * What `instrumentIoredis` needs to tell a pipeline from single commands: the `bytesWritten` of each
 * socket after the last write it knows of. `fromIoredis` writes commands that publish no channel event
 * (they are already traced); while an instrumentation is enabled it notes its writes here, so the next
 * pipeline on that socket is still recognised. One registry per copy of this package.
 */
export const socketBaselines = {
  /** How many instrumentations are enabled: with none, `fromIoredis` does no bookkeeping. */
  active: 0,
  bytes: new WeakMap<object, number>(),
};

/** Note the socket's byte count after a write that published no event. */
export function noteUntracedWrite(socket: { bytesWritten?: number } | undefined): void {
  if (socket !== undefined && typeof socket.bytesWritten === 'number') {
    socketBaselines.bytes.set(socket, socket.bytesWritten);
  }
}

/**
 * Connections whose connection attempts a `fromIoredis` RedisLike reports to its dial hooks (and so as
 * `connect` spans): `instrumentIoredis` leaves their `ioredis:connect` events alone.
 */
export const dialObserved = new WeakSet<object>();
