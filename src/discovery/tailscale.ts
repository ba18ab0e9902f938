import { request } from 'node:http';
import { isIP } from 'node:net';
import { DiscoveryError } from './discovery-error.ts';

/**
 * Tailscale discovery: asks the local tailscaled which tailnet peers carry our tag.
 * `GET /localapi/v0/status` over tailscaled's Unix socket. The LocalAPI refuses every Host header
 * but `local-tailscaled.sock` (Node's default, `localhost`, gets 403), so it is set explicitly.
 *
 * The answer is another program's JSON: every field we use is checked and a wrong one is
 * `discovery_malformed` naming it (e.g. `Peer["nodekey:…"].TailscaleIPs[1]`); fields we do not use
 * are ignored. `Online` is control-plane presence only — it decides whom we dial, never whether a
 * node is alive (that is our own heartbeats' job).
 */
export const DEFAULT_TAILSCALE_SOCKET = '/var/run/tailscale/tailscaled.sock';
export const TAILSCALE_LOCALAPI_HOST = 'local-tailscaled.sock';
export const TAILSCALE_STATUS_PATH = '/localapi/v0/status';
const DEFAULT_TIMEOUT_MS = 5000;
/** A status of a few thousand peers is a few MiB; anything far beyond is not tailscaled. */
const MAX_BODY_BYTES = 16 * 2 ** 20;

export interface TailscaleDiscoveryOptions {
  /** `cluster.discovery.tailscale.socket` */
  readonly socketPath?: string;
  /** `cluster.discovery.tailscale.tag`, e.g. `tag:constellation` */
  readonly tag: string;
  readonly timeoutMs?: number;
}

export interface TailscalePeer {
  /** Tailscale's stable node id (`ID`). */
  readonly id: string;
  readonly hostName: string;
  /** MagicDNS name without the trailing dot; empty when MagicDNS gives none. */
  readonly dnsName: string;
  /** The address to dial: its first IPv4 Tailscale IP, else its first IPv6 one. */
  readonly address: string;
  readonly tailscaleIps: readonly string[];
}

export interface TailscaleDiscovery {
  readonly self: { readonly hostName: string; readonly dnsName: string; readonly tailscaleIps: readonly string[] } | undefined;
  /** Online peers with the tag, sorted by DNS name (then id) so repeated polls compare equal. */
  readonly peers: readonly TailscalePeer[];
}

export async function discoverTailscalePeers(options: TailscaleDiscoveryOptions): Promise<TailscaleDiscovery> {
  const body = await fetchStatus(options.socketPath ?? DEFAULT_TAILSCALE_SOCKET, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    throw new DiscoveryError('discovery_malformed', `tailscale status: the body is not JSON (${(error as Error).message})`);
  }
  return parseTailscaleStatus(json, options.tag);
}

/** The pure half: schema-check a status document and pick the peers to dial. */
export function parseTailscaleStatus(status: unknown, tag: string): TailscaleDiscovery {
  const top = object(status, 'the status');
  const backendState = top.BackendState;
  if (typeof backendState !== 'string') throw malformed('BackendState must be a string');
  if (backendState !== 'Running') {
    throw new DiscoveryError('discovery_not_running', `tailscale status: BackendState is ${JSON.stringify(backendState)}, not "Running"; log in with \`tailscale up\``);
  }
  const self = top.Self === undefined || top.Self === null ? undefined : peerStatus(top.Self, 'Self');
  const peerMap = top.Peer;
  const peers: TailscalePeer[] = [];
  // Tailscale encodes an empty peer map as null.
  if (peerMap !== undefined && peerMap !== null) {
    for (const [key, value] of Object.entries(object(peerMap, 'Peer'))) {
      const where = `Peer[${JSON.stringify(key)}]`;
      const peer = peerStatus(value, where);
      if (!peer.online || !peer.tags.includes(tag)) continue;
      const address = peer.tailscaleIps.find((ip) => isIP(ip) === 4) ?? peer.tailscaleIps.find((ip) => isIP(ip) === 6);
      if (address === undefined) continue; // tagged and online, but no address to dial yet
      peers.push({ id: peer.id, hostName: peer.hostName, dnsName: peer.dnsName, address, tailscaleIps: peer.tailscaleIps });
    }
  }
  peers.sort((a, b) => (a.dnsName < b.dnsName ? -1 : a.dnsName > b.dnsName ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { self: self && { hostName: self.hostName, dnsName: self.dnsName, tailscaleIps: self.tailscaleIps }, peers };
}

interface CheckedPeer {
  readonly id: string;
  readonly hostName: string;
  readonly dnsName: string;
  readonly tailscaleIps: string[];
  readonly online: boolean;
  readonly tags: string[];
}

function peerStatus(value: unknown, where: string): CheckedPeer {
  const peer = object(value, where);
  const id = peer.ID;
  if (typeof id !== 'string' || id === '') throw malformed(`${where}.ID must be a non-empty string`);
  const hostName = peer.HostName;
  if (typeof hostName !== 'string') throw malformed(`${where}.HostName must be a string`);
  const dnsName = peer.DNSName ?? '';
  if (typeof dnsName !== 'string') throw malformed(`${where}.DNSName must be a string`);
  const online = peer.Online ?? false;
  if (typeof online !== 'boolean') throw malformed(`${where}.Online must be true or false`);
  const tailscaleIps = strings(peer.TailscaleIPs ?? [], `${where}.TailscaleIPs`);
  tailscaleIps.forEach((ip, i) => {
    if (isIP(ip) === 0) throw malformed(`${where}.TailscaleIPs[${i}] ${JSON.stringify(ip)} is not an IP address`);
  });
  // Tags is absent when a node has none.
  const tags = strings(peer.Tags ?? [], `${where}.Tags`);
  return { id, hostName, dnsName: dnsName.endsWith('.') ? dnsName.slice(0, -1) : dnsName, tailscaleIps, online, tags };
}

function object(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed(`${where} must be a JSON object`);
  return value as Record<string, unknown>;
}

function strings(value: unknown, where: string): string[] {
  if (!Array.isArray(value)) throw malformed(`${where} must be a list of strings`);
  value.forEach((item, i) => {
    if (typeof item !== 'string') throw malformed(`${where}[${i}] must be a string`);
  });
  return value as string[];
}

const malformed = (what: string) => new DiscoveryError('discovery_malformed', `tailscale status: ${what}`);

function fetchStatus(socketPath: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: TAILSCALE_STATUS_PATH, method: 'GET', headers: { Host: TAILSCALE_LOCALAPI_HOST, Accept: 'application/json' }, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          req.destroy(new DiscoveryError('discovery_too_large', `tailscale status: the answer on ${socketPath} exceeds ${MAX_BODY_BYTES} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', (error) => reject(wrap(error, socketPath)));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) {
          reject(new DiscoveryError('discovery_http_status', `tailscale status: ${socketPath} answered HTTP ${res.statusCode}: ${body.trim().slice(0, 200)}`));
          return;
        }
        resolve(body);
      });
    });
    req.on('timeout', () => req.destroy(new DiscoveryError('discovery_timeout', `tailscale status: no answer on ${socketPath} within ${timeoutMs} ms`)));
    req.on('error', (error) => reject(wrap(error, socketPath)));
    req.end();
  });
}

function wrap(error: Error, socketPath: string): DiscoveryError {
  if (error instanceof DiscoveryError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  const hint = code === 'ENOENT' ? 'no socket there: is tailscaled running, and is cluster.discovery.tailscale.socket right?' : code === 'EACCES' ? 'permission denied: the daemon needs access to the tailscaled socket' : error.message;
  return new DiscoveryError('discovery_unavailable', `tailscale status: cannot reach ${socketPath} (${code ?? 'error'}): ${hint}`, { cause: error });
}
