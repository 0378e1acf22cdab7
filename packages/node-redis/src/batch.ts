import { type BatchResult, type RedisCommand, type RedisReply, RedisReplyError } from '@redisotel/core-hooks';
import { isNodeRedisReplyError, toRedisotelError } from './errors.js';
import type { NodeRedisCommandOptions } from './internal-types.js';
import { BINARY_MAPPING, normalizeReply, TEXT_MAPPING, toNodeRedisArgs } from './reply.js';

/** Send one command on one connection (a standalone client, a cluster node, a sentinel lease). */
export type ConnectionSend = (
  args: (string | Buffer)[],
  options: NodeRedisCommandOptions,
) => Promise<unknown>;

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
  const pending = commands.map((command) =>
    send(toNodeRedisArgs(command.name, command.args), {
      chainId,
      timeout: undefined,
      typeMapping: command.binary === true ? BINARY_MAPPING : TEXT_MAPPING,
    }),
  );
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
      results[i] = settle(outcome.value, operation, commands[i]!.binary === true);
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
  const base = { chainId, timeout: undefined } as const;
  const multi = send(['MULTI'], { ...base, typeMapping: TEXT_MAPPING });
  const queued = commands.map((command) =>
    send(toNodeRedisArgs(command.name, command.args), { ...base, typeMapping: TEXT_MAPPING }),
  );
  const exec = send(['EXEC'], { ...base, typeMapping: anyBinary ? BINARY_MAPPING : TEXT_MAPPING });
  const [multiOutcome, execOutcome, ...queuedOutcomes] = await Promise.allSettled([multi, exec, ...queued]);
  if (multiOutcome!.status === 'rejected') throw toRedisotelError(multiOutcome!.reason, 'MULTI');
  if (execOutcome!.status === 'rejected') {
    const execError = toRedisotelError(execOutcome!.reason, 'EXEC');
    if (!RedisReplyError.isInstance(execError)) throw execError;
    // EXECABORT: name the first command Redis refused to queue, keep its error as the cause.
    for (let i = 0; i < queuedOutcomes.length; i++) {
      const outcome = queuedOutcomes[i]!;
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
  const replies = execOutcome!.value;
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
    const result = settle(value, operation, command.binary === true);
    results[i] =
      result.ok && anyBinary && command.binary !== true
        ? { ok: true, value: buffersToStrings(result.value) }
        : result;
  }
  return results;
}

function settle(value: unknown, operation: string, _binary: boolean): BatchResult {
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
