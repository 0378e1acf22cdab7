import { describe, expect, it } from 'vitest';
import { scheduledTimerCount, TimerEntry } from '../src/timers.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('shared timer lists', () => {
  it('fire each entry once, in due order, not before it is due', async () => {
    const fired: [string, number][] = [];
    const start = performance.now();
    const entries = (['c', 'a', 'b'] as const).map(
      (name) => new TimerEntry((n: string) => fired.push([n, performance.now()]), name),
    );
    const dues = { a: start + 20, b: start + 40, c: start + 60 };
    entries[0]!.schedule(dues.c);
    entries[1]!.schedule(dues.a);
    entries[2]!.schedule(dues.b);
    expect(entries.every((e) => e.scheduled)).toBe(true);
    await sleep(400);
    expect(fired.map(([name]) => name)).toEqual(['a', 'b', 'c']);
    for (const [name, at] of fired) expect(at).toBeGreaterThanOrEqual(dues[name as keyof typeof dues]);
    expect(entries.some((e) => e.scheduled)).toBe(false);
    expect(scheduledTimerCount()).toBe(0);
  });

  it('a cancelled entry never fires and leaves its list at once', async () => {
    let fired = 0;
    const entry = new TimerEntry(() => fired++, undefined);
    entry.schedule(performance.now() + 20);
    expect(scheduledTimerCount()).toBe(1);
    entry.cancel();
    expect(entry.scheduled).toBe(false);
    expect(scheduledTimerCount()).toBe(0);
    entry.cancel(); // idempotent
    await sleep(60);
    expect(fired).toBe(0);
  });

  it('rescheduling moves the entry: earlier fires earlier, later waits', async () => {
    const fired: string[] = [];
    const early = new TimerEntry(() => fired.push('early'), undefined);
    const late = new TimerEntry(() => fired.push('late'), undefined);
    const now = performance.now();
    early.schedule(now + 5_000);
    late.schedule(now + 10);
    early.schedule(now + 20); // earlier than its first due: the shared timer re-arms
    late.schedule(now + 5_000); // later: must not fire at its first due
    await sleep(80);
    expect(fired).toEqual(['early']);
    expect(late.scheduled).toBe(true);
    late.cancel();
    expect(scheduledTimerCount()).toBe(0);
  });

  it('an entry that reschedules itself from its callback fires again later', async () => {
    let count = 0;
    const entry: TimerEntry = new TimerEntry(() => {
      count++;
      if (count < 3) entry.schedule(performance.now() + 5);
    }, undefined);
    entry.schedule(performance.now() + 5);
    await sleep(100);
    expect(count).toBe(3);
    expect(entry.scheduled).toBe(false);
  });

  it('keeps thousands of leases with mixed delays in order', async () => {
    const fired: number[] = [];
    const now = performance.now();
    const dues = Array.from({ length: 2_000 }, (_, i) => now + 10 + ((i * 7919) % 60));
    const entries = dues.map((due, i) => {
      const entry = new TimerEntry((index: number) => fired.push(index), i);
      entry.schedule(due, now);
      return entry;
    });
    for (let i = 0; i < entries.length; i += 2) entries[i]!.cancel();
    await sleep(400);
    expect(fired).toHaveLength(1_000);
    expect(fired.every((i) => i % 2 === 1)).toBe(true);
    const firedDues = fired.map((i) => dues[i]!);
    expect(new Set(fired).size).toBe(1_000);
    expect(Math.max(...firedDues)).toBeLessThan(now + 70);
    expect(scheduledTimerCount()).toBe(0);
  });
});
