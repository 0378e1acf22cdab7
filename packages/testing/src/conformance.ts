import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

// The conformance suite every RedisLike adapter passes (DESIGN §2, STYLE #12). It is typed structurally
// against the RedisLike contract of @redisotel/core-hooks instead of importing it: core-hooks tests with
// this package, so importing it back would make a dependency cycle. The shapes below are the parts of
// the contract the suite exercises; an adapter's RedisLike is assignable to them.

type Argument = string | number | Buffer;
/** A reply in the contract's RESP2 shapes. */
export type ConformanceReply = string | number | null | Buffer | ConformanceReply[];

interface Command {
  readonly name: string;
  readonly args: readonly Argument[];
  readonly keys?: readonly number[];
  readonly binary?: boolean;
  readonly readOnly?: boolean;
}

type BatchResult =
  | { readonly ok: true; readonly value: ConformanceReply }
  | { readonly ok: false; readonly error: Error };

interface Message {
  readonly channel: string;
  readonly message: string;
  readonly pattern?: string;
}

interface Subscriber {
  subscribe(
    channels: string | readonly string[],
    listener: (message: Message) => void,
  ): Promise<() => Promise<void>>;
  psubscribe(
    patterns: string | readonly string[],
    listener: (message: Message) => void,
  ): Promise<() => Promise<void>>;
  ssubscribe(
    channels: string | readonly string[],
    listener: (message: Message) => void,
  ): Promise<() => Promise<void>>;
  onReconnect(listener: () => void): () => void;
  close(): Promise<void>;
}

interface Script {
  readonly name: string;
  readonly source: string;
  readonly sha1: string;
  readonly readOnly: boolean;
}

/** The members of `RedisLike` the conformance suite exercises. */
export interface ConformanceRedis {
  readonly specificationVersion: 1;
  send(command: Command, options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<ConformanceReply>;
  batch(commands: readonly Command[], options?: { atomic?: boolean }): Promise<BatchResult[]>;
  runScript(
    script: Script,
    keys: readonly Argument[],
    args: readonly Argument[],
    options?: { timeoutMs?: number; signal?: AbortSignal },
  ): Promise<ConformanceReply>;
  subscriber(): Subscriber;
  describe(): {
    readonly library: { readonly name: string; readonly version: string };
    readonly adapter: { readonly name: string; readonly version: string };
    readonly topology: string;
    readonly server: { readonly address: string; readonly port?: number };
    readonly database: number;
    readonly capabilities: { readonly shardedPubSub: boolean; readonly requiresSameSlot: boolean };
  };
  nodes(): Promise<
    readonly {
      readonly address: string;
      readonly port: number;
      readonly role: string;
      readonly id?: string;
      readonly slots?: readonly (readonly [number, number])[];
    }[]
  >;
}

/** What the factory of {@link describeRedisLikeConformance} returns: a connected RedisLike and how to close it. */
export interface ConformanceTarget {
  readonly redis: ConformanceRedis;
  /** Close the client (and the RedisLike's subscriber). */
  close(): Promise<void>;
}

/** The test functions of the runner (vitest, jest, node:test adapters): injected, never imported. */
export interface ConformanceTestApi {
  describe(name: string, body: () => void): void;
  it(name: string, body: () => Promise<void>, timeoutMs?: number): void;
  beforeAll(body: () => Promise<void>, timeoutMs?: number): void;
  afterAll(body: () => Promise<void>, timeoutMs?: number): void;
}

/** Options of {@link describeRedisLikeConformance}. */
export interface ConformanceOptions {
  /** The runner's functions, e.g. `{ describe, it, beforeAll, afterAll }` from vitest. */
  readonly test: ConformanceTestApi;
  /** The topology the factory connects to; checked against `describe().topology`. */
  readonly topology: 'standalone' | 'cluster' | 'sentinel';
  /**
   * Run commands on every master directly (for `SCRIPT FLUSH` and `CLIENT KILL`); given the node list
   * from `redis.nodes()`. The default opens a plain RESP connection to each master with `connectResp`.
   */
  readonly onEveryMaster?: (command: readonly Argument[]) => Promise<void>;
  /**
   * Restart the server(s) the target talks to (kill, then start again on the same port). When given,
   * the "server restart" group runs; leave it out for shared or external deployments.
   */
  readonly restart?: () => Promise<void>;
  /** Capability groups the adapter declares it lacks. */
  readonly skip?: { readonly subscriptions?: boolean; readonly shardedPubSub?: boolean };
  /** Per-test timeout in ms. @default 30000 */
  readonly timeoutMs?: number;
}

const REPLY_MARKER = Symbol.for('redisotel.error.reply');
const CONNECTION_MARKER = Symbol.for('redisotel.error.connection');
const ERROR_MARKER = Symbol.for('redisotel.error');
const CROSS_SLOT_MARKER = Symbol.for('redisotel.error.cross-slot');
const TIMEOUT_MARKER = Symbol.for('redisotel.error.timeout');

function marked(error: unknown, marker: symbol): boolean {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
}

async function rejection(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  assert.fail('expected the call to reject, but it resolved');
}

function assertReplyError(error: unknown, prefix: string, command: string): void {
  assert.ok(marked(error, REPLY_MARKER), `expected a RedisReplyError, got ${String(error)}`);
  const e = error as { prefix: string; command: string; name: string; message: string };
  assert.equal(e.prefix, prefix, `prefix of "${e.message}"`);
  assert.equal(e.command, command);
  assert.equal(e.name, 'RedisReplyError');
}

function script(name: string, source: string): Script {
  return { name, source, sha1: createHash('sha1').update(source).digest('hex'), readOnly: false };
}

/** Wait until `check` passes (it throws until then), polling every `intervalMs`, at most `timeoutMs`. */
async function eventually(
  check: () => Promise<void> | void,
  timeoutMs = 10_000,
  intervalMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(intervalMs);
    }
  }
}

/**
 * Declare the RedisLike conformance suite for one adapter × topology. Every adapter (and every client
 * major it supports) must pass it. The factory is called once per group; keys are namespaced with a
 * random hash-tagged prefix, so the suite can share a deployment with other tests.
 * @example
 * ```ts
 * import { afterAll, beforeAll, describe, it } from 'vitest';
 * describeRedisLikeConformance('node-redis 6 × cluster', async () => {
 *   const client = await createCluster({ rootNodes }).connect();
 *   return { redis: fromNodeRedis(client), close: () => client.close() };
 * }, { topology: 'cluster', test: { describe, it, beforeAll, afterAll } });
 * ```
 */
export function describeRedisLikeConformance(
  name: string,
  factory: () => Promise<ConformanceTarget>,
  options: ConformanceOptions,
): void {
  const { describe, it, beforeAll, afterAll } = options.test;
  const timeout = options.timeoutMs ?? 30_000;
  const cluster = options.topology === 'cluster';

  describe(`RedisLike conformance: ${name}`, () => {
    let target: ConformanceTarget;
    let redis: ConformanceRedis;
    // One hash tag for the whole suite: every multi-key command and batch stays in one slot.
    const tag = `{conf-${randomBytes(4).toString('hex')}}`;
    const key = (suffix: string) => `${tag}:${suffix}`;
    const cmd = (
      name: string,
      args: Argument[],
      keys: number[] = [0],
      extra: Partial<Command> = {},
    ): Command => ({
      name,
      args,
      keys,
      ...extra,
    });

    async function everyMaster(command: readonly Argument[]): Promise<void> {
      if (options.onEveryMaster) return options.onEveryMaster(command);
      const { connectResp } = await import('./resp.js');
      const masters = (await redis.nodes()).filter((n) => n.role === 'master');
      for (const node of masters) {
        const connection = await connectResp({ host: node.address, port: node.port });
        try {
          await connection.command([...command]);
        } finally {
          await connection.close();
        }
      }
    }

    beforeAll(async () => {
      target = await factory();
      redis = target.redis;
    }, timeout * 2);
    afterAll(async () => {
      await target?.close();
    }, timeout);

    describe('contract', () => {
      it('declares specification version 1', async () => {
        assert.equal(redis.specificationVersion, 1);
      });

      it('describes itself', async () => {
        const d = redis.describe();
        assert.ok(d.library.name.length > 0, 'library.name');
        assert.match(d.library.version, /^\d+\.\d+\.\d+/, 'library.version is a semver');
        assert.match(d.adapter.name, /^@redisotel\//, 'adapter.name');
        assert.equal(d.topology, options.topology);
        assert.ok(d.server.address.length > 0, 'server.address');
        if (d.server.port !== undefined)
          assert.ok(Number.isInteger(d.server.port) && d.server.port > 0, 'server.port');
        assert.ok(Number.isInteger(d.database) && d.database >= 0, 'database');
        assert.equal(
          d.capabilities.requiresSameSlot,
          cluster,
          'requiresSameSlot is true exactly on a cluster',
        );
        assert.equal(redis.describe(), redis.describe(), 'describe() is cheap: the same object every time');
      });

      it('enumerates the nodes of the deployment', async () => {
        const nodes = await redis.nodes();
        const masters = nodes.filter((n) => n.role === 'master');
        for (const n of nodes) {
          assert.ok(n.address.length > 0 && Number.isInteger(n.port), `node ${JSON.stringify(n)}`);
          assert.ok(['master', 'replica', 'sentinel'].includes(n.role), `role ${n.role}`);
        }
        if (options.topology === 'standalone') {
          assert.equal(masters.length, 1);
        } else if (cluster) {
          assert.equal(masters.length, 3, 'a test cluster has 3 masters');
          assert.equal(nodes.filter((n) => n.role === 'replica').length, 3, 'and 3 replicas');
          let covered = 0;
          for (const m of masters) for (const [from, to] of m.slots ?? []) covered += to - from + 1;
          assert.equal(covered, 16384, 'the masters cover every slot');
        } else {
          assert.equal(masters.length, 1, 'sentinel: one master');
          assert.ok(
            nodes.some((n) => n.role === 'replica'),
            'sentinel: a replica',
          );
          assert.ok(
            nodes.some((n) => n.role === 'sentinel'),
            'sentinel: the sentinels',
          );
        }
      });
    });

    describe('replies', () => {
      it('returns status and bulk strings as strings, nil as null', async () => {
        assert.equal(await redis.send(cmd('SET', [key('s'), 'héllo wörld'])), 'OK');
        assert.equal(await redis.send(cmd('GET', [key('s')])), 'héllo wörld');
        assert.equal(await redis.send(cmd('GET', [key('missing')])), null);
        assert.equal(await redis.send(cmd('SET', [key('empty'), ''])), 'OK');
        assert.equal(await redis.send(cmd('GET', [key('empty')])), '');
      });

      it('returns integers as numbers', async () => {
        assert.equal(await redis.send(cmd('INCRBY', [key('n'), 41])), 41);
        assert.equal(await redis.send(cmd('INCR', [key('n')])), 42);
        assert.equal(await redis.send(cmd('EXISTS', [key('n'), key('nope')], [0, 1])), 1);
        assert.equal(await redis.send(cmd('DEL', [key('nope')])), 0);
      });

      it('returns bytes exactly as Buffers when asked for binary', async () => {
        const bytes = Buffer.from([0, 1, 2, 0xfe, 0xff, 0x80, 10, 13]);
        await redis.send(cmd('SET', [key('bin'), bytes]));
        const reply = await redis.send(cmd('GET', [key('bin')], [0], { binary: true }));
        assert.ok(Buffer.isBuffer(reply), 'a Buffer');
        assert.deepEqual(reply, bytes);
        const missing = await redis.send(cmd('GET', [key('bin-missing')], [0], { binary: true }));
        assert.equal(missing, null);
      });

      it('returns arrays, empty arrays and nested arrays', async () => {
        await redis.send(cmd('RPUSH', [key('l'), 'a', 'b', 'c']));
        assert.deepEqual(await redis.send(cmd('LRANGE', [key('l'), 0, -1])), ['a', 'b', 'c']);
        assert.deepEqual(await redis.send(cmd('LRANGE', [key('l-missing'), 0, -1])), []);
        const nested = await redis.send(
          cmd('EVAL', ["return {1, 'two', {3, 'four'}, {}}", 1, key('eval')], [2]),
        );
        assert.deepEqual(nested, [1, 'two', [3, 'four'], []]);
      });

      it('maps hashes to flat arrays and doubles to strings (RESP2 shapes)', async () => {
        await redis.send(cmd('HSET', [key('h'), 'f1', 'v1', 'f2', 'v2']));
        const flat = (await redis.send(cmd('HGETALL', [key('h')]))) as string[];
        assert.ok(Array.isArray(flat), 'HGETALL is an array');
        const pairs = new Map<string, string>();
        for (let i = 0; i < flat.length; i += 2) pairs.set(flat[i]!, flat[i + 1]!);
        assert.deepEqual(Object.fromEntries(pairs), { f1: 'v1', f2: 'v2' });
        await redis.send(cmd('ZADD', [key('z'), '1.5', 'm']));
        assert.equal(await redis.send(cmd('ZSCORE', [key('z'), 'm'])), '1.5');
        assert.equal(await redis.send(cmd('INCRBYFLOAT', [key('f'), '0.25'])), '0.25');
        const members = (await redis.send(cmd('SMEMBERS', [key('set-missing')]))) as unknown[];
        assert.deepEqual(members, []);
      });

      it('maps Lua booleans to 1 and null', async () => {
        assert.equal(await redis.send(cmd('EVAL', ['return true', 1, key('b')], [2])), 1);
        assert.equal(await redis.send(cmd('EVAL', ['return false', 1, key('b')], [2])), null);
      });

      it('sends numbers as their decimal text', async () => {
        await redis.send(cmd('SET', [key('num'), 12.5]));
        assert.equal(await redis.send(cmd('GET', [key('num')])), '12.5');
      });
    });

    describe('errors', () => {
      it('rejects an error reply with a RedisReplyError carrying the prefix and the command', async () => {
        await redis.send(cmd('SET', [key('str'), 'x']));
        const error = await rejection(redis.send(cmd('LPUSH', [key('str'), 'y'])));
        assertReplyError(error, 'WRONGTYPE', 'LPUSH');
        assert.ok(marked(error, ERROR_MARKER), 'a RedisotelError');
        assert.ok(error instanceof Error, 'an Error with a stack');
        assert.ok(typeof error.stack === 'string' && error.stack.length > 0);
      });

      it('keeps custom prefixes from scripts and ERR for plain errors', async () => {
        const custom = await rejection(
          redis.send(cmd('EVAL', ["return redis.error_reply('MYERR something broke')", 1, key('e')], [2])),
        );
        assertReplyError(custom, 'MYERR', 'EVAL');
        const plain = await rejection(redis.send(cmd('INCR', [key('str')])));
        assertReplyError(plain, 'ERR', 'INCR');
      });

      it('rejects unknown commands with ERR', async () => {
        const error = await rejection(redis.send(cmd('NOSUCHCOMMAND', [key('x')])));
        assertReplyError(error, 'ERR', 'NOSUCHCOMMAND');
      });
    });

    describe('deadlines', () => {
      it('rejects with a RedisTimeoutError when the reply misses timeoutMs, and the client keeps working', async () => {
        // BLPOP on an empty list blocks on the server for 0.3 s; the caller gives up after 50 ms.
        const started = Date.now();
        const error = await rejection(
          redis.send(cmd('BLPOP', [key('deadline-empty'), '0.3']), { timeoutMs: 50 }),
        );
        assert.ok(marked(error, TIMEOUT_MARKER), `expected a RedisTimeoutError, got ${String(error)}`);
        assert.equal((error as { timeoutMs?: unknown }).timeoutMs, 50);
        assert.ok(Date.now() - started < 290, 'rejected at the deadline, before the server answered');
        // The late reply is ignored; the connection serves the next command.
        await redis.send(cmd('SET', [key('deadline-after'), 'ok']));
        assert.equal(await redis.send(cmd('GET', [key('deadline-after')])), 'ok');
      });

      it('resolves as usual within timeoutMs, scripts included (after SCRIPT FLUSH too)', async () => {
        for (let i = 0; i < 20; i++) {
          assert.equal(await redis.send(cmd('INCR', [key('deadline-ok')]), { timeoutMs: 5_000 }), i + 1);
        }
        const counted = script('conformance_deadline', "return {ARGV[1], redis.call('INCR', KEYS[1])}");
        assert.deepEqual(
          await redis.runScript(counted, [key('deadline-script')], ['x'], { timeoutMs: 5_000 }),
          ['x', 1],
        );
        await everyMaster(['SCRIPT', 'FLUSH']);
        assert.deepEqual(
          await redis.runScript(counted, [key('deadline-script')], ['y'], { timeoutMs: 5_000 }),
          ['y', 2],
        );
      });
    });

    describe('batches', () => {
      it('pipelines commands in order with per-command results and errors', async () => {
        const results = await redis.batch([
          cmd('SET', [key('p1'), 'a']),
          cmd('INCR', [key('p1')]),
          cmd('GET', [key('p1')]),
          cmd('INCR', [key('p2')]),
        ]);
        assert.equal(results.length, 4);
        assert.deepEqual(results[0], { ok: true, value: 'OK' });
        assert.equal(results[1]!.ok, false);
        if (!results[1]!.ok) assertReplyError(results[1]!.error, 'ERR', 'INCR');
        assert.deepEqual(results[2], { ok: true, value: 'a' });
        assert.deepEqual(results[3], { ok: true, value: 1 });
      });

      it('returns an empty result for an empty batch', async () => {
        assert.deepEqual(await redis.batch([]), []);
        assert.deepEqual(await redis.batch([], { atomic: true }), []);
      });

      it('runs atomic batches as MULTI/EXEC with per-command results', async () => {
        const results = await redis.batch(
          [
            cmd('SET', [key('m1'), '1']),
            cmd('INCR', [key('m1')]),
            cmd('LPUSH', [key('m1'), 'x']),
            cmd('GET', [key('m1')]),
          ],
          { atomic: true },
        );
        assert.deepEqual(results[0], { ok: true, value: 'OK' });
        assert.deepEqual(results[1], { ok: true, value: 2 });
        assert.equal(results[2]!.ok, false, 'a runtime error inside EXEC is that command’s error');
        if (!results[2]!.ok) assertReplyError(results[2]!.error, 'WRONGTYPE', 'LPUSH');
        assert.deepEqual(results[3], { ok: true, value: '2' });
      });

      it('rejects a transaction that Redis refused to queue with EXECABORT, applying nothing', async () => {
        const error = await rejection(
          redis.batch([cmd('SET', [key('abort'), 'x']), cmd('NOSUCHCOMMAND', [key('abort')])], {
            atomic: true,
          }),
        );
        assert.ok(marked(error, REPLY_MARKER), `a RedisReplyError, got ${String(error)}`);
        assert.equal(error.prefix, 'EXECABORT');
        assert.equal(await redis.send(cmd('GET', [key('abort')])), null, 'nothing was applied');
      });

      it(
        cluster
          ? 'rejects a batch whose keys span slots before sending anything'
          : 'accepts batches with keys in any slot',
        async () => {
          const a = `{conf-a-${randomBytes(3).toString('hex')}}:k`;
          const b = `{conf-b-${randomBytes(3).toString('hex')}}:k`;
          const commands = [cmd('SET', [a, '1']), cmd('SET', [b, '1'])];
          if (cluster) {
            for (const atomic of [false, true]) {
              const error = await rejection(redis.batch(commands, { atomic }));
              assert.ok(marked(error, CROSS_SLOT_MARKER), `a CrossSlotError, got ${String(error)}`);
              assert.equal(error.name, 'CrossSlotError');
              assert.match(error.message, /hash tag/);
            }
            assert.equal(await redis.send(cmd('EXISTS', [a])), 0, 'nothing was sent');
            assert.equal(await redis.send(cmd('EXISTS', [b])), 0, 'nothing was sent');
            const single = await rejection(redis.send(cmd('MSET', [a, '1', b, '2'], [0, 2])));
            assert.ok(marked(single, CROSS_SLOT_MARKER), 'a multi-key command across slots is refused too');
          } else {
            const results = await redis.batch(commands);
            assert.deepEqual(results, [
              { ok: true, value: 'OK' },
              { ok: true, value: 'OK' },
            ]);
            await redis.send(cmd('DEL', [a, b], [0, 1]));
          }
        },
      );
    });

    describe('scripts', () => {
      const echo = script('conformance_echo', "return {KEYS[1], ARGV[1], redis.call('INCR', KEYS[1])}");

      it('computes the SHA1 that SCRIPT LOAD returns', async () => {
        const sha = await redis.send(cmd('SCRIPT', ['LOAD', echo.source], []));
        assert.equal(sha, echo.sha1);
      });

      it('runs a script with keys and arguments', async () => {
        const reply = await redis.runScript(echo, [key('script')], ['arg']);
        assert.deepEqual(reply, [key('script'), 'arg', 1]);
      });

      it('runs again after SCRIPT FLUSH (NOSCRIPT falls back to EVAL)', async () => {
        await redis.runScript(echo, [key('flush')], ['a']);
        await everyMaster(['SCRIPT', 'FLUSH']);
        const reply = await redis.runScript(echo, [key('flush')], ['b']);
        assert.deepEqual(reply, [key('flush'), 'b', 2]);
        // And the fallback loaded it again: the next call is a plain EVALSHA hit.
        const exists = (await redis.send(cmd('SCRIPT', ['EXISTS', echo.sha1], []))) as number[];
        assert.ok(Array.isArray(exists));
      });

      it('surfaces script errors as reply errors', async () => {
        const failing = script('conformance_fail', "return redis.error_reply('BADTHING no')");
        const error = await rejection(redis.runScript(failing, [key('sf')], []));
        assert.ok(marked(error, REPLY_MARKER));
        assert.equal(error.prefix, 'BADTHING');
      });

      if (cluster) {
        it('refuses a script whose keys span slots', async () => {
          const error = await rejection(redis.runScript(echo, ['{conf-x}:a', '{conf-y}:b'], []));
          assert.ok(marked(error, CROSS_SLOT_MARKER), `a CrossSlotError, got ${String(error)}`);
        });
      }
    });

    if (!options.skip?.subscriptions) {
      describe('subscriptions', () => {
        it('delivers channel messages and stops after unsubscribe', async () => {
          const channel = key('chan');
          const got: Message[] = [];
          const unsubscribe = await redis.subscriber().subscribe(channel, (m) => got.push(m));
          await redis.send(cmd('PUBLISH', [channel, 'one'], []));
          await eventually(() => assert.deepEqual(got, [{ channel, message: 'one' }]));
          await unsubscribe();
          await redis.send(cmd('PUBLISH', [channel, 'two'], []));
          await redis.send(cmd('PING', [], []));
          await sleep(100);
          assert.equal(got.length, 1, 'no message after unsubscribe');
        });

        it('delivers pattern messages with the pattern', async () => {
          const pattern = `${key('pat')}:*`;
          const channel = `${key('pat')}:x`;
          const got: Message[] = [];
          const unsubscribe = await redis.subscriber().psubscribe(pattern, (m) => got.push(m));
          await redis.send(cmd('PUBLISH', [channel, 'hi'], []));
          await eventually(() => assert.deepEqual(got, [{ channel, message: 'hi', pattern }]));
          await unsubscribe();
        });

        it('keeps other listeners of a channel when one unsubscribes', async () => {
          const channel = key('shared-chan');
          const first: string[] = [];
          const second: string[] = [];
          const offFirst = await redis.subscriber().subscribe(channel, (m) => first.push(m.message));
          const offSecond = await redis.subscriber().subscribe(channel, (m) => second.push(m.message));
          await offFirst();
          await redis.send(cmd('PUBLISH', [channel, 'still'], []));
          await eventually(() => assert.deepEqual(second, ['still']));
          assert.deepEqual(first, []);
          await offSecond();
        });

        if (!options.skip?.shardedPubSub && cluster) {
          it('delivers sharded channel messages (SSUBSCRIBE/SPUBLISH)', async () => {
            assert.equal(redis.describe().capabilities.shardedPubSub, true);
            const channels = [`{conf-s1}:c`, `{conf-s2}:c`, `{conf-s3}:c`];
            const got: Message[] = [];
            const offs = await Promise.all(
              channels.map((c) => redis.subscriber().ssubscribe(c, (m) => got.push(m))),
            );
            for (const c of channels) await redis.send(cmd('SPUBLISH', [c, `to ${c}`], [0]));
            await eventually(() => assert.equal(got.length, channels.length));
            assert.deepEqual(got.map((m) => m.message).sort(), channels.map((c) => `to ${c}`).sort());
            for (const off of offs) await off();
          });
        }

        it('resubscribes after the subscriber connection is killed, and says so', async () => {
          const channel = key('reconnect');
          const got: string[] = [];
          let reconnects = 0;
          const subscriber = redis.subscriber();
          const offReconnect = subscriber.onReconnect(() => {
            reconnects++;
          });
          const unsubscribe = await subscriber.subscribe(channel, (m) => got.push(m.message));
          await everyMaster(['CLIENT', 'KILL', 'TYPE', 'pubsub']);
          await eventually(() => assert.ok(reconnects >= 1, 'onReconnect was called'), 15_000);
          await eventually(
            async () => {
              await redis.send(cmd('PUBLISH', [channel, 'after'], []));
              assert.ok(got.includes('after'), 'delivered after the reconnect');
            },
            15_000,
            200,
          );
          offReconnect();
          await unsubscribe();
        });
      });
    }

    if (options.restart) {
      const restart = options.restart;
      describe('server restart', () => {
        it(
          'fails with typed errors while the server is down and recovers after it restarts',
          async () => {
            const s = script('conformance_after_restart', "return redis.call('INCR', KEYS[1])");
            assert.equal(await redis.runScript(s, [key('restart')], []), 1);
            const errors: unknown[] = [];
            await restart();
            await eventually(
              async () => {
                try {
                  // The restarted server lost the script cache (and the data: no persistence in tests).
                  assert.equal(await redis.runScript(s, [key('restart')], []), 1);
                } catch (error) {
                  errors.push(error);
                  throw error;
                }
              },
              30_000,
              200,
            );
            for (const error of errors) {
              assert.ok(
                marked(error, ERROR_MARKER) || error instanceof assert.AssertionError,
                `every failure is a typed redisotel error, got ${String(error)}`,
              );
              if (marked(error, CONNECTION_MARKER)) {
                assert.match(String((error as { code: unknown }).code), /^[A-Z_]+$/, 'a stable error code');
              }
            }
          },
          timeout * 2,
        );
      });
    }
  });
}
