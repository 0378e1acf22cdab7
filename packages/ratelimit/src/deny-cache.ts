/** A denied key remembered until it may be admitted again, on this process's monotonic clock. */
interface DenyEntry {
  /** When the denied cost may be admitted (performance.now() milliseconds). */
  readonly until: number;
  /** When the binding limit is full again. */
  readonly resetAt: number;
  /** The smallest cost known to be denied; smaller costs still go to Redis. */
  readonly cost: number;
  /** The denial is a block: every cost is denied. */
  readonly blocked: boolean;
}

/** @internal The local deny cache: bounded, oldest evicted first. */
export class DenyCache {
  private readonly entries = new Map<string, DenyEntry>();
  constructor(
    private readonly maxKeys: number,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** Remember a denial answered by Redis. */
  remember(key: string, retryAfterMs: number, resetAfterMs: number, cost: number, blocked: boolean): void {
    if (!Number.isFinite(retryAfterMs) || retryAfterMs <= 0) return;
    const now = this.clock();
    this.entries.delete(key);
    this.entries.set(key, {
      until: now + retryAfterMs,
      resetAt: now + Math.max(resetAfterMs, retryAfterMs),
      cost: blocked ? 0 : cost,
      blocked,
    });
    if (this.entries.size > this.maxKeys) this.entries.delete(this.entries.keys().next().value as string);
  }

  /** The remaining wait for `key` at `cost`, or undefined when Redis must be asked. */
  lookup(
    key: string,
    cost: number,
  ): { retryAfterMs: number; resetAfterMs: number; blocked: boolean } | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    const now = this.clock();
    if (entry.until <= now) {
      this.entries.delete(key);
      return undefined;
    }
    if (cost < entry.cost) return undefined;
    return {
      retryAfterMs: Math.max(1, Math.ceil(entry.until - now)),
      resetAfterMs: Math.max(1, Math.ceil(entry.resetAt - now)),
      blocked: entry.blocked,
    };
  }

  forget(key: string): void {
    this.entries.delete(key);
  }
}
