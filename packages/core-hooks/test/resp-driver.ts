import { connectResp, type RespConnection, type RespReply, RespReplyError } from '@redisotel/testing';
import type { RedisDriver } from '../src/driver.js';
import { RedisConnectionError, RedisReplyError } from '../src/errors.js';
import type {
  BatchResult,
  DialInfo,
  RedisCommand,
  RedisDescription,
  RedisReply,
  RedisSubscriber,
} from '../src/types.js';

/** Options of {@link createRespDriver}. */
export interface RespDriverOptions {
  readonly host?: string;
  readonly port: number;
  readonly database?: number;
}

/** A {@link RedisDriver} that also lets a test drop its connection. */
export interface RespDriver extends RedisDriver {
  /** Close the connection; the next command opens a new one (and dials again). */
  disconnect(): Promise<void>;
}

/**
 * A tiny standalone {@link RedisDriver} over `connectResp()` from `@redisotel/testing`: no client
 * library, so core-hooks is tested against real Redis on its own. One lazily opened connection
 * (reported through `observeDials`), pipelines as back-to-back writes, `MULTI`/`EXEC` for atomic
 * batches.
 */
export function createRespDriver(options: RespDriverOptions): RespDriver {
  const host = options.host ?? '127.0.0.1';
  const { port } = options;
  const database = options.database ?? 0;
  let connection: Promise<RespConnection> | undefined;
  let onDial: ((info: DialInfo, connected: Promise<void>) => void) | undefined;

  const description: RedisDescription = {
    library: { name: 'resp', version: '0.0.0-test' },
    adapter: { name: 'test/resp-driver', version: '0.0.0-test' },
    topology: 'standalone',
    server: { address: host, port },
    database,
    capabilities: { shardedPubSub: false, requiresSameSlot: false, diagnosticsChannel: false },
  };

  const connect = (): Promise<RespConnection> => {
    let current = connection;
    if (current === undefined) {
      const opening = connectResp({ host, port, database, connectTimeoutMs: 2000 });
      connection = opening;
      onDial?.(
        { address: host, port, purpose: 'command' },
        opening.then(
          () => undefined,
          (error: unknown) => {
            throw toConnectionError(error, 'CONNECT');
          },
        ),
      );
      opening.catch(() => {
        if (connection === opening) connection = undefined;
      });
      current = opening;
    }
    return current;
  };

  const call = async (command: RedisCommand, name = command.name): Promise<RespReply> => {
    let open: RespConnection;
    try {
      open = await connect();
    } catch (error) {
      throw toConnectionError(error, name);
    }
    try {
      return await open.command([name, ...command.args], { binary: command.binary === true });
    } catch (error) {
      throw toTypedError(error, name);
    }
  };

  return {
    describe: () => description,
    async send(command, info) {
      info.peer = { address: host, port };
      return toReply(await call(command), command.name);
    },
    async batch(commands, info) {
      info.peer = { address: host, port };
      if (!info.atomic) {
        const settled = await Promise.allSettled(commands.map((command) => call(command)));
        return settled.map((outcome, index): BatchResult => {
          if (outcome.status === 'fulfilled') {
            return { ok: true, value: toReply(outcome.value, commands[index]!.name) };
          }
          const error = outcome.reason;
          if (RedisReplyError.isInstance(error)) return { ok: false, error };
          throw error;
        });
      }
      const queued = [call({ name: 'MULTI', args: [] }), ...commands.map((command) => call(command))];
      const exec = call({ name: 'EXEC', args: [] });
      await Promise.allSettled(queued);
      const replies = await exec;
      if (!Array.isArray(replies)) throw new RedisReplyError('EXECABORT Transaction discarded', 'EXEC');
      return replies.map((reply, index): BatchResult => {
        const name = commands[index]!.name;
        if (reply instanceof RespReplyError) {
          return { ok: false, error: new RedisReplyError(reply.message, name, { cause: reply }) };
        }
        return { ok: true, value: toReply(reply, name) };
      });
    },
    subscriber(): RedisSubscriber {
      throw new Error('resp-driver: no subscriber connection');
    },
    async nodes() {
      return [{ address: host, port, role: 'master' as const }];
    },
    observeDials(dial) {
      onDial = dial;
    },
    async disconnect() {
      const current = connection;
      connection = undefined;
      if (current !== undefined) await (await current).close();
    },
  };
}

function toReply(reply: RespReply, command: string): RedisReply {
  if (reply instanceof RespReplyError) throw new RedisReplyError(reply.message, command, { cause: reply });
  if (Array.isArray(reply)) return reply.map((item) => toReply(item, command));
  return reply;
}

function toTypedError(error: unknown, command: string): Error {
  if (error instanceof RespReplyError) return new RedisReplyError(error.message, command, { cause: error });
  return toConnectionError(error, command);
}

function toConnectionError(error: unknown, command: string): RedisConnectionError {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : 'CONNECTION_CLOSED';
  return new RedisConnectionError(`cannot send ${command}: ${code}`, code, command, { cause: error });
}
