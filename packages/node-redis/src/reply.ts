import { type RedisReply, RedisReplyError } from '@redisotel/core-hooks';

/**
 * RESP type codes (`RESP_TYPES` in `@redis/client`). They are bytes of the protocol, stable across
 * node-redis 5 and 6, so we keep our own copy instead of importing the client.
 */
const RESP = {
  NUMBER: 58,
  BIG_NUMBER: 40,
  DOUBLE: 44,
  SIMPLE_STRING: 43,
  BLOB_STRING: 36,
  VERBATIM_STRING: 61,
  MAP: 37,
  SET: 126,
} as const;

/**
 * The `typeMapping` we send with every command so node-redis decodes RESP3 replies close to their
 * RESP2 shape without a second pass: maps as flat arrays, sets as arrays, doubles and big numbers as
 * their text, and strings as `string` (or `Buffer` for binary commands). Booleans, nested error
 * replies and a few RESP3-only nestings are fixed by {@link normalizeReply}.
 */
export const TEXT_MAPPING: Readonly<Record<number, unknown>> = Object.freeze({
  [RESP.NUMBER]: Number,
  [RESP.BIG_NUMBER]: String,
  [RESP.DOUBLE]: String,
  [RESP.SIMPLE_STRING]: String,
  [RESP.BLOB_STRING]: String,
  [RESP.VERBATIM_STRING]: String,
  [RESP.MAP]: Array,
  [RESP.SET]: Array,
});

/** Like {@link TEXT_MAPPING}, with every string type decoded as a `Buffer`. */
export const BINARY_MAPPING: Readonly<Record<number, unknown>> = Object.freeze({
  ...TEXT_MAPPING,
  [RESP.SIMPLE_STRING]: Buffer,
  [RESP.BLOB_STRING]: Buffer,
  [RESP.VERBATIM_STRING]: Buffer,
});

/**
 * Commands whose RESP3 reply nests `[member, score]` pairs where RESP2 returns a flat list
 * (`WITHSCORES`, `WITHVALUES`, `ZPOPMIN key count`…).
 */
const PAIRS_FLATTENED_IN_RESP2 = new Set([
  'ZRANGE',
  'ZRANGEBYSCORE',
  'ZREVRANGE',
  'ZREVRANGEBYSCORE',
  'ZUNION',
  'ZINTER',
  'ZDIFF',
  'ZPOPMIN',
  'ZPOPMAX',
  'ZRANDMEMBER',
  'HRANDFIELD',
]);

/** Commands whose RESP3 reply is a map of stream → entries where RESP2 has `[[stream, entries], …]`. */
const MAP_OF_PAIRS_IN_RESP2 = new Set(['XREAD', 'XREADGROUP']);

/**
 * Turn what node-redis decoded (with {@link TEXT_MAPPING} / {@link BINARY_MAPPING}) into the
 * client-neutral RESP2 shape of core-hooks' `RedisReply`. Error replies nested in arrays (a script
 * returning `redis.error_reply`, an `EXEC` entry) reject with {@link RedisReplyError}.
 *
 * @param operation the upper-cased command name, for the RESP3 reshaping and error messages
 */
export function normalizeReply(value: unknown, operation: string): RedisReply {
  const reply = normalizeValue(value, operation);
  if (Array.isArray(reply)) {
    if (PAIRS_FLATTENED_IN_RESP2.has(operation) && reply.some(Array.isArray)) {
      return reply.flatMap((entry) => (Array.isArray(entry) ? entry : [entry]));
    }
    if (MAP_OF_PAIRS_IN_RESP2.has(operation) && reply.length > 0 && !Array.isArray(reply[0])) {
      // RESP3 map decoded flat: [stream, entries, stream, entries]
      const pairs: RedisReply[] = [];
      for (let i = 0; i < reply.length; i += 2) pairs.push([reply[i] ?? null, reply[i + 1] ?? null]);
      return pairs;
    }
  }
  return reply;
}

function normalizeValue(value: unknown, operation: string): RedisReply {
  switch (typeof value) {
    case 'string':
    case 'number':
      return value;
    case 'boolean':
      return value ? 1 : 0;
    case 'bigint':
      return value.toString();
    case 'object': {
      if (value === null) return null;
      if (Buffer.isBuffer(value)) return value;
      if (Array.isArray(value)) {
        const out = new Array<RedisReply>(value.length);
        for (let i = 0; i < value.length; i++) out[i] = normalizeValue(value[i], operation);
        return out;
      }
      if (value instanceof Error) throw toNestedReplyError(value, operation);
      if (value instanceof Map) {
        const out: RedisReply[] = [];
        for (const [key, entry] of value)
          out.push(normalizeValue(key, operation), normalizeValue(entry, operation));
        return out;
      }
      if (value instanceof Set) return [...value].map((entry) => normalizeValue(entry, operation));
      // A RESP3 map decoded as a plain object (a caller-supplied mapping), or a VerbatimString.
      if (typeof (value as { toString?: unknown }).toString === 'function' && 'format' in value) {
        return String(value);
      }
      const out: RedisReply[] = [];
      for (const [key, entry] of Object.entries(value)) out.push(key, normalizeValue(entry, operation));
      return out;
    }
    default:
      return null;
  }
}

function toNestedReplyError(error: Error, operation: string): RedisReplyError {
  return new RedisReplyError(error.message, operation, { cause: error });
}

/** node-redis arguments are strings or Buffers: numbers go as their decimal text. */
export function toNodeRedisArgs(
  name: string,
  args: readonly (string | number | Buffer)[],
): (string | Buffer)[] {
  const out = new Array<string | Buffer>(args.length + 1);
  out[0] = name;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    out[i + 1] = typeof arg === 'number' ? String(arg) : arg;
  }
  return out;
}
