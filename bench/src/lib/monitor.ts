// Counts the commands a Redis server executes, from MONITOR, for "commands per operation" figures.
// Commands run inside a script show as \`lua\` in MONITOR and are not counted (DESIGN §5).
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/** An operation to count commands for. */
export type CountedOperation = (i: number) => Promise<unknown>;

/** Counts the commands Redis executes, from MONITOR (script-internal `lua` commands excluded). */
export class CommandCounter {
  #socket: Socket | undefined;
  #buffer = '';
  #count = 0;
  readonly #waiters = new Map<string, () => void>();

  constructor(
    readonly host: string,
    readonly port: number,
  ) {}

  async start(): Promise<void> {
    const socket = connect({ host: this.host, port: this.port });
    this.#socket = socket;
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.#buffer += chunk;
      let newline = this.#buffer.indexOf('\r\n');
      while (newline !== -1) {
        this.#onLine(this.#buffer.slice(0, newline));
        this.#buffer = this.#buffer.slice(newline + 2);
        newline = this.#buffer.indexOf('\r\n');
      }
    });
    socket.write('MONITOR\r\n');
    await this.sync();
  }

  #onLine(line: string): void {
    const match = /^\+\d+\.\d+ \[\d+ ([^\]]+)\] (.*)$/.exec(line);
    if (!match) return;
    const marker = /^"ECHO" "(bench-marker-[0-9a-f]+)"$/.exec(match[2]!);
    if (marker) {
      this.#waiters.get(marker[1]!)?.();
      return;
    }
    if (match[1] !== 'lua') this.#count++;
  }

  /** Wait until MONITOR has shown everything sent before now; returns the count so far. */
  async sync(): Promise<number> {
    const marker = `bench-marker-${randomBytes(6).toString('hex')}`;
    const seen = new Promise<void>((resolve) => this.#waiters.set(marker, resolve));
    const socket = connect({ host: this.host, port: this.port });
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write(`ECHO ${marker}\r\n`);
    await seen;
    this.#waiters.delete(marker);
    socket.destroy();
    return this.#count;
  }

  /** Commands per call of `operation`, over `calls` sequential calls. */
  async perCall(operation: CountedOperation, calls = 500): Promise<number> {
    const before = await this.sync();
    for (let i = 0; i < calls; i++) await operation(i);
    return ((await this.sync()) - before) / calls;
  }

  stop(): void {
    this.#socket?.destroy();
  }
}
