import { afterEach, describe, expect, it } from 'vitest';
import type { ClusterEvent } from '../../../src/observe/cluster-event-types.ts';
import { allEvents, eventMatches } from '../../../src/observe/event-filter.ts';
import { EventLog } from '../../../src/observe/event-log.ts';
import { failoverEventBody } from '../../../src/observe/failover-event.ts';
import { service } from '../scheduler/scheduler-harness.ts';
import { DOWN_AFTER_MS, HEARTBEAT_MS, LeaderHarness } from '../failover/leader-harness.ts';

// The leader's failover decisions, from the real failover reconciler on the virtual clock, as
// `failover` events in the log that GET /v1/events serves (the composition root appends each).
let harness: LeaderHarness | undefined;
afterEach(() => harness?.stop());

describe('failover events', () => {
  it('a node going down gives one failover event per service: the node, cause, replicas moved and where, seconds', async () => {
    harness = new LeaderHarness(['n1', 'n2', 'n3']);
    const h = harness;
    h.deploy('app', [service('web', { replicas: 6 }), service('api', { replicas: 3 })]);
    await h.advance(HEARTBEAT_MS * 2);
    const log = new EventLog(100, 'failover-test', () => h.clock.nowMs());
    h.silence('n3');
    await h.advance(DOWN_AFTER_MS + HEARTBEAT_MS * 3);
    for (const decision of h.failovers) log.append(failoverEventBody(decision));
    const events = log.since(0).events.filter((event) => event.type === 'failover');
    expect(events.map((event) => (event as { service: string }).service).sort()).toEqual(['api', 'web']);
    for (const event of events) {
      if (event.type !== 'failover') continue;
      expect(event).toMatchObject({ node: 'n3', cause: 'node-down', stack: 'app' });
      expect(event.replicas).toBe(Object.keys(event.moved).length);
      expect(event.replicas).toBeGreaterThan(0);
      // Moved to survivors, never back onto the down node.
      expect(Object.values(event.moved).every((to) => to === 'n1' || to === 'n2')).toBe(true);
      // From the last heartbeat heard to the commit: at least the down-after grace, well under twice it.
      expect(event.seconds * 1000).toBeGreaterThanOrEqual(DOWN_AFTER_MS - HEARTBEAT_MS);
      expect(event.seconds * 1000).toBeLessThan(2 * DOWN_AFTER_MS + 2 * HEARTBEAT_MS);
    }
  });

  it('filters: the type, the stack and service, the down node and the nodes that took its replicas', () => {
    const event = { ...failoverEventBody({ node: 'n3', cause: 'node-down', stack: 'app', service: 'web', moved: { 5: 'n1', 6: 'n2' }, seconds: 2.34567 }), index: 1, atMs: 0 } as ClusterEvent;
    expect(event).toMatchObject({ type: 'failover', replicas: 2, seconds: 2.346 });
    expect(eventMatches(event, { ...allEvents, types: ['failover'] })).toBe(true);
    expect(eventMatches(event, { ...allEvents, stacks: ['app'], services: ['web'] })).toBe(true);
    for (const node of ['n3', 'n1', 'n2']) expect(eventMatches(event, { ...allEvents, nodes: [node] }), node).toBe(true);
    expect(eventMatches(event, { ...allEvents, nodes: ['n4'] })).toBe(false);
    expect(eventMatches(event, { ...allEvents, types: ['replica.*'] })).toBe(false);
  });
});
