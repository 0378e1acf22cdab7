import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { trackUnhandledRejections } from '../src/vitest.js';

describe('trackUnhandledRejections', () => {
  const tracked = trackUnhandledRejections();

  it('collects what rejects without a handler while the tests run', async () => {
    const error = new Error('nobody handles this');
    void Promise.reject(error);
    await tick();
    await tick();
    expect(tracked.reasons).toEqual([error]);
    tracked.reasons.length = 0; // handled here on purpose: the check after this test must pass
  });

  it('starts each test with nothing collected', () => {
    expect(tracked.reasons).toEqual([]);
  });
});
