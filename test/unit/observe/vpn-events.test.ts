import { describe, expect, it } from 'vitest';
import { diffClusterViews, emptyClusterView, type ClusterViewSnapshot, type VpnLinkLook } from '../../../src/observe/cluster-view-diff.ts';
import { clusterEventTypes } from '../../../src/observe/cluster-event-types.ts';

const link = (state: VpnLinkLook['state'], detail: string, recoveries = 0, lastRecoverySeconds?: number): VpnLinkLook => ({
  stack: 'vpn', vpn: 'gw', slot: 1, node: 'n1', link: 'vpn_gw_1', state, detail, recoveries, ...(lastRecoverySeconds !== undefined ? { lastRecoverySeconds } : {}),
});
const look = (l: VpnLinkLook): ClusterViewSnapshot => ({ ...emptyClusterView, vpnLinks: { 'n1/vpn_gw_1': l } });

describe('vpn.* cluster events', () => {
  it('a link entering each state, and each recovery it finished, with how long it took', () => {
    const fields = { stack: 'vpn', service: 'gw', slot: 1, node: 'n1', link: 'vpn_gw_1' };
    expect(diffClusterViews(emptyClusterView, look(link('up', 'up')))).toEqual([{ type: 'vpn.up', ...fields, detail: 'up' }]);
    expect(diffClusterViews(look(link('up', 'up')), look(link('down', 'down (gw unhealthy; kill switch stop: 3 dependents stopped)'))))
      .toEqual([{ type: 'vpn.down', ...fields, from: 'up', detail: 'down (gw unhealthy; kill switch stop: 3 dependents stopped)' }]);
    expect(diffClusterViews(look(link('recovering', 'recovering (restarting 3 dependents)')), look(link('up', 'up', 1, 2.5))))
      .toEqual([{ type: 'vpn.up', ...fields, from: 'recovering', detail: 'up' }, { type: 'vpn.recovered', ...fields, seconds: 2.5, recoveries: 1 }]);
    // The same look twice says nothing.
    expect(diffClusterViews(look(link('up', 'up', 1, 2.5)), look(link('up', 'up', 1, 2.5)))).toEqual([]);
  });

  it('every vpn.* type is listed', () => {
    expect(clusterEventTypes).toEqual(expect.arrayContaining(['vpn.starting', 'vpn.up', 'vpn.down', 'vpn.recovering', 'vpn.recovered']));
  });
});
