import { describe, expect, it } from 'vitest';
import { type ConformanceClient, describeRedisLikeConformanceOnOwnDeployments } from '../src/index.js';

/** A test API that records what is declared (group names, hook timeouts) and runs nothing. */
function recordingApi() {
  const groups: string[] = [];
  const restartGroups: string[] = [];
  const hooks: { kind: string; timeoutMs: number | undefined; depth: number }[] = [];
  let depth = 0;
  const api = {
    describe(name: string, body: () => void) {
      if (depth === 0) groups.push(name);
      if (name === 'server restart') restartGroups.push(groups.at(-1)!);
      depth++;
      body();
      depth--;
    },
    it() {},
    beforeAll(_body: () => Promise<void>, timeoutMs?: number) {
      hooks.push({ kind: 'beforeAll', timeoutMs, depth });
    },
    afterAll(_body: () => Promise<void>, timeoutMs?: number) {
      hooks.push({ kind: 'afterAll', timeoutMs, depth });
    },
  };
  return { api, groups, restartGroups, hooks };
}

const unused = () => Promise.reject(new Error('not connected in this test'));
const client = (name: string): ConformanceClient => ({
  name,
  standalone: unused,
  cluster: unused,
  sentinel: unused,
});

describe('describeRedisLikeConformanceOnOwnDeployments', () => {
  it('declares standalone, cluster and sentinel groups client by client, with one start and stop for all', () => {
    const { api, groups, restartGroups, hooks } = recordingApi();
    describeRedisLikeConformanceOnOwnDeployments([client('lib 6'), client('lib 5')], { test: api });
    expect(groups).toEqual([
      'RedisLike conformance: lib 6 × standalone',
      'RedisLike conformance: lib 6 × cluster',
      'RedisLike conformance: lib 6 × sentinel',
      'RedisLike conformance: lib 5 × standalone',
      'RedisLike conformance: lib 5 × cluster',
      'RedisLike conformance: lib 5 × sentinel',
    ]);
    // its own standalone server can be killed and restarted
    expect(restartGroups).toEqual([
      'RedisLike conformance: lib 6 × standalone',
      'RedisLike conformance: lib 5 × standalone',
    ]);
    const topLevel = hooks.filter((hook) => hook.depth === 0);
    expect(topLevel).toEqual([
      { kind: 'beforeAll', timeoutMs: 180_000, depth: 0 },
      { kind: 'afterAll', timeoutMs: undefined, depth: 0 },
    ]);
  });

  it('takes the start timeout from its options', () => {
    const { api, hooks } = recordingApi();
    describeRedisLikeConformanceOnOwnDeployments([], { test: api, startTimeoutMs: 5_000 });
    expect(hooks[0]).toEqual({ kind: 'beforeAll', timeoutMs: 5_000, depth: 0 });
  });
});
