const ERROR_MARKER = Symbol.for('redisotel.error');

/**
 * The base of every error redisotel throws. `name` is the class name, `cause` the underlying error.
 * Use the static `isInstance()` rather than `instanceof`: it also recognises errors created by another
 * copy of this package (ESM and CJS builds side by side, or two installed versions).
 */
export class RedisotelError extends Error {
  /** @internal */
  readonly [ERROR_MARKER] = true;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }

  /** Whether `error` is any redisotel error, from any copy of the package. */
  static isInstance(error: unknown): error is RedisotelError {
    return (
      typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[ERROR_MARKER] === true
    );
  }
}

const REPLY_MARKER = Symbol.for('redisotel.error.reply');

/**
 * Redis answered the command with an error reply (`-WRONGTYPE …`, `-NOSCRIPT …`, `-MOVED …`).
 * `prefix` is the first word of the reply, so callers never match on the message text.
 */
export class RedisReplyError extends RedisotelError {
  /** @internal */
  readonly [REPLY_MARKER] = true;
  /** The error prefix Redis sent: `ERR`, `WRONGTYPE`, `NOSCRIPT`, `MOVED`, `BUSY`, `EXECABORT`… */
  readonly prefix: string;
  /** The command name (upper-cased) that received the error. */
  readonly command: string;

  constructor(reply: string, command: string, options?: { cause?: unknown }) {
    super(reply, options);
    this.prefix = parseErrorPrefix(reply);
    this.command = command.toUpperCase();
  }

  static override isInstance(error: unknown): error is RedisReplyError {
    return (
      typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[REPLY_MARKER] === true
    );
  }
}

const CONNECTION_MARKER = Symbol.for('redisotel.error.connection');

/**
 * The command could not be sent or its reply never arrived: the connection is closed, refused, reset,
 * or the client gave up. `code` is stable and low-cardinality (`ECONNREFUSED`, `ECONNRESET`,
 * `CONNECTION_CLOSED`, `TIMEOUT`, `CLIENT_CLOSED`…): telemetry uses it as `error.type`.
 */
export class RedisConnectionError extends RedisotelError {
  /** @internal */
  readonly [CONNECTION_MARKER] = true;
  /** A stable code for the failure, never a free-form message. */
  readonly code: string;
  /** The command name (upper-cased) that failed, when there was one. */
  readonly command: string | undefined;

  constructor(message: string, code: string, command?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.command = command?.toUpperCase();
  }

  static override isInstance(error: unknown): error is RedisConnectionError {
    return (
      typeof error === 'object' &&
      error !== null &&
      (error as Record<symbol, unknown>)[CONNECTION_MARKER] === true
    );
  }
}

const CROSS_SLOT_MARKER = Symbol.for('redisotel.error.cross-slot');

/**
 * A command or batch names keys in more than one cluster hash slot. Thrown before anything is sent.
 * Put a hash tag in the keys (`{user:1}:a`, `{user:1}:b`) to keep them in one slot.
 */
export class CrossSlotError extends RedisotelError {
  /** @internal */
  readonly [CROSS_SLOT_MARKER] = true;
  /** The distinct slots the keys fall in. */
  readonly slots: readonly number[];

  constructor(message: string, slots: readonly number[]) {
    super(message);
    this.slots = slots;
  }

  static override isInstance(error: unknown): error is CrossSlotError {
    return (
      typeof error === 'object' &&
      error !== null &&
      (error as Record<symbol, unknown>)[CROSS_SLOT_MARKER] === true
    );
  }
}

const TIMEOUT_MARKER = Symbol.for('redisotel.error.timeout');

/** An operation with a deadline (`timeoutMs`, an `AbortSignal`) did not finish in time. */
export class RedisTimeoutError extends RedisotelError {
  /** @internal */
  readonly [TIMEOUT_MARKER] = true;
  /** The deadline that passed, in milliseconds. */
  readonly timeoutMs: number;

  constructor(message: string, timeoutMs: number, options?: { cause?: unknown }) {
    super(message, options);
    this.timeoutMs = timeoutMs;
  }

  static override isInstance(error: unknown): error is RedisTimeoutError {
    return (
      typeof error === 'object' &&
      error !== null &&
      (error as Record<symbol, unknown>)[TIMEOUT_MARKER] === true
    );
  }
}

/** The first word of a Redis error reply (`WRONGTYPE Operation against…` → `WRONGTYPE`); `ERR` if none. */
export function parseErrorPrefix(reply: string): string {
  const end = reply.indexOf(' ');
  const word = end === -1 ? reply : reply.slice(0, end);
  return /^[A-Z][A-Z0-9_-]*$/.test(word) ? word : 'ERR';
}

/** The {@link RedisTimeoutError} of a call whose `timeoutMs` passed (the message every adapter uses). */
export function timeoutError(timeoutMs: number): RedisTimeoutError {
  return new RedisTimeoutError(`Redis did not answer within ${timeoutMs} ms`, timeoutMs);
}
