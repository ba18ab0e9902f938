/**
 * `ports:` in all its forms → PortSpec[] (one entry per container port; ranges are expanded).
 * Short form: [HOST_IP:][HOST_PORT[-END]:]CONTAINER_PORT[-END][/PROTOCOL], e.g. "8080:80",
 * "127.0.0.1:8080:80/udp", "[::1]:8080:80", "8000-8001:80-81", "127.0.0.1::80", or a number.
 * Long form: { target, published, host_ip, protocol, mode }.
 */
import { composeCodes } from './compose-codes.ts';
import type { NormalizeContext } from './normalize-context.ts';
import type { PortSpec } from './types.ts';

type Protocol = PortSpec['protocol'];
const protocols: readonly Protocol[] = ['tcp', 'udp', 'sctp'];

export function normalizePorts(raw: unknown, ctx: NormalizeContext): PortSpec[] {
  if (!Array.isArray(raw)) return [];
  const ports: PortSpec[] = [];
  raw.forEach((item, index) => {
    const path = [...ctx.servicePath, 'ports', index];
    const parsed = parsePortEntry(item);
    if (typeof parsed === 'string') return ctx.sink.error(path, composeCodes.invalidPort, parsed);
    ports.push(...parsed);
    if (item !== null && typeof item === 'object' && ('name' in item || 'app_protocol' in item)) {
      ctx.sink.warning(path, composeCodes.ignoredKey, 'port "name" and "app_protocol" are informational and not used by Constellation');
    }
  });
  return ports;
}

/**
 * One entry of `ports:` → its ports (several for a range), or why it is invalid. Exported so
 * checks that must name the entry (e.g. host-port conflicts) can map ports back to their index.
 */
export function parsePortEntry(item: unknown): PortSpec[] | string {
  if (typeof item === 'number') {
    if (!isPort(item)) return `port ${item} is out of range 1-65535`;
    return [{ target: item, protocol: 'tcp', mode: 'ingress' }];
  }
  if (typeof item === 'string') {
    const parsed = parseShortPort(item);
    return typeof parsed === 'string' ? `invalid port ${JSON.stringify(item)}: ${parsed}` : parsed;
  }
  if (item !== null && typeof item === 'object') return parseLongPort(item as Record<string, unknown>);
  // Other types are reported by the schema.
  return [];
}

function parseShortPort(text: string): PortSpec[] | string {
  let rest = text.trim();
  let protocol: Protocol = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash !== -1) {
    const proto = rest.slice(slash + 1).toLowerCase();
    if (!protocols.includes(proto as Protocol)) return `unknown protocol "${proto}" (use tcp, udp or sctp)`;
    protocol = proto as Protocol;
    rest = rest.slice(0, slash);
  }
  let hostIp: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close === -1 || rest[close + 1] !== ':') return 'an IPv6 host address must be written as [ADDRESS]:HOST_PORT:CONTAINER_PORT';
    hostIp = rest.slice(1, close);
    rest = rest.slice(close + 2);
  }
  const parts = rest.split(':');
  let hostPart: string | undefined;
  let containerPart: string;
  if (hostIp !== undefined) {
    if (parts.length !== 2) return 'expected [ADDRESS]:HOST_PORT:CONTAINER_PORT';
    [hostPart, containerPart] = parts as [string, string];
  } else if (parts.length === 1) {
    containerPart = parts[0]!;
  } else if (parts.length === 2) {
    [hostPart, containerPart] = parts as [string, string];
  } else if (parts.length === 3) {
    [hostIp, hostPart, containerPart] = parts as [string, string, string];
  } else {
    return 'expected [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]';
  }
  const targets = parseRange(containerPart);
  if (typeof targets === 'string') return `container port ${targets}`;
  let published: number[] | undefined;
  if (hostPart !== undefined && hostPart !== '') {
    const range = parseRange(hostPart);
    if (typeof range === 'string') return `host port ${range}`;
    if (range.length !== targets.length) {
      return `the host range has ${range.length} port(s) but the container range has ${targets.length}; they must be the same size`;
    }
    published = range;
  }
  return targets.map((target, i) => ({
    target,
    ...(published === undefined ? {} : { published: published[i]! }),
    protocol,
    ...(hostIp === undefined || hostIp === '' ? {} : { hostIp }),
    mode: 'ingress' as const,
  }));
}

function parseRange(text: string): number[] | string {
  const match = /^(\d+)(?:-(\d+))?$/.exec(text.trim());
  if (!match) return `${JSON.stringify(text)} is not a number or range`;
  const start = Number(match[1]);
  const end = match[2] === undefined ? start : Number(match[2]);
  if (!isPort(start) || !isPort(end)) return `${text} is out of range 1-65535`;
  if (end < start) return `range ${text} ends before it starts`;
  return Array.from({ length: end - start + 1 }, (_, i) => start + i);
}

function parseLongPort(item: Record<string, unknown>): PortSpec[] | string {
  const target = toPortNumber(item.target);
  if (target === undefined) return `"target" must be a port number 1-65535, got ${JSON.stringify(item.target)}`;
  const protocol = String(item.protocol ?? 'tcp').toLowerCase();
  if (!protocols.includes(protocol as Protocol)) return `unknown protocol "${protocol}" (use tcp, udp or sctp)`;
  const mode = String(item.mode ?? 'ingress');
  if (mode !== 'ingress' && mode !== 'host') return `unknown port mode "${mode}" (use ingress or host)`;
  let published: number | undefined;
  if (item.published !== undefined && item.published !== null && item.published !== '') {
    published = toPortNumber(item.published);
    if (published === undefined) return `"published" must be a single port number 1-65535, got ${JSON.stringify(item.published)}`;
  }
  const hostIp = typeof item.host_ip === 'string' && item.host_ip !== '' ? item.host_ip : undefined;
  return [{
    target,
    ...(published === undefined ? {} : { published }),
    protocol: protocol as Protocol,
    ...(hostIp === undefined ? {} : { hostIp }),
    mode,
  }];
}

function toPortNumber(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  return isPort(n) ? n : undefined;
}

function isPort(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}
