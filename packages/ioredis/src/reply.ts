import { type RedisReply, RedisReplyError } from '@redisotel/core-hooks';
import { isReplyError } from './errors.js';

/**
 * Commands whose RESP3 reply nests `[member, score]` pairs where RESP2 has a flat list. ioredis
 * flattens them itself with its default `replyMapping: 'legacy'`; with `replyMapping: 'resp3'` we do.
 */
const PAIR_COMMANDS = new Set([
  'zdiff',
  'zinter',
  'zpopmax',
  'zpopmin',
  'zunion',
  'zrandmember',
  'zrange',
  'zrangebyscore',
  'zrevrange',
  'zrevrangebyscore',
  'hrandfield',
  'vsim',
]);

/** Commands whose RESP3 reply is a double (a number with `replyMapping: 'resp3'`) where RESP2 has a string. */
const DOUBLE_COMMANDS = new Set(['zscore', 'zmscore', 'zincrby']);

/** Commands whose RESP3 reply is a map of streams where RESP2 has `[[stream, entries], …]`. */
const STREAM_READ_COMMANDS = new Set(['xread', 'xreadgroup']);

/**
 * Turn what ioredis resolved a command with into the RESP2 shape of {@link RedisReply}:
 * RESP3 maps (plain objects, `Map`) become flat `[key, value, …]` arrays, sets become arrays,
 * booleans 1/0, non-integer numbers (RESP3 doubles) and bigints strings, `String` objects (verbatim
 * strings) plain strings. An error reply nested in an array rejects the whole reply.
 *
 * @param name the lower-case command name, for the RESP3-mapping fix-ups and error messages
 * @param resp3Mapping whether the client decodes with `replyMapping: 'resp3'` (objects, nested pairs)
 */
export function normalizeReply(
  value: unknown,
  name: string,
  binary: boolean,
  resp3Mapping: boolean,
): RedisReply {
  if (resp3Mapping) {
    if (STREAM_READ_COMMANDS.has(name) && isPlainMap(value)) {
      return entriesOf(value).map(([key, entries]) => [
        normalizeValue(key, name, binary),
        normalizeValue(entries, name, binary),
      ]);
    }
    if (PAIR_COMMANDS.has(name) && Array.isArray(value) && value.some(Array.isArray)) {
      // `[member, score]` pairs: the score is a RESP3 double, a string in RESP2.
      return value
        .flat(1)
        .map((item) => (typeof item === 'number' ? String(item) : normalizeValue(item, name, binary)));
    }
    if (DOUBLE_COMMANDS.has(name)) {
      if (typeof value === 'number') return String(value);
      if (Array.isArray(value))
        return value.map((item) =>
          typeof item === 'number' ? String(item) : normalizeValue(item, name, binary),
        );
    }
  }
  return normalizeValue(value, name, binary);
}

function isPlainMap(value: unknown): value is object {
  if (value instanceof Map) return true;
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function entriesOf(value: object): Array<[unknown, unknown]> {
  return value instanceof Map ? [...value.entries()] : Object.entries(value);
}

function normalizeValue(value: unknown, name: string, binary: boolean): RedisReply {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      return Number.isInteger(value) ? value : String(value);
    case 'boolean':
      return value ? 1 : 0;
    case 'bigint':
      return value.toString();
    case 'undefined':
      return null;
    case 'object': {
      if (value === null) return null;
      if (Buffer.isBuffer(value)) return binary ? value : value.toString();
      if (Array.isArray(value)) {
        const out: RedisReply[] = new Array(value.length);
        for (let i = 0; i < value.length; i++) out[i] = normalizeValue(value[i], name, binary);
        return out;
      }
      if (value instanceof Error) {
        if (isReplyError(value)) throw new RedisReplyError(value.message, name, { cause: value });
        throw value;
      }
      if (value instanceof String) return binary ? Buffer.from(value.toString()) : value.toString();
      if (value instanceof Set) return [...value].map((item) => normalizeValue(item, name, binary));
      if (value instanceof Map || isPlainMap(value)) {
        const out: RedisReply[] = [];
        for (const [key, item] of entriesOf(value)) {
          out.push(
            binary && typeof key === 'string' ? Buffer.from(key) : normalizeValue(key, name, binary),
            normalizeValue(item, name, binary),
          );
        }
        return out;
      }
      return String(value);
    }
    default:
      return String(value);
  }
}
