import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { commandKeyPositions, sanitizeCommand } from '../src/telemetry/sanitize.js';
import type { RedisArgument } from '../src/types.js';

const sha = 'e0e1f9fabfc9d4800c877a703b823ac0578ff8db';

describe('sanitizeCommand: the peers’ known holes (TELEMETRY.md §2.1)', () => {
  it.each<[string, RedisArgument[], string]>([
    ['SET', ['k', 'secretval'], 'SET k ?'],
    ['GETSET', ['k', 'secretval'], 'GETSET k ?'],
    ['PSETEX', ['k', 1000, 'secretval'], 'PSETEX k ? ?'],
    ['CONFIG', ['SET', 'requirepass', 'hunter2'], 'CONFIG SET requirepass ?'],
    ['ACL', ['SETUSER', 'alice', '>hunter2'], 'ACL SETUSER ? ?'],
    ['EVAL', ['return 1', 1, 'k', 'argsecret'], 'EVAL ? 1 k ?'],
    ['AUTH', ['user', 'hunter2'], 'AUTH ? ?'],
    ['HELLO', [3, 'AUTH', 'u', 'pw'], 'HELLO ? AUTH ? ?'],
    ['MIGRATE', ['host', 6379, 'k', 0, 5000, 'AUTH', 'pw'], 'MIGRATE ? ? k ? ? AUTH ?'],
  ])('%s %j → %s', (name, args, expected) => {
    const text = sanitizeCommand(name, args);
    expect(text).toBe(expected);
    for (const secret of ['secretval', 'hunter2', 'argsecret', 'pw', 'return 1']) {
      expect(text).not.toContain(secret);
    }
  });
});

describe('sanitizeCommand: command by command', () => {
  it.each<[string, RedisArgument[], string]>([
    ['get', ['user:1'], 'GET user:1'],
    ['SETEX', ['k', 10, 'v'], 'SETEX k ? ?'],
    ['SET', ['k', 'v', 'EX', 10, 'NX'], 'SET k ? ? ? ?'],
    ['MSET', ['a', '1', 'b', '2'], 'MSET a ? b ?'],
    ['MGET', ['a', 'b', 'c'], 'MGET a b c'],
    ['DEL', ['a', 'b'], 'DEL a b'],
    ['HSET', ['h', 'field', 'value', 'f2', 'v2'], 'HSET h ? ? ? ?'],
    ['LPUSH', ['list', 'x', 'y'], 'LPUSH list ? ?'],
    ['XADD', ['stream', '*', 'field', 'value'], 'XADD stream ? ? ?'],
    ['PUBLISH', ['news', 'the message'], 'PUBLISH news ?'],
    ['SPUBLISH', ['news', 'the message'], 'SPUBLISH news ?'],
    ['CLIENT', ['SETNAME', 'my-app'], 'CLIENT SETNAME ?'],
    ['CLIENT', ['KILL', 'ID', '12'], 'CLIENT KILL ? ?'],
    ['ACL', ['DELUSER', 'alice'], 'ACL DELUSER ?'],
    ['CONFIG', ['SET', 'requirepass', 'a', 'masterauth', 'b'], 'CONFIG SET requirepass ? masterauth ?'],
    ['CONFIG', ['GET', 'maxmemory'], 'CONFIG GET maxmemory'],
    ['HELLO', [3, 'AUTH', 'u', 'pw', 'SETNAME', 'app'], 'HELLO ? AUTH ? ? SETNAME ?'],
    ['HELLO', [], 'HELLO'],
    [
      'MIGRATE',
      ['h', 6379, '', 0, 5000, 'COPY', 'REPLACE', 'AUTH2', 'user', 'pw', 'KEYS', 'a', 'b'],
      'MIGRATE ? ? ? ? ? COPY REPLACE AUTH2 ? ? KEYS a b',
    ],
    ['EVALSHA', [sha, 2, 'k1', 'k2', 'a1'], `EVALSHA ${sha} 2 k1 k2 ?`],
    ['EVAL_RO', ['return redis.call("GET", KEYS[1])', 1, 'k'], 'EVAL_RO ? 1 k'],
    ['FCALL', ['myfunc', 1, 'k', 'secret'], 'FCALL myfunc 1 k ?'],
    ['FCALL_RO', ['myfunc', 0, 'secret'], 'FCALL_RO myfunc 0 ?'],
    ['SCRIPT', ['LOAD', 'return "secret"'], 'SCRIPT LOAD ?'],
    ['FUNCTION', ['LOAD', '#!lua name=lib\nsecret'], 'FUNCTION LOAD ?'],
    [
      'XREADGROUP',
      ['GROUP', 'g', 'c', 'COUNT', 1, 'STREAMS', 's1', 's2', '>', '>'],
      'XREADGROUP ? ? ? ? ? ? s1 s2 ? ?',
    ],
    ['BLPOP', ['a', 'b', 5], 'BLPOP a b ?'],
    ['ZUNIONSTORE', ['dest', 2, 'a', 'b', 'WEIGHTS', 1, 2], 'ZUNIONSTORE dest ? a b ? ? ?'],
    ['RENAME', ['a', 'b'], 'RENAME a b'],
    ['OBJECT', ['ENCODING', 'k'], 'OBJECT ENCODING k'],
    ['XGROUP', ['CREATE', 's', 'g', '$'], 'XGROUP CREATE s ? ?'],
    ['MEMORY', ['USAGE', 'k'], 'MEMORY USAGE k'],
    ['UNKNOWNCMD', ['a', 'b'], 'UNKNOWNCMD ? ?'],
    ['PING', [], 'PING'],
  ])('%s %j → %s', (name, args, expected) => {
    expect(sanitizeCommand(name, args)).toBe(expected);
  });

  it('uses the key positions it is given instead of the table', () => {
    expect(sanitizeCommand('SET', ['k', 'v'], [])).toBe('SET ? ?');
    expect(sanitizeCommand('MYMODULE.CMD', ['a', 'key', 'v'], [1])).toBe('MYMODULE.CMD ? key ?');
    expect(sanitizeCommand('EVALSHA', [sha, 1, '{t}:k', 'argsecret'], [2])).toBe(`EVALSHA ${sha} 1 {t}:k ?`);
  });

  it('quotes keys with spaces, quotes or control characters; decodes Buffer keys', () => {
    expect(sanitizeCommand('GET', ['my key'])).toBe('GET "my key"');
    expect(sanitizeCommand('GET', ['a"b'])).toBe('GET "a\\"b"');
    expect(sanitizeCommand('GET', ['line\nbreak'])).toBe('GET "line\\nbreak"');
    expect(sanitizeCommand('GET', [''])).toBe('GET ""');
    expect(sanitizeCommand('GET', [Buffer.from('bin:key')])).toBe('GET bin:key');
  });

  it("keys: 'hash' replaces each key by a 12-hex-digit SHA-256 prefix", () => {
    const hash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 12);
    expect(sanitizeCommand('MSET', ['a', '1', 'b', '2'], undefined, { keys: 'hash' })).toBe(
      `MSET ${hash('a')} ? ${hash('b')} ?`,
    );
    expect(sanitizeCommand('GET', [Buffer.from('a')], undefined, { keys: 'hash' })).toBe(`GET ${hash('a')}`);
  });

  it("keys: 'drop' replaces keys by ? too", () => {
    expect(sanitizeCommand('MSET', ['a', '1', 'b', '2'], undefined, { keys: 'drop' })).toBe('MSET ? ? ? ?');
    expect(sanitizeCommand('PUBLISH', ['news', 'm'], undefined, { keys: 'drop' })).toBe('PUBLISH ? ?');
  });

  it('cuts at maxLength with … and never exceeds it', () => {
    const keys = Array.from({ length: 1000 }, (_, index) => `key:${index}`);
    const text = sanitizeCommand('DEL', keys, undefined, { maxLength: 50 });
    expect(text).toHaveLength(50);
    expect(text.endsWith('…')).toBe(true);
    expect(text.startsWith('DEL key:0 key:1 key:2')).toBe(true);
    expect(sanitizeCommand('GET', ['k'], undefined, { maxLength: 5 })).toBe('GET k');
    expect(sanitizeCommand('GET', ['kk'], undefined, { maxLength: 5 })).toBe('GET …');
  });

  it('never echoes a subcommand that is not a plain word', () => {
    expect(sanitizeCommand('CLIENT', ['hunter2 with spaces'])).toBe('CLIENT ?');
  });
});

describe('commandKeyPositions', () => {
  it.each<[string, RedisArgument[], number[]]>([
    ['GET', ['k'], [0]],
    ['mset', ['a', 1, 'b', 2], [0, 2]],
    ['EVAL', ['src', 2, 'a', 'b', 'x'], [2, 3]],
    ['EVAL', ['src', 'notanumber', 'a'], []],
    ['XREAD', ['COUNT', 2, 'STREAMS', 'a', 'b', '0', '0'], [3, 4]],
    ['LMPOP', [2, 'a', 'b', 'LEFT'], [1, 2]],
    ['BITOP', ['AND', 'dest', 'a', 'b'], [1, 2, 3]],
    ['PING', [], []],
  ])('%s %j → %j', (name, args, expected) => {
    expect(commandKeyPositions(name, args)).toEqual(expected);
  });
});
