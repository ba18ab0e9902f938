/**
 * A VPN group in the whole-cluster simulation (issue 9 item 4): the real daemon composition of 3
 * managers + 2 workers on the simulator's seams runs a stack loaded by the real compose loader;
 * the group lands on one node with its VPN started first, and when that node drains the group
 * moves whole to one other node: there the VPN starts before its dependents, and the drained
 * node stops the dependents before the VPN.
 */
import { describe, expect, it } from 'vitest';
import { LABEL_SERVICE } from '../../src/agent/labels.ts';
import { loadCompose, formatDiagnostic } from '../../src/compose/load-compose.ts';
import type { RuntimeEvent } from '../../src/seams/container-runtime.ts';
import { convergenceProblems } from '../../src/sim/whole-cluster-checks.ts';
import { WholeClusterSim } from '../../src/sim/whole-cluster-sim.ts';

const composeFile = `
services:
  vpn:
    image: busybox:1
    ports: ["80"]        # an ephemeral host port: the test is about order, not about a fixed port
  web:
    image: busybox:1
    network_mode: "service:vpn"
  db:
    image: busybox:1
    network_mode: "service:vpn"
    depends_on: [web]
  other:
    image: busybox:1
    deploy: { replicas: 5 }
`;

interface Seen { readonly node: string; readonly action: RuntimeEvent['action']; readonly service: string; readonly timeMs: number }

/** The services in the order of their first `action` on `node` from index `from` on. */
function order(events: readonly Seen[], node: string, action: RuntimeEvent['action'], from = 0): string[] {
  return [...new Set(events.slice(from).filter((e) => e.node === node && e.action === action && e.service !== 'other').map((e) => e.service))];
}

describe('VPN group in the whole-cluster simulation', () => {
  it('places the group on one node, VPN first, and a drain moves it whole: dependents stop before the VPN, the VPN starts first on the new node', async () => {
    const loaded = loadCompose({ content: composeFile, stackName: 'media', env: {} });
    if (!loaded.ok) expect.fail(loaded.errors.map(formatDiagnostic).join('\n'));
    const events: Seen[] = [];
    // Every committed state on the way: a dependent off its VPN's node is allowed only ahead of
    // the VPN's own move (placed on the new node while the VPN is still home), never behind it.
    let home: string | undefined;
    const splits: string[] = [];
    const sim: WholeClusterSim = new WholeClusterSim({
      seed: 9, managers: 3, workers: 2,
      onStep: () => {
        const placed = sim.leader()?.cluster.store.current().placements.media;
        const vpnNode = placed?.vpn?.slots['1'];
        if (home === undefined || vpnNode === undefined) return;
        for (const dependent of ['web', 'db']) {
          const at = placed?.[dependent]?.slots['1'];
          if (at !== vpnNode && vpnNode !== home) splits.push(`${dependent} on ${at} behind the VPN on ${vpnNode}`);
        }
      },
    });
    try {
      await sim.start();
      for (const node of sim.nodeIds) {
        sim.engine(node).events((event) => events.push({ node, action: event.action, service: event.labels[LABEL_SERVICE] ?? '', timeMs: event.timeMs }), () => undefined);
      }
      expect(await sim.clock.runUntil(() => sim.allReady(), 10_000), 'every node heard by the leader').toBe(true);
      expect((await sim.deploy('media', [...loaded.stack.services])).result.ok).toBe(true);
      expect(await sim.clock.runUntil(() => convergenceProblems(sim).length === 0, 30_000), convergenceProblems(sim).join('\n')).toBe(true);

      const placements = () => sim.leader()!.cluster.store.current().placements.media!;
      home = placements().vpn!.slots['1']!;
      expect(placements().web!.slots).toEqual({ 1: home });
      expect(placements().db!.slots).toEqual({ 1: home });
      expect(order(events, home, 'start')).toEqual(['vpn', 'web', 'db']);

      const drainedAt = events.length;
      expect((await sim.submit({ type: 'update-node', nodeId: home, availability: 'drain' })).result.ok).toBe(true);
      expect(await sim.clock.runUntil(() => convergenceProblems(sim).length === 0 && placements().vpn!.slots['1'] !== home, 30_000), convergenceProblems(sim).join('\n')).toBe(true);
      const next = placements().vpn!.slots['1']!;
      expect(placements().web!.slots).toEqual({ 1: next });
      expect(placements().db!.slots).toEqual({ 1: next });
      expect(order(events, next, 'start', drainedAt)).toEqual(['vpn', 'web', 'db']);
      // The drained node: each dependent died before the VPN did.
      const died = events.slice(drainedAt).filter((e) => e.node === home && e.action === 'die');
      const vpnDied = died.findIndex((e) => e.service === 'vpn');
      expect(vpnDied, JSON.stringify(died)).toBeGreaterThanOrEqual(0);
      for (const dependent of ['web', 'db']) {
        const at = died.findIndex((e) => e.service === dependent);
        expect(at, `${dependent} stopped on ${home}`).toBeGreaterThanOrEqual(0);
        expect(at, `${dependent} stopped before the VPN`).toBeLessThan(vpnDied);
      }
      expect(splits).toEqual([]);
    } finally {
      await sim.shutdown();
    }
  });
});
