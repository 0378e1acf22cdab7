import { createHash } from 'node:crypto';
import type { RedisArgument } from '../types.js';

/** What {@link sanitizeCommand} does with key arguments. */
export type KeyMode = 'keep' | 'hash' | 'drop';

/** Options of {@link sanitizeCommand}. */
export interface SanitizeOptions {
  /** Keep keys as they are, replace them by a 12-hex-digit SHA-256 prefix, or by `?`. @default 'keep' */
  readonly keys?: KeyMode;
  /** Longest result in characters; a longer one is cut and ends with `…`. @default 1000 */
  readonly maxLength?: number;
}

const PLACEHOLDER = '?';
const ELLIPSIS = '…';
const NO_POSITIONS: readonly number[] = [];

/**
 * Turn a command into `db.query.text`, in Redis-CLI syntax, without values.
 *
 * Rules: the command name (upper-cased) is kept; arguments at key positions are kept (or hashed, or
 * dropped, per `keys`); every other argument becomes `?`. Key positions come from `keys` when given
 * (what {@link RedisCommand.keys} says), else from a built-in table of common commands
 * ({@link commandKeyPositions}); a command not in the table keeps no argument at all.
 * Commands with a subcommand (`CONFIG`, `ACL`, `CLIENT`, `SCRIPT`, `XGROUP`…) keep the subcommand.
 * Credentials never survive: `AUTH`, `HELLO … AUTH … SETNAME`, `MIGRATE … AUTH/AUTH2`, `ACL …`,
 * `CONFIG SET` values. Scripts: an `EVAL` body is `?` (bodies are high-cardinality and may embed
 * secrets), an `EVALSHA` SHA and an `FCALL` function name are kept, `numkeys` is kept, keys follow
 * the key rule and the script arguments (`ARGV`) are `?`. `PUBLISH`/`SPUBLISH` channels are
 * treated like keys, messages are `?`.
 *
 * @example
 * ```ts
 * sanitizeCommand('set', ['user:1', 'secret'], [0]); // 'SET user:1 ?'
 * sanitizeCommand('CONFIG', ['SET', 'requirepass', 'hunter2']); // 'CONFIG SET requirepass ?'
 * ```
 */
export function sanitizeCommand(
  name: string,
  args: readonly RedisArgument[],
  keys?: readonly number[],
  options: SanitizeOptions = {},
): string {
  const out = new QueryTextBuilder(options.maxLength ?? 1000);
  const keyMode = options.keys ?? 'keep';
  const command = name.toUpperCase();
  out.push(command);
  const positions = keys ?? commandKeyPositions(command, args);
  const special = SPECIAL[command];
  if (special !== undefined) {
    special(out, args, positions, keyMode);
  } else {
    renderGeneric(out, args, positions, keyMode, 0);
  }
  return out.finish();
}

/**
 * Positions in `args` (the arguments after the command name) of the key arguments of a common
 * command, from a built-in table; empty for commands it does not know. `name` is upper-cased.
 */
export function commandKeyPositions(name: string, args: readonly RedisArgument[]): readonly number[] {
  const rule = KEY_RULES.get(name.toUpperCase());
  return rule === undefined ? NO_POSITIONS : rule(args);
}

// ---- Rendering ----------------------------------------------------------------------------------

/** Builds a space-separated text and stops adding once it is longer than `max` characters. */
class QueryTextBuilder {
  private text = '';
  private full = false;
  constructor(private readonly max: number) {}

  push(token: string): void {
    if (this.full) return;
    this.text = this.text.length === 0 ? token : `${this.text} ${token}`;
    if (this.text.length > this.max) this.full = true;
  }

  get done(): boolean {
    return this.full;
  }

  finish(): string {
    return truncate(this.text, this.max);
  }
}

/** Cut `text` to at most `max` characters, the last one being `…` when it was cut. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, Math.max(0, max - 1))}${ELLIPSIS}`;
}

function renderGeneric(
  out: QueryTextBuilder,
  args: readonly RedisArgument[],
  positions: readonly number[],
  keyMode: KeyMode,
  from: number,
): void {
  for (let i = from; i < args.length && !out.done; i++) {
    out.push(positions.includes(i) ? renderKey(args[i]!, keyMode) : PLACEHOLDER);
  }
}

function renderKey(key: RedisArgument, keyMode: KeyMode): string {
  if (keyMode === 'drop') return PLACEHOLDER;
  if (keyMode === 'hash') {
    return createHash('sha256')
      .update(typeof key === 'number' ? String(key) : key)
      .digest('hex')
      .slice(0, 12);
  }
  return quote(typeof key === 'string' ? key : key.toString());
}

/** Tokens the way redis-cli would accept them: quoted when empty or holding spaces, quotes or controls. */
function quote(token: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we look for
  return token.length === 0 || /[\s"'\\\u0000-\u001f\u007f]/.test(token) ? JSON.stringify(token) : token;
}

function upper(argument: RedisArgument | undefined): string {
  if (argument === undefined) return '';
  return (typeof argument === 'string' ? argument : argument.toString()).toUpperCase();
}

/** A plain token we are willing to echo (a subcommand or a CONFIG parameter name), else `?`. */
function safeWord(argument: RedisArgument | undefined): string {
  const text = upper(argument);
  return /^[A-Z][A-Z0-9_.|-]{0,63}$/.test(text) ? text : PLACEHOLDER;
}

type SpecialRenderer = (
  out: QueryTextBuilder,
  args: readonly RedisArgument[],
  positions: readonly number[],
  keyMode: KeyMode,
) => void;

/** Keep the subcommand, then the generic rule for the rest (keys kept, values `?`). */
const subcommand: SpecialRenderer = (out, args, positions, keyMode) => {
  if (args.length === 0) return;
  out.push(safeWord(args[0]));
  renderGeneric(out, args, positions, keyMode, 1);
};

/** Keep the subcommand; everything after it is `?` whatever the key positions say. */
const subcommandThenRedact: SpecialRenderer = (out, args) => {
  if (args.length === 0) return;
  out.push(safeWord(args[0]));
  for (let i = 1; i < args.length && !out.done; i++) out.push(PLACEHOLDER);
};

const allRedacted: SpecialRenderer = (out, args) => {
  for (let i = 0; i < args.length && !out.done; i++) out.push(PLACEHOLDER);
};

/** `EVAL`/`EVALSHA`/`FCALL`: script body `?` (EVAL), SHA or function name kept, numkeys kept, ARGV `?`. */
function scriptRenderer(keepFirst: boolean): SpecialRenderer {
  return (out, args, positions, keyMode) => {
    if (args.length === 0) return;
    out.push(keepFirst ? renderKey(args[0]!, 'keep') : PLACEHOLDER);
    if (args.length === 1) return;
    const numkeys = args[1]!;
    out.push(/^\d{1,9}$/.test(String(numkeys)) ? String(numkeys) : PLACEHOLDER);
    renderGeneric(out, args, positions, keyMode, 2);
  };
}

/** `CONFIG SET p v [p v …]` keeps parameter names; `CONFIG GET p …` keeps them all; else subcommand only. */
const configRenderer: SpecialRenderer = (out, args) => {
  if (args.length === 0) return;
  const sub = safeWord(args[0]);
  out.push(sub);
  for (let i = 1; i < args.length && !out.done; i++) {
    if (sub === 'GET' || (sub === 'SET' && i % 2 === 1)) out.push(safeWord(args[i]).toLowerCase());
    else out.push(PLACEHOLDER);
  }
};

/** `HELLO [protover [AUTH username password] [SETNAME clientname]]`. */
const helloRenderer: SpecialRenderer = (out, args) => {
  let i = 0;
  while (i < args.length && !out.done) {
    const word = upper(args[i]);
    if (word === 'AUTH') {
      out.push('AUTH');
      const end = Math.min(i + 3, args.length);
      for (i += 1; i < end; i++) out.push(PLACEHOLDER);
    } else if (word === 'SETNAME') {
      out.push('SETNAME');
      if (i + 1 < args.length) out.push(PLACEHOLDER);
      i += 2;
    } else {
      out.push(PLACEHOLDER);
      i += 1;
    }
  }
};

/** `MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw | AUTH2 user pw] [KEYS key…]`. */
const migrateRenderer: SpecialRenderer = (out, args, positions, keyMode) => {
  for (let i = 0; i < Math.min(5, args.length); i++) {
    out.push(positions.includes(i) ? renderKey(args[i]!, keyMode) : PLACEHOLDER);
  }
  let i = 5;
  while (i < args.length && !out.done) {
    const word = upper(args[i]);
    if (word === 'COPY' || word === 'REPLACE') {
      out.push(word);
      i += 1;
    } else if (word === 'AUTH' || word === 'AUTH2') {
      out.push(word);
      const end = Math.min(i + (word === 'AUTH' ? 2 : 3), args.length);
      for (i += 1; i < end; i++) out.push(PLACEHOLDER);
    } else if (word === 'KEYS') {
      out.push('KEYS');
      renderGeneric(out, args, positions, keyMode, i + 1);
      return;
    } else {
      out.push(PLACEHOLDER);
      i += 1;
    }
  }
};

const SPECIAL: Record<string, SpecialRenderer | undefined> = {
  __proto__: null as never,
  AUTH: allRedacted,
  HELLO: helloRenderer,
  MIGRATE: migrateRenderer,
  CONFIG: configRenderer,
  ACL: subcommandThenRedact,
  CLIENT: subcommandThenRedact,
  EVAL: scriptRenderer(false),
  EVAL_RO: scriptRenderer(false),
  EVALSHA: scriptRenderer(true),
  EVALSHA_RO: scriptRenderer(true),
  FCALL: scriptRenderer(true),
  FCALL_RO: scriptRenderer(true),
  CLUSTER: subcommand,
  COMMAND: subcommand,
  FUNCTION: subcommandThenRedact,
  SCRIPT: subcommandThenRedact,
  MEMORY: subcommand,
  MODULE: subcommandThenRedact,
  OBJECT: subcommand,
  XGROUP: subcommand,
  XINFO: subcommand,
  PUBSUB: subcommand,
  SLOWLOG: subcommand,
  LATENCY: subcommand,
  DEBUG: subcommandThenRedact,
};

// ---- Key positions ------------------------------------------------------------------------------

type KeyRule = (args: readonly RedisArgument[]) => readonly number[];

const FIRST: KeyRule = (args) => (args.length > 0 ? [0] : NO_POSITIONS);
const FIRST_TWO: KeyRule = (args) => range(0, Math.min(2, args.length));
const ALL: KeyRule = (args) => range(0, args.length);
const ALL_BUT_LAST: KeyRule = (args) => range(0, args.length - 1);
const ALL_BUT_FIRST: KeyRule = (args) => range(1, args.length);
const PAIRS: KeyRule = (args) => {
  const positions: number[] = [];
  for (let i = 0; i < args.length; i += 2) positions.push(i);
  return positions;
};
const SECOND: KeyRule = (args) => (args.length > 1 ? [1] : NO_POSITIONS);

/** `numkeys` at `at`, the keys right after it; `prefix` keys before it (a destination). */
function numkeys(at: number, prefix = 0): KeyRule {
  return (args) => {
    const count = Number(args[at]);
    if (!Number.isInteger(count) || count < 0) return range(0, Math.min(prefix, args.length));
    return [
      ...range(0, Math.min(prefix, args.length)),
      ...range(at + 1, Math.min(at + 1 + count, args.length)),
    ];
  };
}

/** `XREAD … STREAMS key… id…`: the first half after `STREAMS`. */
const STREAMS: KeyRule = (args) => {
  for (let i = 0; i < args.length; i++) {
    if (upper(args[i]) === 'STREAMS') {
      const rest = args.length - i - 1;
      return range(i + 1, i + 1 + Math.floor(rest / 2));
    }
  }
  return NO_POSITIONS;
};

const MIGRATE_KEYS: KeyRule = (args) => {
  const positions: number[] = [];
  const single = args[2];
  if (single !== undefined && String(single).length > 0) positions.push(2);
  for (let i = 5; i < args.length; i++) {
    if (upper(args[i]) === 'KEYS') return [...positions, ...range(i + 1, args.length)];
  }
  return positions;
};

const MEMORY_KEYS: KeyRule = (args) => (upper(args[0]) === 'USAGE' ? SECOND(args) : NO_POSITIONS);
const XINFO_KEYS: KeyRule = (args) => (upper(args[0]) === 'HELP' ? NO_POSITIONS : SECOND(args));
const XGROUP_KEYS: KeyRule = (args) => (upper(args[0]) === 'HELP' ? NO_POSITIONS : SECOND(args));
const OBJECT_KEYS: KeyRule = (args) => (upper(args[0]) === 'HELP' ? NO_POSITIONS : SECOND(args));

function range(from: number, to: number): number[] {
  const positions: number[] = [];
  for (let i = from; i < to; i++) positions.push(i);
  return positions;
}

const KEY_RULES = new Map<string, KeyRule>();
function rule(keyRule: KeyRule, names: string): void {
  for (const name of names.split(/\s+/)) if (name) KEY_RULES.set(name, keyRule);
}

rule(
  FIRST,
  `GET SET SETNX SETEX PSETEX GETSET GETDEL GETEX APPEND STRLEN INCR INCRBY INCRBYFLOAT DECR DECRBY
   SETRANGE GETRANGE SUBSTR LCS EXPIRE PEXPIRE EXPIREAT PEXPIREAT EXPIRETIME PEXPIRETIME TTL PTTL PERSIST
   TYPE DUMP RESTORE SORT SORT_RO
   HSET HSETNX HGET HMSET HMGET HDEL HGETALL HKEYS HVALS HLEN HEXISTS HINCRBY HINCRBYFLOAT HSTRLEN HSCAN
   HRANDFIELD HEXPIRE HPEXPIRE HTTL HPTTL HPERSIST HGETDEL HGETEX HSETEX
   LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LRANGE LINDEX LSET LREM LTRIM LINSERT LPOS
   SADD SREM SMEMBERS SISMEMBER SMISMEMBER SCARD SPOP SRANDMEMBER SSCAN
   ZADD ZREM ZSCORE ZMSCORE ZINCRBY ZCARD ZCOUNT ZLEXCOUNT ZRANGE ZRANGEBYSCORE ZRANGEBYLEX ZREVRANGE
   ZREVRANGEBYSCORE ZREVRANGEBYLEX ZRANK ZREVRANK ZREMRANGEBYSCORE ZREMRANGEBYRANK ZREMRANGEBYLEX ZSCAN
   ZPOPMIN ZPOPMAX ZRANDMEMBER
   XADD XLEN XRANGE XREVRANGE XDEL XTRIM XACK XCLAIM XAUTOCLAIM XPENDING XSETID
   GEOADD GEOPOS GEODIST GEOHASH GEOSEARCH GEORADIUS GEORADIUSBYMEMBER GEORADIUS_RO GEORADIUSBYMEMBER_RO
   PFADD SETBIT GETBIT BITCOUNT BITPOS BITFIELD BITFIELD_RO
   PUBLISH SPUBLISH`,
);
rule(
  ALL,
  'DEL UNLINK EXISTS MGET TOUCH WATCH SUNION SINTER SDIFF SUNIONSTORE SINTERSTORE SDIFFSTORE PFCOUNT PFMERGE',
);
rule(FIRST_TWO, 'RENAME RENAMENX COPY LMOVE BLMOVE RPOPLPUSH BRPOPLPUSH SMOVE GEOSEARCHSTORE ZRANGESTORE');
rule(ALL_BUT_LAST, 'BLPOP BRPOP BZPOPMIN BZPOPMAX');
rule(ALL_BUT_FIRST, 'BITOP');
rule(PAIRS, 'MSET MSETNX');
rule(numkeys(1), 'EVAL EVALSHA EVAL_RO EVALSHA_RO FCALL FCALL_RO BLMPOP BZMPOP');
rule(numkeys(0), 'ZUNION ZINTER ZDIFF ZINTERCARD SINTERCARD LMPOP ZMPOP');
rule(numkeys(1, 1), 'ZUNIONSTORE ZINTERSTORE ZDIFFSTORE');
rule(STREAMS, 'XREAD XREADGROUP');
rule(MIGRATE_KEYS, 'MIGRATE');
rule(MEMORY_KEYS, 'MEMORY');
rule(XINFO_KEYS, 'XINFO');
rule(XGROUP_KEYS, 'XGROUP');
rule(OBJECT_KEYS, 'OBJECT');
