import { createHash } from 'node:crypto';
import type { RedisScript } from './types.js';

/** Options of {@link defineScript}. */
export interface DefineScriptOptions {
  /** A short, stable name; it becomes `db.stored_procedure.name` on spans. Never derived from input. */
  readonly name: string;
  /** The Lua source. Every key it touches must come in through `KEYS`. */
  readonly source: string;
  /** The script never writes. @default false */
  readonly readOnly?: boolean;
}

/**
 * Define a Lua script once: its SHA1 is computed here, not on every call. Run it with
 * {@link RedisLike.runScript}, which uses `EVALSHA` and falls back to `EVAL` on `NOSCRIPT`.
 * @example
 * ```ts
 * const incrMax = defineScript({ name: 'incr_max', source: "..." });
 * await redis.runScript(incrMax, ['{counter}:a'], [10]);
 * ```
 * @throws {TypeError} when `name` or `source` is not a non-empty string
 */
export function defineScript(options: DefineScriptOptions): RedisScript {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`defineScript: options must be an object, received ${describeValue(options)}`);
  }
  const { name, source, readOnly = false } = options;
  if (typeof name !== 'string' || name.length === 0) {
    throw new TypeError(`defineScript: "name" must be a non-empty string, received ${describeValue(name)}`);
  }
  if (typeof source !== 'string' || source.length === 0) {
    throw new TypeError(
      `defineScript: "source" must be a non-empty string, received ${describeValue(source)}`,
    );
  }
  if (typeof readOnly !== 'boolean') {
    throw new TypeError(`defineScript: "readOnly" must be a boolean, received ${describeValue(readOnly)}`);
  }
  const sha1 = createHash('sha1').update(source).digest('hex');
  return Object.freeze({ name, source, sha1, readOnly });
}

/** A short, safe description of a value for error messages (never the whole of a long string). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  return `an object (${Object.prototype.toString.call(value).slice(8, -1)})`;
}
