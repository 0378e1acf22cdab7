/** One value held by the in-process tier. */
export interface L1Entry {
  readonly value: unknown;
  /** `performance.now()` after which the entry is no longer served. */
  readonly expiresAt: number;
  readonly tags: readonly string[];
  /** Serialized size, for telemetry. */
  readonly size: number;
}

/**
 * A bounded LRU on a `Map` (insertion order = recency order). Expiry uses the local monotonic clock
 * only to bound how long a copy of a Redis entry is kept; every decision about the Redis entry itself
 * is made by Redis' clock.
 */
export class L1Store {
  readonly #entries = new Map<string, L1Entry>();
  readonly #maxEntries: number;

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The live entry of `key`, refreshed as most recently used; expired entries are dropped. */
  get(key: string, now: number): L1Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry;
  }

  set(key: string, entry: L1Entry): void {
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  /** Drop every entry carrying one of `tags`. */
  deleteTagged(tags: readonly string[]): void {
    if (tags.length === 0) return;
    const wanted = new Set(tags);
    for (const [key, entry] of this.#entries) {
      if (entry.tags.some((tag) => wanted.has(tag))) this.#entries.delete(key);
    }
  }

  clear(): void {
    this.#entries.clear();
  }
}
