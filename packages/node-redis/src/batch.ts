import { type BatchResult, type RedisCommand, type RedisReply, RedisReplyError } from '@redisotel/core-hooks';
import { isNodeRedisReplyError, toRedisotelError } from './errors.js';
import type { NodeRedisCommandOptions } from './internal-types.js';
import { BINARY_MAPPING, normalizeReply, TEXT_MAPPING, toNodeRedisArgs } from './reply.js';

/** Send one command on one connection (a standalone client, a cluster node, a sentinel lease). */
export type ConnectionSend = (
  args: (string | Buffer)[],
  options: NodeRedisCommandOptions,
) => Promise<unknown>;

/** The node-redis client methods {@link proxySend} needs. */
interface ProxyingClient {
  withCommandOptions(options: NodeRedisCommandOptions): {
    sendCommand(args: (string | Buffer)[]): Promise<unknown>;
  };
}

/**
 * A {@link ConnectionSend} for one chain on node-redis 6: the chain's options go into
 * `withCommandOptions()` proxies (one per type mapping, made once per chain) instead of every call,
 * because node-redis 6 merges per-call options on a slow path (measured: 3x the CPU of a bare
 * `multi().exec()` for a two-command transaction). node-redis 5 ignores a proxy's options in raw
 * `sendCommand`, so it keeps per-call options.
 */
export function proxySend(client: ProxyingClient, wrap: <T>(fn: () => T) => T): ConnectionSend {
  let chainId: symbol | undefined;
  const proxies = new Map<unknown, { sendCommand(args: (string | Buffer)[]): Promise<unknown> }>();
  return (args, options) => {
    if (options.chainId !== chainId) {
      chainId = options.chainId;
      proxies.clear();
    }
    let proxy = proxies.get(options.typeMapping);
    if (proxy === undefined) {
      proxy = client.withCommandOptions(options);
      proxies.set(options.typeMapping, proxy);
    }
    const target = proxy;
    return wrap(() => target.sendCommand(args));
  };
}

/**
 * Run a batch on ONE connection as one chain (node-redis writes the commands of a `chainId`
 * together, exactly as its own `multi()`/pipeline do), each command with its own type mapping so
 * `binary` works per command. Like node-redis' own batches, no per-command timeout is armed inside a
 * chain (`timeout: undefined`): a timer removing one queued command from the middle of a `MULTI`
 * would change what the transaction runs.
 *
 * Results: one per command. An error reply is that command's result; a connection failure rejects
 * the whole batch with `RedisConnectionError`; a transaction Redis refused to queue
 * (`EXECABORT`) rejects with a `RedisReplyError` whose `cause` is the first queuing error.
 */
export function runChain(
  send: ConnectionSend,
  commands: readonly RedisCommand[],
  atomic: boolean,
): Promise<BatchResult[]> {
  return atomic ? runTransaction(send, commands) : runPipeline(send, commands);
}

async function runPipeline(send: ConnectionSend, commands: readonly RedisCommand[]): Promise<BatchResult[]> {
  const chainId = Symbol('redisotel pipeline');
  const text: NodeRedisCommandOptions = { chainId, timeout: undefined, typeMapping: TEXT_MAPPING };
  let binary: NodeRedisCommandOptions | undefined;
  const pending = new Array<Promise<unknown>>(commands.length);
  for (let i = 0; i < commands.length; i++) {
    const command = commands[i]!;
    let options = text;
    if (command.binary === true) {
      binary ??= { chainId, timeout: undefined, typeMapping: BINARY_MAPPING };
      options = binary;
    }
    pending[i] = send(toNodeRedisArgs(command.name, command.args), options);
  }
  const settled = await Promise.allSettled(pending);
  const results = new Array<BatchResult>(settled.length);
  for (let i = 0; i < settled.length; i++) {
    const outcome = settled[i]!;
    const operation = commands[i]!.name.toUpperCase();
    if (outcome.status === 'rejected') {
      const error = toRedisotelError(outcome.reason, operation);
      if (!RedisReplyError.isInstance(error)) throw error;
      results[i] = { ok: false, error };
    } else {
      results[i] = settle(outcome.value, operation);
    }
  }
  return results;
}

async function runTransaction(
  send: ConnectionSend,
  commands: readonly RedisCommand[],
): Promise<BatchResult[]> {
  const chainId = Symbol('redisotel multi');
  const anyBinary = commands.some((command) => command.binary === true);
  const text: NodeRedisCommandOptions = { chainId, timeout: undefined, typeMapping: TEXT_MAPPING };
  // [MULTI, …commands, EXEC], all sent synchronously so node-redis writes them as one chain.
  const pending = new Array<Promise<unknown>>(commands.length + 2);
  pending[0] = send(['MULTI'], text);
  for (let i = 0; i < commands.length; i++) {
    pending[i + 1] = send(toNodeRedisArgs(commands[i]!.name, commands[i]!.args), text);
  }
  pending[commands.length + 1] = send(
    ['EXEC'],
    anyBinary ? { chainId, timeout: undefined, typeMapping: BINARY_MAPPING } : text,
  );
  const settled = await Promise.allSettled(pending);
  const multiOutcome = settled[0]!;
  const execOutcome = settled[commands.length + 1]!;
  if (multiOutcome.status === 'rejected') throw toRedisotelError(multiOutcome.reason, 'MULTI');
  if (execOutcome.status === 'rejected') {
    const execError = toRedisotelError(execOutcome.reason, 'EXEC');
    if (!RedisReplyError.isInstance(execError)) throw execError;
    // EXECABORT: name the first command Redis refused to queue, keep its error as the cause.
    for (let i = 0; i < commands.length; i++) {
      const outcome = settled[i + 1]!;
      if (outcome.status === 'rejected' && isNodeRedisReplyError(outcome.reason)) {
        const queuingError = toRedisotelError(outcome.reason, commands[i]!.name);
        throw new RedisReplyError(
          `${execError.message} (command ${i + 1} of ${commands.length}, ${commands[i]!.name.toUpperCase()}: ${queuingError.message})`,
          'EXEC',
          { cause: queuingError },
        );
      }
    }
    throw execError;
  }
  const replies = execOutcome.value;
  if (!Array.isArray(replies)) {
    // A nil EXEC only happens after WATCH, which this adapter never sends on its own connection.
    throw new RedisReplyError('EXECABORT Transaction aborted (EXEC returned nil)', 'EXEC');
  }
  const results = new Array<BatchResult>(commands.length);
  for (let i = 0; i < commands.length; i++) {
    const command = commands[i]!;
    const operation = command.name.toUpperCase();
    const value: unknown = replies[i];
    if (isNodeRedisReplyError(value)) {
      results[i] = { ok: false, error: new RedisReplyError(value.message, operation, { cause: value }) };
      continue;
    }
    const result = settle(value, operation);
    results[i] =
      result.ok && anyBinary && command.binary !== true
        ? { ok: true, value: buffersToStrings(result.value) }
        : result;
  }
  return results;
}

function settle(value: unknown, operation: string): BatchResult {
  try {
    return { ok: true, value: normalizeReply(value, operation) };
  } catch (error) {
    const mapped = toRedisotelError(error, operation);
    if (RedisReplyError.isInstance(mapped)) return { ok: false, error: mapped };
    throw mapped;
  }
}

/** Decode every Buffer in a reply as UTF-8 (a text command inside an `EXEC` decoded as binary). */
export function buffersToStrings(reply: RedisReply): RedisReply {
  if (Buffer.isBuffer(reply)) return reply.toString('utf8');
  if (Array.isArray(reply)) return reply.map(buffersToStrings);
  return reply;
}
