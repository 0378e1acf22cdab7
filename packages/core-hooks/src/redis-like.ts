import type { RedisDriver } from './driver.js';
import { RedisReplyError, timeoutError } from './errors.js';
import { composeHooks, type HookChains } from './hooks.js';
import { describeValue } from './script.js';
import { assertSameSlot } from './slot.js';
import { createRedisTelemetry } from './telemetry/redis-telemetry.js';
import { TimerEntry } from './timers.js';
import type {
  BatchInfo,
  BatchOptions,
  BatchResult,
  CommandInfo,
  DialInfo,
  RedisArgument,
  RedisCommand,
  RedisHook,
  RedisLike,
  RedisReply,
  RedisScript,
  RedisTelemetryOptions,
  SendOptions,
} from './types.js';

/** Options of {@link createRedisLike} (and so of `fromNodeRedis` / `fromIoredis`). */
export interface CreateRedisLikeOptions extends RedisTelemetryOptions {
  /** Hooks to install at creation, outermost first (inside the telemetry hook). */
  readonly hooks?: readonly RedisHook[];
}

/** Upper-cased command names (`db.operation.name`), computed once per distinct name. */
const upperNames = new Map<string, string>();
function upperName(name: string): string {
  let upper = upperNames.get(name);
  if (upper === undefined) {
    upper = name.toUpperCase();
    // Names are a small closed set in practice; the bound only guards against a caller that makes them up.
    if (upperNames.size < 1024) upperNames.set(name, upper);
  }
  return upper;
}

/** `EVALSHA sha numkeys k1 … kn`: the keys' positions in the arguments, one frozen array per count. */
const SCRIPT_KEY_POSITIONS: (readonly number[])[] = [];
function scriptKeyPositions(count: number): readonly number[] {
  let positions = SCRIPT_KEY_POSITIONS[count];
  if (positions === undefined) {
    positions = Object.freeze(Array.from({ length: count }, (_, i) => i + 2));
    if (count < 64) SCRIPT_KEY_POSITIONS[count] = positions;
  }
  return positions;
}

/** `numkeys` as the text the drivers would otherwise make from the number on every call. */
const KEY_COUNT_TEXT = Array.from({ length: 64 }, (_, i) => String(i));
function keyCountText(count: number): string {
  return KEY_COUNT_TEXT[count] ?? String(count);
}

/**
 * Turn an adapter's {@link RedisDriver} into a {@link RedisLike}: hooks (telemetry first), the
 * `EVALSHA`/`NOSCRIPT` script runner, cross-slot checks for batches, and opt-in per-call deadlines.
 * Adapters call this; applications call `fromNodeRedis` / `fromIoredis`.
 */
export function createRedisLike(driver: RedisDriver, options: CreateRedisLikeOptions = {}): RedisLike {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`createRedisLike: options must be an object, received ${describeValue(options)}`);
  }
  const description = driver.describe();
  const telemetry = createRedisTelemetry(options, description);
  const hooks: RedisHook[] = [];
  if (telemetry.hook) hooks.push(telemetry.hook);
  for (const hook of options.hooks ?? []) hooks.push(hook);

  // Drivers that enforce `timeoutMs` themselves (rejecting the client's own command) spare the
  // wrapper promise; a signal is always raced here.
  const enforcesDeadlines = driver.enforcesDeadlines === true;

  // Not `async`: a plain command is the driver's own promise, with no wrapper promise around it.
  const sendOnce = (command: RedisCommand, info: CommandInfo): Promise<RedisReply> => {
    const script = info.script;
    if (script === undefined) return driver.send(command, info);
    const startedAt = info.deadline?.timeoutMs !== undefined ? performance.now() : 0;
    return driver.send(command, info).catch((error: unknown) => {
      if (!RedisReplyError.isInstance(error) || error.prefix !== 'NOSCRIPT') throw error;
      // The node lost its script cache (SCRIPT FLUSH, restart, failover): EVAL loads it there again.
      const evalCommand: RedisCommand = {
        ...command,
        name: 'EVAL',
        args: [script.source, ...command.args.slice(1)],
      };
      const timeoutMs = info.deadline?.timeoutMs;
      if (!enforcesDeadlines || timeoutMs === undefined) return driver.send(evalCommand, info);
      // The driver enforces the deadline per send: the retry gets what is left of the caller's.
      const left = timeoutMs - (performance.now() - startedAt);
      if (left <= 0) throw timeoutError(timeoutMs);
      const retryInfo: CommandInfo = { ...info, deadline: { ...info.deadline, timeoutMs: left } };
      return driver.send(evalCommand, retryInfo).finally(() => {
        info.peer = retryInfo.peer;
      });
    });
  };
  // The base of the chain: the driver, under the caller's deadline (inside the hooks, so the telemetry
  // span ends with the timeout when the caller gives up).
  const base: HookChains = {
    process: (command, info) => {
      const deadline = info.deadline;
      if (deadline === undefined) return sendOnce(command, info);
      const invalid = invalidTimeout(deadline);
      if (invalid !== undefined) return Promise.reject(invalid);
      if (enforcesDeadlines && deadline.signal === undefined) return sendOnce(command, info);
      return withDeadline(sendOnce(command, info), deadline);
    },
    processBatch: (commands, info) => {
      const deadline = info.deadline;
      if (deadline === undefined) return driver.batch(commands, info);
      const invalid = invalidTimeout(deadline);
      if (invalid !== undefined) return Promise.reject(invalid);
      return withDeadline(driver.batch(commands, info), deadline);
    },
    dial: (_info: DialInfo) => Promise.resolve(),
  };
  let chains = composeHooks(hooks, base);

  driver.observeDials?.((info, connected) => {
    // Dials are rare: compose a chain whose base waits for the client's real connection.
    const dial = composeHooks(hooks, { ...base, dial: () => connected }).dial;
    dial(info).catch(() => {
      // A failed connection is reported by the client and by the commands that fail on it;
      // the dial chain only observes it.
    });
  });

  const requiresSameSlot = description.capabilities.requiresSameSlot;

  return {
    specificationVersion: 1,
    telemetry: telemetry.handle,
    describe: () => description,
    nodes: () => driver.nodes(),
    subscriber: () => driver.subscriber(),
    addHook(hook: RedisHook) {
      if (typeof hook !== 'object' || hook === null) {
        throw new TypeError(`addHook: hook must be an object, received ${describeValue(hook)}`);
      }
      hooks.push(hook);
      chains = composeHooks(hooks, base);
    },
    send(command: RedisCommand, sendOptions?: SendOptions): Promise<RedisReply> {
      const info: CommandInfo = deadlineOf(sendOptions)
        ? { operation: upperName(command.name), deadline: sendOptions }
        : { operation: upperName(command.name) };
      if (requiresSameSlot && command.keys !== undefined && command.keys.length > 1) {
        try {
          assertSameSlot([command], 'command');
        } catch (error) {
          // A rejected promise, like batch() and runScript(): callers await, they do not try/catch.
          return Promise.reject(error);
        }
      }
      return settle(chains.process, command, info);
    },
    batch(
      commands: readonly RedisCommand[],
      batchOptions?: BatchOptions & SendOptions,
    ): Promise<BatchResult[]> {
      if (requiresSameSlot) {
        try {
          assertSameSlot(commands);
        } catch (error) {
          return Promise.reject(error);
        }
      }
      const info: BatchInfo = {
        atomic: batchOptions?.atomic === true,
        operations: commands.map((c) => upperName(c.name)),
        ...(deadlineOf(batchOptions) ? { deadline: batchOptions } : {}),
      };
      return settle(chains.processBatch, commands, info);
    },
    runScript(
      script: RedisScript,
      keys: readonly RedisArgument[],
      args: readonly RedisArgument[],
      sendOptions?: SendOptions,
    ): Promise<RedisReply> {
      const command: RedisCommand = {
        name: 'EVALSHA',
        args: [script.sha1, keyCountText(keys.length), ...keys, ...args],
        keys: scriptKeyPositions(keys.length),
        readOnly: script.readOnly,
      };
      if (requiresSameSlot && keys.length > 1) {
        try {
          assertSameSlot([command], `script "${script.name}"`);
        } catch (error) {
          return Promise.reject(error);
        }
      }
      const info: CommandInfo = deadlineOf(sendOptions)
        ? { operation: 'EVALSHA', script, deadline: sendOptions }
        : { operation: 'EVALSHA', script };
      return settle(chains.process, command, info);
    },
  };
}

/**
 * Call a chain so that whatever goes wrong is a rejection, never a synchronous throw: a driver or a
 * hook that throws before returning its promise still gives the caller a rejected promise.
 */
function settle<A, I, R>(chain: (input: A, info: I) => Promise<R>, input: A, info: I): Promise<R> {
  try {
    return chain(input, info);
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Whether the caller gave a deadline or a signal. */
function deadlineOf(options: SendOptions | undefined): options is SendOptions {
  return options !== undefined && (options.timeoutMs !== undefined || options.signal !== undefined);
}

/** The `RangeError` for a `timeoutMs` that is not a positive number, else `undefined`. */
function invalidTimeout(options: SendOptions): RangeError | undefined {
  const timeoutMs = options.timeoutMs;
  if (timeoutMs === undefined || (Number.isFinite(timeoutMs) && timeoutMs > 0)) return undefined;
  return new RangeError(`timeoutMs must be a positive number, received ${describeValue(timeoutMs)}`);
}

/**
 * Race `promise` against the caller's deadline and signal (`timeoutMs` already validated). A deadline
 * alone is an entry on the shared timer lists, not a Node timer per call.
 */
function withDeadline<T>(promise: Promise<T>, options: SendOptions): Promise<T> {
  const { timeoutMs, signal } = options;
  if (signal === undefined) {
    if (timeoutMs === undefined) return promise;
    return new DeadlineRace<T>(timeoutMs).run(promise);
  }
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      cleanup();
      reject(signal.reason);
    };
    const cleanup = () => {
      if (timer) clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => {
        cleanup();
        reject(timeoutError(timeoutMs));
      }, timeoutMs);
    }
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        cleanup();
        resolve(value);
      },
      (error: unknown) => {
        cleanup();
        reject(error);
      },
    );
  });
}

/** One call raced against its deadline on the shared timer lists: settles once, whichever comes first. */
class DeadlineRace<T> extends TimerEntry {
  readonly #timeoutMs: number;
  #resolve: ((value: T) => void) | undefined;
  #reject: ((error: unknown) => void) | undefined;

  constructor(timeoutMs: number) {
    super(ignore, undefined);
    this.#timeoutMs = timeoutMs;
  }

  run(promise: Promise<T>): Promise<T> {
    const race = new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    const now = performance.now();
    this.schedule(now + this.#timeoutMs, now);
    promise.then(
      (value) => {
        this.cancel();
        this.#resolve!(value);
      },
      (error: unknown) => {
        this.cancel();
        this.#reject!(error);
      },
    );
    return race;
  }

  /** The deadline passed first (a later settlement of the call is ignored by the promise). */
  override fire(): void {
    this.#reject!(timeoutError(this.#timeoutMs));
  }
}

function ignore(): void {}
