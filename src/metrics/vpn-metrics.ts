import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { LinkState, LinkView } from '../machines/vpn-link-types.ts';

export const vpnLinkStates: readonly LinkState[] = ['starting', 'up', 'down', 'recovering'];

export interface VpnMetrics {
  /** A link's latest report; `recoveredSeconds` once, when a recovery ended. */
  link(view: LinkView, recoveredSeconds?: number): void;
  /** A link that no longer exists on this node (its group removed or moved). */
  removed(link: string): void;
}

/**
 * Issue 9's metrics, counted by the node that runs the group. `group` is `<stack>/<vpn service>`;
 * the state gauge counts the group's replica slots on this node in each state (one per slot).
 */
export function registerVpnMetrics(registry: Registry): VpnMetrics {
  const state = new Gauge({
    name: 'constellation_vpn_link_state',
    help: 'VPN group slots on this node by link state (starting, up, down, recovering).',
    labelNames: ['group', 'state'] as const,
    registers: [registry],
  });
  const recoveries = new Counter({
    name: 'constellation_vpn_recoveries_total',
    help: 'Recoveries of VPN group links: every dependent back in the VPN container\'s current namespace after it restarted, was recreated or was unhealthy.',
    labelNames: ['group'] as const,
    registers: [registry],
  });
  const seconds = new Histogram({
    name: 'constellation_vpn_recovery_seconds',
    help: 'From a VPN container seen down or changed to every dependent running in its current namespace again.',
    buckets: [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300],
    registers: [registry],
  });
  const links = new Map<string, { group: string; state: LinkState }>();
  const publish = (group: string) => {
    for (const candidate of vpnLinkStates) {
      let count = 0;
      for (const link of links.values()) if (link.group === group && link.state === candidate) count += 1;
      state.set({ group, state: candidate }, count);
    }
  };
  return {
    link: (view, recoveredSeconds) => {
      const group = `${view.stack}/${view.vpn}`;
      links.set(view.link, { group, state: view.state });
      publish(group);
      if (recoveredSeconds !== undefined) {
        recoveries.inc({ group });
        seconds.observe(recoveredSeconds);
      }
    },
    removed: (link) => {
      const known = links.get(link);
      if (!known) return;
      links.delete(link);
      publish(known.group);
    },
  };
}
