/**
 * VPN groups of a normalized stack. A service with `network_mode: service:X` is a dependent of
 * X's group: it lives in X's network namespace, so it is placed, started, recovered and moved
 * with X as one unit. The loader (check-vpn-groups.ts) guarantees the shape this module relies
 * on: X exists, X is not itself a dependent (no chains or cycles), and every dependent runs as
 * many replicas as X in the same mode (dependent slot i joins X's slot i). Pure.
 */
import type { ServiceSpec, StackSpec } from './types.ts';

export interface VpnGroup {
  /** The service that owns the network namespace (typically a VPN client). */
  readonly vpn: string;
  /** Services in its namespace, in the stack's depends_on order (the order they start in). */
  readonly dependents: readonly string[];
}

const servicePrefix = 'service:';

/** The VPN service a dependent joins, or undefined for a service with a network of its own. */
export function vpnOf(service: Pick<ServiceSpec, 'networkMode'>): string | undefined {
  const mode = service.networkMode;
  return mode !== undefined && mode.startsWith(servicePrefix) ? mode.slice(servicePrefix.length) : undefined;
}

/** Every group of the stack, in the order their VPN services come in the stack. */
export function vpnGroupsOf(stack: Pick<StackSpec, 'services'>): VpnGroup[] {
  const dependents = new Map<string, string[]>();
  for (const service of stack.services) {
    const vpn = vpnOf(service);
    if (vpn === undefined) continue;
    const list = dependents.get(vpn);
    if (list === undefined) dependents.set(vpn, [service.name]);
    else list.push(service.name);
  }
  return stack.services.flatMap((service) => {
    const members = dependents.get(service.name);
    return members === undefined ? [] : [{ vpn: service.name, dependents: members }];
  });
}

/** The group a service belongs to, as the VPN or as a dependent. */
export function vpnGroupOfService(stack: Pick<StackSpec, 'services'>, service: string): VpnGroup | undefined {
  return vpnGroupsOf(stack).find((group) => group.vpn === service || group.dependents.includes(service));
}
