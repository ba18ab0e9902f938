/**
 * Which published host ports collide on one node, shared by the loader (within a stack) and the
 * deploy route (against other stacks). Two bindings collide when they use the same protocol and
 * port and their host addresses overlap: an unset host IP (Docker binds every address, IPv4 and
 * IPv6) overlaps any; `0.0.0.0` overlaps every IPv4 address and `::` every IPv6 address (Docker
 * binds them as separate v4/v6 sockets, so `0.0.0.0:80` and `[::1]:80` coexist); otherwise only
 * the same address does. Lookups are constant time per port, so a file with many addresses on
 * one port cannot make the check quadratic.
 */
import { isIngressPort } from '../ingress/ingress-ports.ts';
import type { PortSpec } from './types.ts';

export interface HostBinding {
  readonly port: number;
  readonly protocol: PortSpec['protocol'];
  readonly hostIp?: string;
}

type Family = 4 | 6;

interface Slot<Owner> {
  any?: Owner;
  unset?: Owner;
  anyOfFamily: Partial<Record<Family, Owner>>;
  wildcardOfFamily: Partial<Record<Family, Owner>>;
  exact: Map<string, Owner>;
}

/** The host bindings of a normalized port list: only ports with a published host port bind one. */
export function hostBindings(ports: readonly PortSpec[]): HostBinding[] {
  return ports.flatMap((p) => (p.published === undefined ? [] : [{
    port: p.published, protocol: p.protocol, ...(p.hostIp === undefined ? {} : { hostIp: p.hostIp }),
  }]));
}

/**
 * The bindings a replica makes on the node that runs it: host-mode (and SCTP) ports. An ingress
 * port is served by every node's forwarder instead, so it reserves its port cluster-wide (the
 * overlap checks use `hostBindings`) but never stops two replicas from sharing a node.
 */
export function nodeBindings(ports: readonly PortSpec[]): HostBinding[] {
  return hostBindings(ports.filter((p) => !isIngressPort(p)));
}

/** "8080/tcp", "127.0.0.1:8080-8082/tcp", "[::1]:53/udp" — for messages. */
export function describeBindings(bindings: readonly HostBinding[]): string {
  const first = bindings[0];
  if (first === undefined) return '';
  const ports = [...new Set(bindings.map((b) => b.port))].sort((a, b) => a - b);
  const ranges: string[] = [];
  let start = ports[0]!;
  for (let i = 1; i <= ports.length; i++) {
    if (ports[i] === ports[i - 1]! + 1) continue;
    ranges.push(start === ports[i - 1] ? String(start) : `${start}-${ports[i - 1]!}`);
    start = ports[i]!;
  }
  const ip = first.hostIp === undefined ? '' : first.hostIp.includes(':') ? `[${first.hostIp}]:` : `${first.hostIp}:`;
  return `${ip}${ranges.join(',')}/${first.protocol}`;
}

export class HostPortTable<Owner> {
  private readonly slots = new Map<string, Slot<Owner>>();

  /** The first owner whose binding overlaps this one, if any. */
  find(binding: HostBinding): Owner | undefined {
    const slot = this.slots.get(slotKey(binding));
    if (slot === undefined) return undefined;
    const ip = normalizeIp(binding.hostIp);
    if (ip === undefined) return slot.any;
    const family = familyOf(ip);
    if (isWildcard(ip)) return slot.unset ?? slot.anyOfFamily[family];
    return slot.unset ?? slot.wildcardOfFamily[family] ?? slot.exact.get(ip);
  }

  /**
   * The owners `bindings` overlap, each with the bindings that overlap it (in order), one entry
   * per owner as `keyOf` tells owners apart: what a message about the clash names.
   */
  clashes(bindings: readonly HostBinding[], keyOf: (owner: Owner) => string): { owner: Owner; bindings: HostBinding[] }[] {
    const byOwner = new Map<string, { owner: Owner; bindings: HostBinding[] }>();
    for (const binding of bindings) {
      const owner = this.find(binding);
      if (owner === undefined) continue;
      const key = keyOf(owner);
      const clash = byOwner.get(key) ?? { owner, bindings: [] };
      clash.bindings.push(binding);
      byOwner.set(key, clash);
    }
    return [...byOwner.values()];
  }

  add(binding: HostBinding, owner: Owner): void {
    const key = slotKey(binding);
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = { anyOfFamily: {}, wildcardOfFamily: {}, exact: new Map() };
      this.slots.set(key, slot);
    }
    slot.any ??= owner;
    const ip = normalizeIp(binding.hostIp);
    if (ip === undefined) {
      slot.unset ??= owner;
      return;
    }
    const family = familyOf(ip);
    slot.anyOfFamily[family] ??= owner;
    if (isWildcard(ip)) slot.wildcardOfFamily[family] ??= owner;
    if (!slot.exact.has(ip)) slot.exact.set(ip, owner);
  }
}

function slotKey(binding: HostBinding): string {
  return `${binding.protocol}/${binding.port}`;
}

function normalizeIp(ip: string | undefined): string | undefined {
  // IPv6 addresses are case-insensitive ("::FFFF" = "::ffff").
  return ip === undefined || ip === '' ? undefined : ip.toLowerCase();
}

function familyOf(ip: string): Family {
  return ip.includes(':') ? 6 : 4;
}

function isWildcard(ip: string): boolean {
  return ip === '0.0.0.0' || ip === '::';
}
