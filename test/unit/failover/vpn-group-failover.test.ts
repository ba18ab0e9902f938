/**
 * Failover and drain move a VPN group whole (issue 9 item 4), through the leader's real
 * scheduling loop (liveness, failover policy, placement reconciler) on the virtual clock over the
 * replicated state machine: every member lands on one new node, the dependents' placements are
 * committed before the VPN's (the old node loses its dependents while its VPN still runs), and
 * one at-most-once member holds the whole group until its node's lease has surely run out.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ServiceSpec } from '../../../src/compose/types.ts';
import { replaceDelayMs } from '../../../src/orchestrator/failover/failover-timing.ts';
import { service } from '../scheduler/scheduler-harness.ts';
import { DOWN_AFTER_MS, HEARTBEAT_MS, LeaderHarness, START_MS, timing, type Decision } from './leader-harness.ts';

let harness: LeaderHarness | undefined;
afterEach(() => harness?.stop());

const dependent = (name: string, extra: Partial<ServiceSpec> = {}): ServiceSpec => ({ ...service(name), networkMode: 'service:vpn', ...extra });
const startsAfter = (name: string) => ({ [name]: { condition: 'service_started' as const, required: true, restart: false } });

/** vpn + web + db (db starts after web), kept off n1 so a survivor is always there. */
async function groupCluster(db: Partial<ServiceSpec> = {}): Promise<LeaderHarness> {
  harness = new LeaderHarness(['n1', 'n2', 'n3']);
  const offN1 = { placement: { constraints: ['node.id!=n1'], preferences: [] } };
  const vpn = service('vpn', { constraints: ['node.id!=n1'], ports: [8080] });
  const dbSpec = dependent('db', { dependsOn: { ...startsAfter('vpn'), ...startsAfter('web') }, ...db });
  harness.deploy('media', [vpn, dependent('web', { dependsOn: startsAfter('vpn') }), { ...dbSpec, deploy: { ...dbSpec.deploy, ...offN1 } }]);
  await harness.advance(HEARTBEAT_MS * 2);
  expectWhole(harness);
  return harness;
}

function expectWhole(h: LeaderHarness): string {
  const home = h.slots('media', 'vpn')['1'];
  expect(home).toBeDefined();
  expect(h.slots('media', 'web')).toEqual({ 1: home });
  expect(h.slots('media', 'db')).toEqual({ 1: home });
  return home!;
}

/** The commits that moved the group off `from`, in commit order. */
function moves(h: LeaderHarness, from: string, since: number): Decision[] {
  return h.decisionsAfter(since).filter((d) => d.command.stack === 'media' && d.command.slots['1'] !== from);
}

describe('VPN group failover', () => {
  it('a silent node\'s group lands whole on one survivor; dependents are committed first, last-started first', async () => {
    const h = await groupCluster();
    const home = expectWhole(h);
    const since = h.clock.nowMs();
    h.silence(home);
    await h.advance(DOWN_AFTER_MS + HEARTBEAT_MS * 2);
    const now = expectWhole(h);
    expect(now).not.toBe(home);
    expect(now).not.toBe('n1');
    expect(moves(h, home, since).map((d) => d.command.service)).toEqual(['db', 'web', 'vpn']);
    expect(h.failovers.map((e) => [e.service, e.node, e.moved])).toEqual([['db', home, { 1: now }], ['web', home, { 1: now }], ['vpn', home, { 1: now }]]);
  });

  it('an at-most-once dependent holds the whole group until its node\'s lease surely ran out, then the group moves together', async () => {
    // db owns a volume and runs once: at-most-once. vpn and web alone would move at once.
    const h = await groupCluster({ volumes: [{ type: 'volume', source: 'db-data', target: '/data', readOnly: false }] });
    await h.advance(timing.handoverMs * 2);
    const home = expectWhole(h);
    const lastHeard = h.scheduling.liveness.view(home).lastHeardMs!;
    const since = h.clock.nowMs();
    h.silence(home);
    await h.advance(DOWN_AFTER_MS + HEARTBEAT_MS * 2);
    expect(h.scheduling.liveness.statusOf(home)).toBe('down');
    expect(expectWhole(h)).toBe(home);
    expect(h.scheduling.failover.held()).toEqual([{ stack: 'media', service: 'db', slot: 1, node: home, untilMs: lastHeard + replaceDelayMs(timing, 1000) }]);
    await h.clock.runUntil(() => h.slots('media', 'vpn')['1'] !== home, 60_000);
    const moved = moves(h, home, since);
    expect(moved.map((d) => d.command.service)).toEqual(['db', 'web', 'vpn']);
    expect(moved[0]!.atMs).toBeGreaterThanOrEqual(lastHeard + replaceDelayMs(timing, 1000));
    expect(new Set(moved.map((d) => d.atMs)).size).toBe(1);
    expect(expectWhole(h)).not.toBe(home);
  });

  it('a drained node\'s group moves whole, dependents first; no committed state leaves a dependent behind its VPN', async () => {
    const h = await groupCluster();
    const home = expectWhole(h);
    const first = h.decisions.length;
    h.apply({ type: 'update-node', nodeId: home, availability: 'drain' });
    await h.advance(HEARTBEAT_MS);
    const now = expectWhole(h);
    expect(now).not.toBe(home);
    const commits = h.decisions.slice(first).filter((d) => d.command.stack === 'media');
    expect(commits.map((d) => d.command.service)).toEqual(['db', 'web', 'vpn']);
    // Replay the commits: after each, either the VPN is still home or every member left with it.
    const where: Record<string, string> = { vpn: home, web: home, db: home };
    for (const commit of commits) {
      where[commit.command.service] = commit.command.slots['1']!;
      if (where.vpn !== home) expect([where.web, where.db]).toEqual([where.vpn, where.vpn]);
    }
  });

  it('rebalance never moves a group member, while a lone rebalancing service beside it does move back', async () => {
    const rebalancing = (spec: ServiceSpec): ServiceSpec => ({ ...spec, deploy: { ...spec.deploy, labels: { 'constellation.rebalance': 'true' } } });
    const h = (harness = new LeaderHarness(['n1', 'n2', 'n3']));
    h.deploy('media', [
      rebalancing(service('vpn', { replicas: 6 })),
      rebalancing(dependent('web', { dependsOn: startsAfter('vpn'), deploy: service('web', { replicas: 6 }).deploy })),
      rebalancing(service('solo', { replicas: 6 })),
    ]);
    await h.advance(HEARTBEAT_MS * 2 + START_MS);
    expect(h.spread('media', 'vpn')).toEqual({ n1: 2, n2: 2, n3: 2 });
    h.silence('n3');
    await h.advance(DOWN_AFTER_MS + HEARTBEAT_MS * 2 + timing.leaseMs * 2);
    expect(h.spread('media', 'vpn')).toEqual({ n1: 3, n2: 3 });
    h.resume('n3');
    const healed = h.clock.nowMs();
    await h.advance(30_000);
    expect(h.spread('media', 'solo')).toEqual({ n1: 2, n2: 2, n3: 2 });
    const groupMoves = h.decisionsAfter(healed).filter((d) => d.command.service !== 'solo');
    expect(groupMoves).toEqual([]);
    expect(h.spread('media', 'vpn')).toEqual({ n1: 3, n2: 3 });
    expect(h.slots('media', 'web')).toEqual(h.slots('media', 'vpn'));
  });
});
