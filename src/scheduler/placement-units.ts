/**
 * What the scheduler places as one unit: a service on its own, or a VPN group — the VPN service
 * with the dependents that live in its network namespace (src/compose/vpn-groups.ts). The VPN
 * leads: its slots are decided with the group's needs (service-needs.ts `groupNeeds`), and each
 * dependent's slot i then goes wherever the VPN's slot i went (followLead), so the plan can never
 * split a group — also when the records it starts from were split, or a rebalance moves the VPN.
 *
 * The loader refuses what would not pair (chains, different modes, unequal replicas). A stored
 * spec that bypassed it is still planned safely: a dependent whose VPN is itself a dependent, or
 * runs in another mode, is placed on its own (and the engine refuses to run it anywhere but beside
 * its VPN, so nothing runs outside the tunnel).
 */
import type { ServiceSpec, StackSpec } from '../compose/types.ts';
import { vpnOf } from '../compose/vpn-groups.ts';
import type { ServiceWork } from './plan-context.ts';

export interface PlacementUnit {
  readonly lead: ServiceSpec;
  /** In the stack's order (depends_on order: the order they start in). */
  readonly dependents: readonly ServiceSpec[];
}

export function placementUnits(stack: Pick<StackSpec, 'services'>): PlacementUnit[] {
  const byName = new Map(stack.services.map((s) => [s.name, s]));
  const leadOf = (service: ServiceSpec): ServiceSpec | undefined => {
    const vpnName = vpnOf(service);
    const vpn = vpnName === undefined ? undefined : byName.get(vpnName);
    if (vpn === undefined || vpn === service || vpnOf(vpn) !== undefined || vpn.deploy.mode !== service.deploy.mode) return undefined;
    return vpn;
  };
  const dependents = new Map<string, ServiceSpec[]>();
  for (const service of stack.services) {
    const lead = leadOf(service);
    if (lead !== undefined) dependents.set(lead.name, [...dependents.get(lead.name) ?? [], service]);
  }
  return stack.services.filter((s) => leadOf(s) === undefined).map((lead) => ({ lead, dependents: dependents.get(lead.name) ?? [] }));
}

/**
 * A dependent's replicas go where its VPN's replicas of the same slot went. The VPN's needs hold
 * the dependents' reservations and ports, so nothing more is booked in the ledger.
 */
export function followLead(lead: ServiceWork, follower: ServiceWork): void {
  const deploy = follower.needs.spec.deploy;
  for (const [slot, node] of lead.slots) {
    if (deploy.mode === 'replicated' && slot > deploy.replicas) continue;
    follower.slots.set(slot, node);
    follower.countOnNode.set(node, (follower.countOnNode.get(node) ?? 0) + 1);
  }
}
