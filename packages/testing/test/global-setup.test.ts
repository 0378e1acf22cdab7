import { describe, expect, it } from 'vitest';
import {
  createGlobalSetup,
  isCi,
  type ProvidedRedisDeployments,
  setup,
  teardown,
} from '../src/global-setup.js';
import { respCommand } from '../src/resp.js';
import { hasRedisDeployment, uniqueKeyPrefix, useRedisDeployment } from '../src/vitest.js';
import { alive, expectCleanedUp, noRedisEnv } from './helpers.js';

/** A stand-in for vitest's TestProject: records what the setup provides. */
function fakeProject() {
  const provided = new Map<string, unknown>();
  return {
    project: { provide: (key: string, value: unknown) => provided.set(key, value) } as never,
    deployments: () => provided.get('redisotelDeployments') as ProvidedRedisDeployments | undefined,
  };
}

describe('the project global setup (this package runs it for standalone)', () => {
  it('provides the standalone deployment and a per-call key prefix', async () => {
    expect(hasRedisDeployment('standalone')).toBe(true);
    expect(hasRedisDeployment('cluster')).toBe(false);
    const first = useRedisDeployment('standalone');
    const second = useRedisDeployment('standalone');
    expect(first.deployment.topology).toBe('standalone');
    expect(first.deployment.source).toBe('binary');
    expect(first.keyPrefix).toMatch(/^t[0-9a-f]{8}:$/);
    expect(second.keyPrefix).not.toBe(first.keyPrefix);
    expect(first.key('counter')).toBe(`${first.keyPrefix}counter`);
    expect(await respCommand(first.deployment.host, first.deployment.port, ['PING'])).toBe('PONG');
  });

  it('explains a topology the setup did not start', () => {
    expect(() => useRedisDeployment('cluster')).toThrow(
      /no cluster deployment: the global setup was not asked for it \(it started: standalone\)/,
    );
    expect(() => useRedisDeployment('mesh' as never)).toThrow(RangeError);
  });

  it('hash-tags key prefixes on a cluster only', () => {
    expect(uniqueKeyPrefix('cluster')).toMatch(/^\{t[0-9a-f]{8}\}:$/);
    expect(uniqueKeyPrefix('sentinel')).toMatch(/^t[0-9a-f]{8}:$/);
  });
});

describe('createGlobalSetup', () => {
  it('starts the requested topologies once, provides plain data, and tears them down', async () => {
    const { project, deployments } = fakeProject();
    const teardown = await createGlobalSetup({ topologies: ['standalone'], env: { PATH: process.env.PATH } })(
      project,
    );
    const provided = deployments();
    expect(provided?.requested).toEqual(['standalone']);
    expect(provided?.missing).toEqual({});
    const standalone = provided?.standalone;
    expect(standalone?.topology).toBe('standalone');
    // what vitest hands to workers must survive serialisation
    expect(JSON.parse(JSON.stringify(provided))).toEqual(provided);
    expect(await respCommand('127.0.0.1', standalone?.port as number, ['PING'])).toBe('PONG');
    const info = String(await respCommand('127.0.0.1', standalone?.port as number, ['INFO', 'server']));
    const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
    expect(alive(pid)).toBe(true);
    await teardown();
    await expectCleanedUp([pid], []);
  });

  it('REDISOTEL_TEST_TOPOLOGIES narrows what is started and says why the rest is missing', async () => {
    const { project, deployments } = fakeProject();
    const teardown = await createGlobalSetup({
      topologies: ['standalone', 'cluster'],
      env: { PATH: process.env.PATH, REDISOTEL_TEST_TOPOLOGIES: 'standalone, sentinel' },
    })(project);
    try {
      expect(deployments()?.requested).toEqual(['standalone']);
      expect(deployments()?.cluster).toBeUndefined();
      expect(deployments()?.missing).toEqual({
        cluster: 'REDISOTEL_TEST_TOPOLOGIES=standalone, sentinel excludes cluster',
      });
    } finally {
      await teardown();
    }
  });

  it('fails the run under CI when no Redis can be had (never a skip)', async () => {
    const { project, deployments } = fakeProject();
    const setup = createGlobalSetup({ topologies: ['standalone'], env: { ...noRedisEnv(), CI: 'true' } });
    await expect(setup(project)).rejects.toThrow(
      /global setup failed \(CI\):\nstandalone: @redisotel\/testing could not get a Redis standalone deployment/,
    );
    expect(deployments()).toBeUndefined();
  });

  it('outside CI provides the reason, so tests that need the deployment fail with it', async () => {
    const { project, deployments } = fakeProject();
    const warn = console.warn;
    const warnings: unknown[] = [];
    console.warn = (...args: unknown[]) => warnings.push(args.join(' '));
    try {
      const teardown = await createGlobalSetup({ topologies: ['standalone'], env: noRedisEnv() })(project);
      await teardown();
    } finally {
      console.warn = warn;
    }
    expect(deployments()?.standalone).toBeUndefined();
    expect(deployments()?.missing.standalone).toMatch(/Fix it one of three ways/);
    expect(String(warnings[0])).toMatch(/started without one topology/);
  });

  it('validates its options and the env variable', async () => {
    expect(() => createGlobalSetup({ topologies: ['cloud' as never] })).toThrow(
      /options\.topologies entries must be standalone, cluster, sentinel, received "cloud"/,
    );
    expect(() => createGlobalSetup({ topologies: 'standalone' as never })).toThrow(TypeError);
    const { project } = fakeProject();
    await expect(
      createGlobalSetup({ env: { REDISOTEL_TEST_TOPOLOGIES: 'standalone,cloud' } })(project),
    ).rejects.toThrow(/REDISOTEL_TEST_TOPOLOGIES entries must be/);
  });

  it('the named setup/teardown exports start what test.provide.redisotelTopologies asks for', async () => {
    const provided = new Map<string, unknown>();
    const project = {
      provide: (key: string, value: unknown) => provided.set(key, value),
      getProvidedContext: () => ({ redisotelTopologies: ['standalone'] }),
    };
    await setup(project as never);
    const deployments = provided.get('redisotelDeployments') as ProvidedRedisDeployments;
    expect(deployments.requested).toEqual(['standalone']);
    const port = deployments.standalone?.port as number;
    expect(await respCommand('127.0.0.1', port, ['PING'])).toBe('PONG');
    await teardown();
    await expect(respCommand('127.0.0.1', port, ['PING'], 500)).rejects.toThrow();
  });

  it('reads CI the way CI providers set it', () => {
    expect(isCi({ CI: 'true' })).toBe(true);
    expect(isCi({ CI: '1' })).toBe(true);
    expect(isCi({ CI: 'false' })).toBe(false);
    expect(isCi({ CI: '' })).toBe(false);
    expect(isCi({})).toBe(false);
  });
});
