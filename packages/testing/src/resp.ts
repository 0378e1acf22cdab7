import { connect, type Socket } from 'node:net';

/** An argument of a RESP command: numbers are sent as their decimal text. */
export type RespArgument = string | number | Buffer;

/**
 * A RESP2 reply: simple and bulk strings are `string` (or `Buffer` with `binary`), integers `number`,
 * nil `null`, arrays arrays. A top-level error reply rejects with a {@link RespReplyError}; an error inside
 * an array (a failed command in an `EXEC` reply) stays in place as a `RespReplyError` value.
 */
export type RespReply = string | number | null | Buffer | RespReplyError | RespReply[];

/** Options of {@link connectResp}. */
export interface ConnectRespOptions {
  /** Host name or IP address. @default '127.0.0.1' */
  readonly host?: string;
  /** TCP port. */
  readonly port: number;
  /** Give up connecting after this many milliseconds. @default 5000 */
  readonly connectTimeoutMs?: number;
  /** ACL user name sent with `AUTH` (Redis 6+). */
  readonly username?: string;
  /** Password sent with `AUTH` right after connecting. */
  readonly password?: string;
  /** Database index selected with `SELECT` right after connecting. @default 0 */
  readonly database?: number;
}

/** Per-call options of {@link RespConnection.command}. */
export interface RespCommandOptions {
  /** Return bulk strings as `Buffer` instead of UTF-8 text. @default false */
  readonly binary?: boolean;
}

/**
 * One RESP2 connection to a Redis server: no command table, no reconnection, no pub/sub. Commands are
 * pipelined in the order they are called.
 */
export interface RespConnection {
  /**
   * Send one command (name first: `['SET', 'k', 'v']`) and resolve with its reply.
   * @throws {RespReplyError} when Redis answers with an error reply (the message is the reply text).
   * @throws {Error} when the connection is closed before the reply arrives.
   */
  command(args: readonly RespArgument[], options?: RespCommandOptions): Promise<RespReply>;
  /** Whether the socket is still open. */
  readonly open: boolean;
  /** Close the connection (after pending replies arrived, `QUIT` is not sent). Idempotent. */
  close(): Promise<void>;
  /** Destroy the socket at once; pending commands reject. */
  destroy(): void;
}

/** An error reply from Redis. `message` is the reply text, `prefix` its first word (`ERR`, `NOSCRIPT`…). */
export class RespReplyError extends Error {
  /** The first word of the reply: `ERR`, `WRONGTYPE`, `NOSCRIPT`, `MOVED`… */
  readonly prefix: string;

  constructor(reply: string) {
    super(reply);
    this.name = 'RespReplyError';
    this.prefix = reply.split(' ', 1)[0] ?? '';
  }
}

interface Pending {
  readonly resolve: (reply: RespReply) => void;
  readonly reject: (error: Error) => void;
  readonly binary: boolean;
}

const INCOMPLETE = Symbol('incomplete');
type Parsed = { value: RespReply | RespReplyError; offset: number } | typeof INCOMPLETE;

function lineEnd(buffer: Buffer, from: number): number {
  return buffer.indexOf('\r\n', from, 'latin1');
}

/** Parse one RESP2 value starting at `offset`; bulk strings stay Buffers until delivered. */
function parse(buffer: Buffer, offset: number): Parsed {
  if (offset >= buffer.length) return INCOMPLETE;
  const end = lineEnd(buffer, offset + 1);
  if (end === -1) return INCOMPLETE;
  const type = String.fromCharCode(buffer[offset] as number);
  const line = buffer.toString('utf8', offset + 1, end);
  const next = end + 2;
  switch (type) {
    case '+':
      return { value: line, offset: next };
    case '-':
      return { value: new RespReplyError(line), offset: next };
    case ':':
      return { value: Number(line), offset: next };
    case '$': {
      const length = Number(line);
      if (length < 0) return { value: null, offset: next };
      if (buffer.length < next + length + 2) return INCOMPLETE;
      return { value: buffer.subarray(next, next + length), offset: next + length + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, offset: next };
      const items: RespReply[] = [];
      let position = next;
      for (let index = 0; index < count; index += 1) {
        const item = parse(buffer, position);
        if (item === INCOMPLETE) return INCOMPLETE;
        // An error inside an array (EXEC) is kept as a value: the caller sees it in place.
        items.push(item.value);
        position = item.offset;
      }
      return { value: items, offset: position };
    }
    default:
      throw new Error(`RESP protocol error: unexpected type byte ${JSON.stringify(type)}`);
  }
}

function decode(value: RespReply, binary: boolean): RespReply {
  if (Buffer.isBuffer(value)) return binary ? Buffer.from(value) : value.toString('utf8');
  if (Array.isArray(value)) return value.map((item) => decode(item, binary));
  return value;
}

function encode(args: readonly RespArgument[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const data = Buffer.isBuffer(arg) ? arg : Buffer.from(String(arg), 'utf8');
    parts.push(Buffer.from(`$${data.length}\r\n`), data, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

function validateOptions(options: ConnectRespOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`connectResp: options must be an object, received ${String(options)}`);
  }
  if (!Number.isInteger(options.port)) {
    throw new TypeError(`connectResp: options.port must be an integer, received ${String(options.port)}`);
  }
  if (options.port < 1 || options.port > 65535) {
    throw new RangeError(`connectResp: options.port must be between 1 and 65535, received ${options.port}`);
  }
  if (options.host !== undefined && typeof options.host !== 'string') {
    throw new TypeError(`connectResp: options.host must be a string, received ${String(options.host)}`);
  }
  const timeout = options.connectTimeoutMs;
  if (timeout !== undefined && (typeof timeout !== 'number' || !(timeout > 0))) {
    throw new RangeError(
      `connectResp: options.connectTimeoutMs must be a positive number, received ${String(timeout)}`,
    );
  }
}

/**
 * Open a minimal RESP2 connection: what `@redisotel/testing` uses to set up and inspect its servers,
 * exported so tests can talk to Redis without a client library.
 * @example
 * ```ts
 * const connection = await connectResp({ host: '127.0.0.1', port });
 * await connection.command(['SET', 'k', 'v']);
 * expect(await connection.command(['GET', 'k'])).toBe('v');
 * await connection.close();
 * ```
 * @throws {Error} when the connection cannot be made (`cause` is the socket error).
 */
export async function connectResp(options: ConnectRespOptions): Promise<RespConnection> {
  validateOptions(options);
  const host = options.host ?? '127.0.0.1';
  const { port } = options;
  const socket: Socket = await new Promise((resolve, reject) => {
    const candidate = connect({ host, port });
    const timer = setTimeout(() => {
      candidate.destroy();
      reject(
        new Error(
          `connectResp: no connection to ${host}:${port} after ${options.connectTimeoutMs ?? 5000}ms`,
        ),
      );
    }, options.connectTimeoutMs ?? 5000);
    candidate.once('connect', () => {
      clearTimeout(timer);
      candidate.removeAllListeners('error');
      resolve(candidate);
    });
    candidate.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`connectResp: cannot connect to ${host}:${port}: ${error.message}`, { cause: error }));
    });
  });
  socket.setNoDelay(true);

  const pending: Pending[] = [];
  let buffered: Buffer = Buffer.alloc(0);
  let closed = false;
  let closeError: Error | undefined;
  let resolveClosed!: () => void;
  const closedPromise = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });

  const failAll = (error: Error) => {
    for (const entry of pending.splice(0)) entry.reject(error);
  };

  socket.on('data', (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    let offset = 0;
    while (offset < buffered.length) {
      let parsed: Parsed;
      try {
        parsed = parse(buffered, offset);
      } catch (error) {
        closeError = error as Error;
        socket.destroy();
        return;
      }
      if (parsed === INCOMPLETE) break;
      offset = parsed.offset;
      const entry = pending.shift();
      if (!entry) continue; // unsolicited data (we never subscribe): ignore
      if (parsed.value instanceof RespReplyError) entry.reject(parsed.value);
      else entry.resolve(decode(parsed.value, entry.binary));
    }
    buffered = offset >= buffered.length ? Buffer.alloc(0) : buffered.subarray(offset);
  });
  socket.on('error', (error) => {
    closeError ??= error;
  });
  socket.on('close', () => {
    closed = true;
    const reason = closeError?.message ?? 'closed';
    failAll(new Error(`connectResp: connection to ${host}:${port} ${reason}`, { cause: closeError }));
    resolveClosed();
  });

  const connection: RespConnection = {
    command(args, commandOptions) {
      if (closed) {
        return Promise.reject(new Error(`connectResp: connection to ${host}:${port} is closed`));
      }
      if (!Array.isArray(args) || args.length === 0) {
        return Promise.reject(new TypeError('connectResp: command(args) needs a non-empty array'));
      }
      return new Promise<RespReply>((resolve, reject) => {
        pending.push({ resolve, reject, binary: commandOptions?.binary === true });
        socket.write(encode(args));
      });
    },
    get open() {
      return !closed;
    },
    async close() {
      if (closed) return;
      socket.end();
      const timer = setTimeout(() => socket.destroy(), 1000);
      await closedPromise;
      clearTimeout(timer);
    },
    destroy() {
      socket.destroy();
    },
  };

  try {
    if (options.password !== undefined) {
      await connection.command(
        options.username === undefined
          ? ['AUTH', options.password]
          : ['AUTH', options.username, options.password],
      );
    }
    if (options.database !== undefined && options.database !== 0) {
      await connection.command(['SELECT', options.database]);
    }
  } catch (error) {
    connection.destroy();
    throw error;
  }
  return connection;
}

/**
 * Send one command on a fresh connection and close it.
 * @internal
 */
export async function respCommand(
  host: string,
  port: number,
  args: readonly RespArgument[],
  timeoutMs = 5000,
): Promise<RespReply> {
  const connection = await connectResp({ host, port, connectTimeoutMs: timeoutMs });
  try {
    return await withTimeout(connection.command(args), timeoutMs, `${String(args[0])} on ${host}:${port}`);
  } finally {
    connection.destroy();
  }
}

/** @internal */
export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no reply after ${timeoutMs}ms`)), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
}
