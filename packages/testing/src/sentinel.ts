import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RedisBinaries } from './binaries.js';
import { RedisDeploymentError } from './errors.js';
import { pairs, parseInfo } from './info.js';
import { RespReplyError, respCommand } from './resp.js';
import { dataServerArgs, logPath, ManagedServer } from './server.js';
import { createDeploymentDirectory, SpawnedDeployment, timeoutOf } from './spawned-deployment.js';
import type { RedisServerNode, SentinelDeployment, SentinelHandle, WaitHealthyOptions } from './types.js';
import { waitUntil } from './wait.js';

const HOST = '127.0.0.1';
const SENTINELS = 3;

/** Settings of a sentinel group. @internal */
export interface SentinelSettings {
  readonly masterName: string;
  readonly downAfterMs: number;
  readonly failoverTimeoutMs: number;
}

function command(server: { host: string; port: number }, args: (string | number)[], timeoutMs = 5000) {
  return respCommand(server.host, server.port, args, timeoutMs);
}

class SpawnedSentinel extends SpawnedDeployment implements SentinelHandle {
  readonly topology = 'sentinel' as const;
  readonly masterName: string;
  private readonly data: ManagedServer[] = [];
  private readonly sentinelServers: ManagedServer[] = [];
  /** The data node the sentinels last named as master. */
  private current: ManagedServer;

  constructor(
    binaries: RedisBinaries,
    directory: string,
    serverArgs: readonly string[],
    settings: SentinelSettings,
  ) {
    super(binaries, directory);
    this.masterName = settings.masterName;
    for (let index = 0; index < 2; index += 1) {
      const nodeDirectory = join(directory, `node-${index}`);
      const server: ManagedServer = new ManagedServer({
        name: index === 0 ? 'sentinel-group master' : 'sentinel-group replica',
        host: HOST,
        directory: nodeDirectory,
        file: binaries.server,
        role: index === 0 ? 'master' : 'replica',
        // A node that is not the current master starts as its replica (also on restart after a failover).
        args: (port) => [
          ...dataServerArgs(port, HOST, nodeDirectory, binaries.major, serverArgs),
          ...(server === this.current ? [] : ['--replicaof', this.current.host, String(this.current.port)]),
        ],
      });
      this.data.push(server);
    }
    this.current = this.data[0] as ManagedServer;
    for (let index = 0; index < SENTINELS; index += 1) {
      const nodeDirectory = join(directory, `sentinel-${index}`);
      const configFile = join(nodeDirectory, 'sentinel.conf');
      let writtenForPort: number | undefined;
      this.sentinelServers.push(
        new ManagedServer({
          name: `sentinel ${index}`,
          host: HOST,
          directory: nodeDirectory,
          file: binaries.sentinel.file,
          role: 'sentinel',
          args: (port) => {
            // Written once per port: on restart the sentinel keeps the state it rewrote into it.
            if (writtenForPort !== port || !existsSync(configFile)) {
              const master = this.current;
              writeFileSync(
                configFile,
                [
                  `port ${port}`,
                  `bind ${HOST}`,
                  'daemonize no',
                  `dir "${nodeDirectory}"`,
                  `logfile "${logPath(nodeDirectory)}"`,
                  `sentinel monitor ${this.masterName} ${master.host} ${master.port} 2`,
                  `sentinel down-after-milliseconds ${this.masterName} ${settings.downAfterMs}`,
                  `sentinel failover-timeout ${this.masterName} ${settings.failoverTimeoutMs}`,
                  `sentinel parallel-syncs ${this.masterName} 1`,
                  '',
                ].join('\n'),
              );
              writtenForPort = port;
            }
            return binaries.sentinel.sentinelFlag ? [configFile, '--sentinel'] : [configFile];
          },
        }),
      );
    }
    this.managed.push(...this.data, ...this.sentinelServers);
  }

  get nodes(): readonly RedisServerNode[] {
    return this.data;
  }

  get sentinels(): readonly RedisServerNode[] {
    return this.sentinelServers;
  }

  get master(): RedisServerNode {
    return this.current;
  }

  get deployment(): SentinelDeployment {
    return {
      topology: 'sentinel',
      source: this.source,
      redisVersion: this.redisVersion,
      masterName: this.masterName,
      master: { host: this.current.host, port: this.current.port },
      sentinels: this.sentinelServers.map((server) => ({ host: server.host, port: server.port })),
      nodes: this.data.map((server) => server.toJSON()),
    };
  }

  async create(deadline: number): Promise<void> {
    const [master, ...replicas] = this.data as [ManagedServer, ...ManagedServer[]];
    await master.start(deadline);
    await Promise.all(replicas.map((replica) => replica.start(deadline)));
    await Promise.all(this.sentinelServers.map((sentinel) => sentinel.start(deadline)));
    await waitUntil('sentinel group healthy after creation', deadline, () => this.problem(true), 100);
  }

  /** The master the running sentinels agree on, or the reason there is none. */
  private async agreedMaster(): Promise<ManagedServer | string> {
    const running = this.sentinelServers.filter((sentinel) => sentinel.running);
    if (running.length === 0) return 'no sentinel runs';
    let agreed: number | undefined;
    for (const sentinel of running) {
      const reply = await command(sentinel, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.masterName]);
      if (!Array.isArray(reply) || reply.length !== 2) return `sentinel ${sentinel.port} knows no master`;
      const port = Number(reply[1]);
      if (agreed !== undefined && agreed !== port) return `sentinels disagree: ${agreed} vs ${port}`;
      agreed = port;
    }
    const master = this.data.find((server) => server.port === agreed);
    return master ?? `the sentinels name ${agreed}, which is not part of this group`;
  }

  /**
   * Why the group is not healthy yet, or `undefined`: the running sentinels agree on a master that runs and
   * answers as master, every other running data node replicates from it with its link up, and each
   * sentinel sees those replicas and the other running sentinels (`initial`: all of them).
   */
  private async problem(initial: boolean): Promise<string | undefined> {
    const master = await this.agreedMaster();
    if (typeof master === 'string') return master;
    if (!master.running) return `the sentinels name ${master.port}, which is not running`;
    const masterInfo = parseInfo(await command(master, ['INFO', 'replication']));
    if (masterInfo.role !== 'master') return `${master.port} answers as ${masterInfo.role}`;
    const replicas = this.data.filter((server) => server !== master && server.running);
    for (const replica of replicas) {
      const info = parseInfo(await command(replica, ['INFO', 'replication']));
      if (
        info.role !== 'slave' ||
        Number(info.master_port) !== master.port ||
        info.master_link_status !== 'up'
      ) {
        return `${replica.port} is ${info.role} of ${info.master_port} (link ${info.master_link_status})`;
      }
    }
    const runningSentinels = this.sentinelServers.filter((sentinel) => sentinel.running);
    for (const sentinel of runningSentinels) {
      const seen = await command(sentinel, ['SENTINEL', 'REPLICAS', this.masterName]);
      const entries = Array.isArray(seen) ? seen.map(pairs) : [];
      for (const replica of replicas) {
        const entry = entries.find((candidate) => Number(candidate.port) === replica.port);
        if (!entry) return `sentinel ${sentinel.port} does not list replica ${replica.port} yet`;
        if (/s_down|o_down|disconnected/.test(entry.flags ?? '')) {
          return `sentinel ${sentinel.port} flags replica ${replica.port} ${entry.flags}`;
        }
        // Sentinels refresh a replica's INFO every 10 s: after a failover their view of the link lags the
        // replica's own (checked above), so only the first start waits for it.
        if (initial && entry['master-link-status'] !== 'ok') {
          return `sentinel ${sentinel.port} sees ${replica.port}'s link down`;
        }
      }
      const others = await command(sentinel, ['SENTINEL', 'SENTINELS', this.masterName]);
      const known = Array.isArray(others) ? others.map(pairs) : [];
      const needed = (initial ? SENTINELS : runningSentinels.length) - 1;
      const healthy = known.filter((other) => !/s_down|disconnected/.test(other.flags ?? ''));
      if (healthy.length < needed) return `sentinel ${sentinel.port} knows ${healthy.length} other sentinels`;
    }
    this.current = master;
    for (const server of this.data) server.role = server === master ? 'master' : 'replica';
    return undefined;
  }

  protected override async beforeRestart(server: ManagedServer): Promise<void> {
    if (server.spec.role === 'sentinel') return;
    const master = await this.agreedMaster().catch(() => undefined);
    if (master && typeof master !== 'string') this.current = master;
    server.role = server === this.current ? 'master' : 'replica';
  }

  async waitHealthy(options?: WaitHealthyOptions): Promise<void> {
    const deadline = Date.now() + timeoutOf(options);
    await waitUntil('sentinel group healthy', deadline, () => this.problem(false), 100);
  }

  async failover(): Promise<RedisServerNode> {
    this.assertActive();
    const deadline = Date.now() + 90_000;
    const before = await this.agreedMaster();
    if (typeof before === 'string') throw new RedisDeploymentError(`cannot fail over: ${before}`);
    for (;;) {
      const sentinel = this.sentinelServers.find((candidate) => candidate.running);
      if (!sentinel) throw new RedisDeploymentError('cannot fail over: no sentinel runs');
      try {
        await command(sentinel, ['SENTINEL', 'FAILOVER', this.masterName]);
        break;
      } catch (error) {
        // NOGOODSLAVE: no replica qualifies yet; INPROG: one is running. Both pass with time.
        const retry = error instanceof RespReplyError && /NOGOODSLAVE|INPROG/.test(error.message);
        if (!retry || Date.now() > deadline) {
          throw new RedisDeploymentError(`SENTINEL FAILOVER failed: ${(error as Error).message}`, {
            cause: error,
          });
        }
        await sleep(250);
      }
    }
    let promoted: ManagedServer | undefined;
    await waitUntil('sentinels naming a new master', deadline, async () => {
      const now = await this.agreedMaster();
      if (typeof now === 'string') return now;
      if (now === before) return `still ${before.port}`;
      promoted = now;
      return undefined;
    });
    // Sentinel turns the old master into a replica only ~10 s after the switch (it first waits to hear it
    // announce itself); do what it will do at once, so the group is whole without that wait.
    if (promoted && before.running) {
      await command(before, ['REPLICAOF', promoted.host, promoted.port]).catch(() => {});
    }
    await this.waitHealthy({ timeoutMs: Math.max(1000, deadline - Date.now()) });
    return this.current;
  }
}

/** Start a master, a replica and 3 sentinels monitoring them. @internal */
export async function startSentinel(
  binaries: RedisBinaries,
  serverArgs: readonly string[],
  settings: SentinelSettings,
  deadline: number,
): Promise<SentinelHandle> {
  const deployment = new SpawnedSentinel(
    binaries,
    createDeploymentDirectory('sentinel'),
    serverArgs,
    settings,
  );
  try {
    await deployment.create(deadline);
    return deployment;
  } catch (error) {
    await deployment.stop();
    throw error;
  }
}
