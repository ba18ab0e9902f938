import { isIP } from 'node:net';
import { DiscoveryError } from './discovery-error.ts';

/**
 * Static seeds (`cluster.seeds`): addresses a node dials to find the cluster. Each is
 * `host:port`, with an IPv6 literal in brackets (`[fd7a::1]:7946`), as URLs write it. The whole
 * list is checked before anything is dialled, and each error names the entry (`cluster.seeds[2]`).
 */
export interface SeedAddress {
  readonly host: string;
  readonly port: number;
}

// RFC 1123 host names: labels of letters, digits and inner hyphens, at most 253 characters.
const HOSTNAME = /^(?=.{1,253}$)(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*\.?$/;

export function parseSeed(text: unknown, where = 'seed'): SeedAddress {
  if (typeof text !== 'string') throw new DiscoveryError('seed_malformed', `${where}: expected a "host:port" string, got ${text === null ? 'null' : typeof text}`);
  const value = text.trim();
  let host: string;
  let portText: string;
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    if (close < 0) throw new DiscoveryError('seed_malformed', `${where}: ${JSON.stringify(text)} opens '[' for an IPv6 address but never closes it`);
    host = value.slice(1, close);
    if (isIP(host) !== 6) throw new DiscoveryError('seed_malformed', `${where}: ${JSON.stringify(host)} in brackets is not an IPv6 address`);
    if (value[close + 1] !== ':') throw new DiscoveryError('seed_malformed', `${where}: ${JSON.stringify(text)} needs a port after the brackets, e.g. [${host}]:7946`);
    portText = value.slice(close + 2);
  } else {
    const colon = value.lastIndexOf(':');
    if (colon < 0) throw new DiscoveryError('seed_malformed', `${where}: ${JSON.stringify(text)} has no port; write host:port`);
    host = value.slice(0, colon);
    portText = value.slice(colon + 1);
    if (host.includes(':')) throw new DiscoveryError('seed_malformed', `${where}: ${JSON.stringify(text)} looks like an IPv6 address; put it in brackets, e.g. [${host}]:${portText}`);
    if (host === '') throw new DiscoveryError('seed_malformed', `${where}: ${JSON.stringify(text)} has no host before the port`);
    if (isIP(host) !== 4 && (!HOSTNAME.test(host) || /^[0-9.]+$/.test(host))) throw new DiscoveryError('seed_malformed', `${where}: ${JSON.stringify(host)} is neither an IPv4 address nor a host name`);
  }
  if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    throw new DiscoveryError('seed_malformed', `${where}: port ${JSON.stringify(portText)} must be a number from 1 to 65535`);
  }
  return { host, port: Number(portText) };
}

/** Parses the whole list; refuses duplicates (usually a copy-paste where another host was meant). */
export function parseSeeds(list: unknown, where = 'cluster.seeds'): SeedAddress[] {
  if (!Array.isArray(list)) throw new DiscoveryError('seed_malformed', `${where}: expected a list of "host:port" strings`);
  const seen = new Map<string, number>();
  return list.map((entry, index) => {
    const seed = parseSeed(entry, `${where}[${index}]`);
    const key = formatAddress(seed).toLowerCase();
    const first = seen.get(key);
    if (first !== undefined) throw new DiscoveryError('seed_duplicate', `${where}[${index}]: ${key} is already ${where}[${first}]`);
    seen.set(key, index);
    return seed;
  });
}

/** host:port with IPv6 in brackets: what a dialer (or a URL) takes. */
export function formatAddress(address: SeedAddress): string {
  return isIP(address.host) === 6 ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
