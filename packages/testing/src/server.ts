import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { registerPid, releasePid } from './cleanup.js';
import { RedisDeploymentError } from './errors.js';
import { parseInfo } from './info.js';
import { freePort } from './ports.js';
import { respCommand } from './resp.js';
import type { RedisNodeRole, RedisServerNode } from './types.js';

/** How to run one server process. */
export interface ServerSpec {
  readonly name: string;
  readonly host: string;
  /** The node's own directory (created here), the process's working directory. */
  readonly directory: string;
  readonly file: string;
  /** The argv for `port`; may write a config file into `directory` first. */
  readonly args: (port: number) => string[];
  readonly role: RedisNodeRole;
  /** The cluster bus lives at port + 10000: it must be free too. */
  readonly clusterBus?: boolean;
}

const LOG_FILE = 'redis.log';

/** The argv of a data node: no persistence, loopback only, log in its directory. @internal */
export function dataServerArgs(
  port: number,
  host: string,
  directory: string,
  major: number,
  extra: readonly string[],
): string[] {
  return [
    '--port',
    String(port),
    '--bind',
    host,
    '--save',
    '',
    '--appendonly',
    'no',
    // replicas sync at once instead of waiting 5 s for more replicas to join the diskless transfer
    '--repl-diskless-sync-delay',
    '0',
    // a non-zero replication offset within a second: Redis 7 hides replicas at offset 0 from CLUSTER SLOTS
    '--repl-ping-replica-period',
    '1',
    '--daemonize',
    'no',
    '--dir',
    directory,
    '--logfile',
    join(directory, LOG_FILE),
    ...(major >= 7 ? ['--enable-debug-command', 'local'] : []),
    ...extra,
  ];
}

/** The path of a node's log file. @internal */
export function logPath(directory: string): string {
  return join(directory, LOG_FILE);
}

const OUTPUT_FILE = 'output.log';

function tail(file: string, lines = 15): string {
  if (!existsSync(file)) return '';
  try {
    const text = readFileSync(file, 'utf8').trimEnd().split('\n');
    return text.slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/**
 * One `redis-server` / sentinel process the harness owns. Implements the live {@link RedisServerNode}.
 * @internal
 */
export class ManagedServer implements RedisServerNode {
  readonly host: string;
  port = 0;
  role: RedisNodeRole;
  readonly directory: string;
  readonly spec: ServerSpec;
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;

  constructor(spec: ServerSpec) {
    this.spec = spec;
    this.host = spec.host;
    this.role = spec.role;
    this.directory = spec.directory;
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Pick a free port and start; retry with another port when it was taken meanwhile. */
  async start(deadline: number): Promise<void> {
    mkdirSync(this.directory, { recursive: true });
    let lastError: unknown;
    for (let attempt = 0; attempt < 6; attempt += 1) {
      this.port = await freePort(this.host, this.spec.clusterBus ? 10_000 : undefined);
      try {
        await this.launch(deadline);
        return;
      } catch (error) {
        lastError = error;
        if (!/address already in use|EADDRINUSE/i.test(String((error as Error).message))) throw error;
      }
    }
    throw lastError;
  }

  /** Start again on the same port with the same configuration. */
  async restart(deadline: number): Promise<void> {
    if (this.running) throw new RedisDeploymentError(`${this.describe()} is running: kill it first`);
    let lastError: unknown;
    for (let attempt = 0; attempt < 20; attempt += 1) {
      try {
        await this.launch(deadline);
        return;
      } catch (error) {
        lastError = error;
        if (!/address already in use|EADDRINUSE/i.test(String((error as Error).message))) throw error;
        await sleep(250);
      }
    }
    throw lastError;
  }

  private async launch(deadline: number): Promise<void> {
    const args = this.spec.args(this.port);
    // stdout/stderr go to a file: configuration errors are printed there before the log file opens.
    const output = openSync(join(this.directory, OUTPUT_FILE), 'a');
    let child: ChildProcess;
    try {
      child = spawn(this.spec.file, args, {
        cwd: this.directory,
        stdio: ['ignore', output, output],
        detached: false,
        windowsHide: true,
      });
    } finally {
      closeSync(output);
    }
    let spawnError: Error | undefined;
    child.on('error', (error) => {
      spawnError = error;
    });
    this.child = child;
    this.exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    if (child.pid !== undefined) registerPid(child.pid);
    // Servers must not keep the test process alive; the exit handlers and the reaper clean up.
    child.unref();
    this.exited.then(() => {
      if (child.pid !== undefined) releasePid(child.pid);
    });

    for (;;) {
      if (spawnError) {
        throw new RedisDeploymentError(
          `${this.describe()}: cannot run ${this.spec.file}: ${spawnError.message}`,
          {
            cause: spawnError,
          },
        );
      }
      if (child.exitCode !== null || child.signalCode !== null) {
        const logs = [logPath(this.directory), join(this.directory, OUTPUT_FILE)]
          .map((file) => [file, tail(file)])
          .filter(([, text]) => text !== '')
          .map(([file, text]) => `\n--- ${file} ---\n${text}`)
          .join('');
        throw new RedisDeploymentError(
          `${this.describe()} exited (${child.exitCode ?? child.signalCode}) while starting: ${this.spec.file} ${args.join(' ')}${logs}`,
        );
      }
      if (Date.now() > deadline) {
        await this.kill();
        throw new RedisDeploymentError(`${this.describe()} did not answer PING before the start timeout`);
      }
      try {
        // INFO rather than PING: it also proves the answer comes from our process, not from another
        // server that took the port meanwhile.
        const info = await respCommand(this.host, this.port, ['INFO', 'server'], 1000);
        if (parseInfo(info).process_id === String(child.pid)) return;
      } catch {
        // not listening yet, or LOADING
      }
      await sleep(25);
    }
  }

  /** SIGKILL and wait until it exited. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL', 10_000);
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 3000): Promise<void> {
    if (!this.running) return;
    try {
      await this.signal('SIGTERM', graceMs);
    } catch {
      await this.signal('SIGKILL', 10_000);
    }
  }

  private async signal(signal: NodeJS.Signals, waitMs: number): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    child.ref(); // keep the process alive until we saw it exit
    try {
      child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        this.exited?.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), waitMs);
        }),
      ]);
      clearTimeout(timer);
      if (timedOut)
        throw new RedisDeploymentError(`${this.describe()} did not exit ${waitMs}ms after ${signal}`);
    } finally {
      child.unref();
    }
  }

  describe(): string {
    return `${this.spec.name} ${this.host}:${this.port}${this.child?.pid ? ` (pid ${this.child.pid})` : ''}`;
  }

  toJSON(): { host: string; port: number; role: RedisNodeRole } {
    return { host: this.host, port: this.port, role: this.role };
  }
}
