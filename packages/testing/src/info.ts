import type { RespReply } from './resp.js';

/** Parse an `INFO` / `CLUSTER INFO` reply into `field → value`. @internal */
export function parseInfo(reply: RespReply): Record<string, string> {
  const fields: Record<string, string> = {};
  if (typeof reply !== 'string') return fields;
  for (const line of reply.split('\r\n')) {
    const index = line.indexOf(':');
    if (index <= 0 || line.startsWith('#')) continue;
    fields[line.slice(0, index)] = line.slice(index + 1);
  }
  return fields;
}

/** One line of `CLUSTER NODES`. @internal */
export interface ClusterNodeLine {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly flags: readonly string[];
  readonly masterId: string | undefined;
  readonly linkState: string;
  readonly slots: readonly string[];
}

/** Parse a `CLUSTER NODES` reply. @internal */
export function parseClusterNodes(reply: RespReply): ClusterNodeLine[] {
  if (typeof reply !== 'string') return [];
  const nodes: ClusterNodeLine[] = [];
  for (const line of reply.split('\n')) {
    const parts = line.trim().split(' ');
    if (parts.length < 8) continue;
    const [id, address, flags, master, , , , linkState, ...slots] = parts as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      ...string[],
    ];
    // address: host:port@cport[,hostname]
    const endpoint = address.split('@')[0] ?? '';
    const colon = endpoint.lastIndexOf(':');
    nodes.push({
      id,
      host: endpoint.slice(0, colon),
      port: Number(endpoint.slice(colon + 1)),
      flags: flags.split(','),
      masterId: master === '-' ? undefined : master,
      linkState,
      slots,
    });
  }
  return nodes;
}

/** A flat `[k, v, k, v]` reply (SENTINEL REPLICAS entries) as an object. @internal */
export function pairs(reply: RespReply): Record<string, string> {
  const result: Record<string, string> = {};
  if (!Array.isArray(reply)) return result;
  for (let index = 0; index + 1 < reply.length; index += 2) {
    result[String(reply[index])] = String(reply[index + 1]);
  }
  return result;
}
