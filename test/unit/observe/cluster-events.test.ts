import { describe, expect, it } from 'vitest';
import { diffClusterViews, emptyClusterView, type ClusterViewSnapshot, type ReplicaView } from '../../../src/observe/cluster-view-diff.ts';
import { EventLog } from '../../../src/observe/event-log.ts';
import { eventMatches, allEvents } from '../../../src/observe/event-filter.ts';
import type { ClusterEvent } from '../../../src/observe/cluster-event-types.ts';

const replica = (overrides: Partial<ReplicaView> = {}): ReplicaView => ({
  stack: 'web', service: 'app', slot: 1, node: 'n1', name: 'web_app_1', state: 'creating', health: 'none', restarts: 0, ...overrides,
});

const view = (overrides: Partial<ClusterViewSnapshot> = {}): ClusterViewSnapshot => ({ ...emptyClusterView, ...overrides });

describe('cluster view diff', () => {
  it('reports a deploy, its placements, and each replica coming up', () => {
    const deployed = view({
      stacks: { web: { version: 1, specHash: 'h1', services: ['app'] } },
      placements: { 'web/app/1': 'n1', 'web/app/2': 'n2' },
      nodes: { n1: { status: 'ready', availability: 'active', role: 'manager' } },
      leader: 'n1',
    });
    expect(diffClusterViews(emptyClusterView, deployed).map((e) => e.type)).toEqual(['leader.changed', 'deploy.accepted', 'replica.scheduled', 'replica.scheduled', 'node.joined']);
    const running = view({ ...deployed, replicas: { 'n1/web_app_1': replica({ state: 'running', containerId: 'c1' }) } });
    expect(diffClusterViews(deployed, running)).toEqual([{ type: 'replica.started', stack: 'web', service: 'app', slot: 1, node: 'n1', container: 'web_app_1', containerId: 'c1' }]);
    const healthy = view({ ...running, replicas: { 'n1/web_app_1': replica({ state: 'running', containerId: 'c1', health: 'healthy' }) } });
    expect(diffClusterViews(running, healthy).map((e) => e.type)).toEqual(['replica.healthy']);
  });

  it('reports exits once, restarts, failures, moves, removal, node and leader changes', () => {
    const base = view({ nodes: { n1: { status: 'ready', availability: 'active', role: 'manager' } }, placements: { 'web/app/1': 'n1' }, leader: 'n1', replicas: { 'n1/web_app_1': replica({ state: 'running' }) } });
    const exited = view({ ...base, replicas: { 'n1/web_app_1': replica({ state: 'backoff', exitCode: 3 }) } });
    expect(diffClusterViews(base, exited)).toEqual([expect.objectContaining({ type: 'replica.exited', exitCode: 3 })]);
    const stillDown = view({ ...base, replicas: { 'n1/web_app_1': replica({ state: 'exited', exitCode: 3 }) } });
    expect(diffClusterViews(exited, stillDown)).toEqual([]);
    const restarted = view({ ...base, replicas: { 'n1/web_app_1': replica({ state: 'running', restarts: 1 }) } });
    expect(diffClusterViews(stillDown, restarted).map((e) => e.type)).toEqual(['replica.restarted', 'replica.started']);
    const failed = view({ ...base, replicas: { 'n1/web_app_1': replica({ state: 'failed', message: 'gave up' }) } });
    expect(diffClusterViews(restarted, failed)).toEqual([expect.objectContaining({ type: 'replica.failed', message: 'gave up' })]);
    const moved = view({
      ...base,
      placements: { 'web/app/1': 'n2' },
      nodes: { n1: { status: 'down', availability: 'drain', role: 'manager' }, n2: { status: 'ready', availability: 'active', role: 'worker' } },
      leader: 'n2',
      replicas: {},
    });
    expect(diffClusterViews(base, moved)).toEqual([
      { type: 'leader.changed', from: 'n1', to: 'n2' },
      { type: 'replica.scheduled', stack: 'web', service: 'app', slot: 1, node: 'n2', previousNode: 'n1' },
      { type: 'node.status', node: 'n1', from: 'ready', to: 'down' },
      { type: 'node.availability', node: 'n1', from: 'active', to: 'drain' },
      { type: 'node.joined', node: 'n2', role: 'worker' },
      { type: 'replica.removed', stack: 'web', service: 'app', slot: 1, node: 'n1', container: 'web_app_1' },
    ]);
    expect(diffClusterViews(moved, moved)).toEqual([]);
  });
});

describe('event log', () => {
  const fill = (log: EventLog, count: number) => {
    for (let i = 0; i < count; i++) log.append({ type: 'stack.removed', stack: `s${i}` });
  };

  it('numbers events 1, 2, 3 … and resumes after an index', () => {
    const log = new EventLog(100, 'stream-a', () => 42);
    fill(log, 5);
    expect(log.lastIndex()).toBe(5);
    expect(log.since(3).events.map((e) => e.index)).toEqual([4, 5]);
    expect(log.since(0).events.map((e) => e.index)).toEqual([1, 2, 3, 4, 5]);
    expect(log.since(5)).toEqual({ events: [] });
    expect(log.since(9)).toEqual({ events: [], ahead: true });
    expect(log.since(1).events[0]).toEqual({ type: 'stack.removed', stack: 's1', index: 2, atMs: 42 });
  });

  it('keeps a bounded history and reports what a late reader lost', () => {
    const log = new EventLog(10, 'stream-a', () => 0);
    fill(log, 45);
    const first = log.firstIndex();
    expect(first).toBeGreaterThan(25);
    expect(45 - first + 1).toBeLessThanOrEqual(20);
    const resumed = log.since(3);
    expect(resumed.gap).toEqual({ from: 4, to: first - 1 });
    expect(resumed.events.map((e) => e.index)).toEqual(Array.from({ length: 45 - first + 1 }, (_, i) => first + i));
  });

  it('filters by type (or prefix), stack, service and node', () => {
    const event = { type: 'replica.started', stack: 'web', service: 'app', slot: 1, node: 'n1', container: 'web_app_1', index: 1, atMs: 0 } as ClusterEvent;
    expect(eventMatches(event, allEvents)).toBe(true);
    expect(eventMatches(event, { ...allEvents, types: ['replica.*'] })).toBe(true);
    expect(eventMatches(event, { ...allEvents, types: ['replica.exited'] })).toBe(false);
    expect(eventMatches(event, { ...allEvents, stacks: ['web'], services: ['app'], nodes: ['n1'] })).toBe(true);
    expect(eventMatches(event, { ...allEvents, nodes: ['n2'] })).toBe(false);
    expect(eventMatches({ type: 'leader.changed', from: 'n1', to: 'n2', index: 2, atMs: 0 }, { ...allEvents, nodes: ['n2'] })).toBe(true);
    expect(eventMatches({ type: 'leader.changed', to: 'n2', index: 2, atMs: 0 }, { ...allEvents, stacks: ['web'] })).toBe(false);
  });
});
