import { describe, expect, it } from 'vitest';
import { recordPeers } from '../src/index.js';

interface Info {
  readonly name: string;
  readonly peer?: { readonly address: string; readonly port?: number };
}
type Send = (command: string, info: Info) => Promise<string>;

describe('recordPeers', () => {
  it('records the peer of each command after it completed or failed, hooking commands only by default', async () => {
    const { peers, hook } = recordPeers();
    expect(hook.processBatch).toBeUndefined();
    const send = hook.process!<Send>(async (command, info) => {
      if (command === 'FAIL') throw new Error('failed');
      return `${command}@${info.peer?.port}`;
    });
    expect(await send('PING', { name: 'PING', peer: { address: '127.0.0.1', port: 1 } })).toBe('PING@1');
    await expect(send('FAIL', { name: 'FAIL', peer: { address: '127.0.0.1', port: 2 } })).rejects.toThrow(
      'failed',
    );
    await send('GET', { name: 'GET' });
    expect(peers).toEqual([{ address: '127.0.0.1', port: 1 }, { address: '127.0.0.1', port: 2 }, undefined]);
  });

  it('hooks batches when asked, and commands only if asked too', async () => {
    const batchesOnly = recordPeers({ commands: false, batches: true });
    expect(batchesOnly.hook.process).toBeUndefined();
    const both = recordPeers({ batches: true });
    const run = both.hook.processBatch!<Send>(async () => 'ok');
    await run('MULTI', { name: 'MULTI', peer: { address: 'h', port: 3 } });
    expect(both.peers).toEqual([{ address: 'h', port: 3 }]);
    expect(both.hook.process).toBeTypeOf('function');
  });
});
