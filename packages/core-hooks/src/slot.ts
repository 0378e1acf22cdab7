import { CrossSlotError } from './errors.js';
import type { RedisArgument, RedisCommand } from './types.js';

// CRC16-CCITT (XMODEM), the function Redis Cluster uses for key slots.
const TABLE = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let crc = i << 8;
  for (let j = 0; j < 8; j++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  TABLE[i] = crc;
}

function crc16(bytes: Uint8Array, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ bytes[i]!) & 0xff]!;
  return crc;
}

/** The number of hash slots in a Redis Cluster. */
export const CLUSTER_SLOTS = 16384;

/**
 * The cluster hash slot of a key, honouring hash tags: only the part between the first `{` and the
 * next `}` is hashed when it is not empty, so `{user:1}:a` and `{user:1}:b` share a slot.
 */
export function keySlot(key: RedisArgument): number {
  const bytes =
    typeof key === 'string' ? Buffer.from(key) : typeof key === 'number' ? Buffer.from(String(key)) : key;
  let start = 0;
  let end = bytes.length;
  const open = bytes.indexOf(0x7b); // {
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1); // }
    if (close > open + 1) {
      start = open + 1;
      end = close;
    }
  }
  return crc16(bytes, start, end) % CLUSTER_SLOTS;
}

/** The key arguments of a command, from its `keys` positions. */
export function commandKeys(command: RedisCommand): RedisArgument[] {
  const out: RedisArgument[] = [];
  for (const i of command.keys ?? []) {
    const key = command.args[i];
    if (key !== undefined) out.push(key);
  }
  return out;
}

/**
 * The one slot all keys of these commands hash to, `undefined` when they name no key.
 * @throws {CrossSlotError} when the keys fall in more than one slot
 */
export function assertSameSlot(commands: readonly RedisCommand[], what = 'batch'): number | undefined {
  let slot: number | undefined;
  let slots: Set<number> | undefined;
  for (const command of commands) {
    for (const key of commandKeys(command)) {
      const s = keySlot(key);
      if (slot === undefined) slot = s;
      else if (s !== slot) {
        slots ??= new Set([slot]);
        slots.add(s);
      }
    }
  }
  if (slots) {
    const list = [...slots].sort((a, b) => a - b);
    throw new CrossSlotError(
      `The keys of this ${what} hash to ${list.length} cluster slots (${list.slice(0, 5).join(', ')}${list.length > 5 ? ', …' : ''}); ` +
        'on a cluster they must share one slot: give them a common hash tag such as "{user:1}:…"',
      list,
    );
  }
  return slot;
}

/** Wrap `tag` as a hash tag prefix: `hashTag('user:1')` → `{user:1}`. Braces inside are not allowed. */
export function hashTag(tag: string): string {
  if (tag.includes('{') || tag.includes('}'))
    throw new RangeError(`hashTag: tag must not contain braces, received ${JSON.stringify(tag)}`);
  return `{${tag}}`;
}
