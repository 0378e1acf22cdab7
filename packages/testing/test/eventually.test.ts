import { describe, expect, it } from 'vitest';
import { eventually } from '../src/index.js';

describe('eventually', () => {
  it('resolves once the check returns true, counting a throw as not yet', async () => {
    let calls = 0;
    await eventually(
      () => {
        calls++;
        if (calls === 1) throw new Error('not ready');
        return calls === 3;
      },
      { intervalMs: 1 },
    );
    expect(calls).toBe(3);
  });

  it('accepts an async check', async () => {
    let ready = false;
    setTimeout(() => {
      ready = true;
    }, 20);
    await eventually(async () => ready, { intervalMs: 5 });
    expect(ready).toBe(true);
  });

  it('rejects after the timeout', async () => {
    await expect(eventually(() => false, { timeoutMs: 30, intervalMs: 5 })).rejects.toThrow(
      'condition not met in time',
    );
  });
});
