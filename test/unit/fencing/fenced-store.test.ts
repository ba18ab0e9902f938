import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { ClientRequest, ClusterCommand, CommandResult } from '../../../src/cluster/commands.ts';
import { ClusterState, type ClusterStateData } from '../../../src/cluster/state.ts';
import type { ServiceSpec } from '../../../src/compose/types.ts';
import { FencedStore } from '../../../src/fencing/fenced-store.ts';
import { NodeLease } from '../../../src/fencing/node-lease.ts';
import type { StateStore } from '../../../src/seams/state-store.ts';
import { VirtualClock } from '../../../src/sim/virtual-clock.ts';
import { service } from '../scheduler/scheduler-harness.ts';

const LEASE_MS = 2500;

/** The replicated state as one member applies it, without Raft. */
class AppliedStore implements StateStore {
  readonly state = new ClusterState();
  private readonly listeners = new Set<(state: Readonly<ClusterStateData>) => void>();
  private index = 0;
  open = () => Promise.resolve();
  close = () => Promise.resolve();
  current = () => this.state.view();
  submit = (request: ClientRequest): Promise<CommandResult> => Promise.resolve(this.state.apply(++this.index, request));
  subscribe(listener: (state: Readonly<ClusterStateData>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  run(command: ClusterCommand): CommandResult {
    const result = this.state.apply(++this.index, { clientId: 'test', seq: this.index, command });
    for (const listener of this.listeners) listener(this.state.view());
    return result;
  }
}

const singleton: ServiceSpec = { ...service('pg'), volumes: [{ type: 'volume', source: 'data', target: '/data', readOnly: false }] };
const web = service('web', { replicas: 2 });

function setup() {
  const clock = new VirtualClock(1000);
  const inner = new AppliedStore();
  for (const id of ['n1', 'n2']) inner.run({ type: 'register-node', node: { id, address: `${id}:7421`, labels: {} } });
  inner.run({ type: 'deploy-stack', stack: { name: 'app', services: [singleton, web] }, specHash: 'h1', atMs: 0 });
  inner.run({ type: 'place-service', stack: 'app', service: 'pg', stackVersion: 1, slots: { '1': 'n1' } });
  inner.run({ type: 'place-service', stack: 'app', service: 'web', stackVersion: 1, slots: { '1': 'n1', '2': 'n2' } });
  const lease = new NodeLease({ clock, leaseMs: LEASE_MS, appliedIndex: () => inner.state.appliedIndex });
  const fenced = new FencedStore(inner, 'n1', lease, pino({ level: 'silent' }));
  const seen: Readonly<ClusterStateData>[] = [];
  fenced.subscribe((state) => seen.push(state));
  const slots = (svc: string) => fenced.current().placements.app?.[svc]?.slots;
  return { clock, inner, lease, fenced, seen, slots };
}

describe('fencing on the node', () => {
  it('runs an at-most-once replica only under a lease, and tells the agent when the lease runs out', async () => {
    const { clock, inner, lease, seen, slots } = setup();
    // No answer from a leader yet: the singleton is held out, the at-least-once service is not.
    expect(slots('pg')).toEqual({});
    expect(slots('web')).toEqual({ '1': 'n1', '2': 'n2' });
    lease.renew(clock.nowMs(), inner.state.appliedIndex);
    expect(slots('pg')).toEqual({ '1': 'n1' });
    expect(seen.at(-1)!.placements.app!.pg!.slots).toEqual({ '1': 'n1' });
    // Renewed from each heartbeat's send time; silence for a lease stops it, and the agent hears so.
    await clock.advance(500);
    lease.renew(clock.nowMs(), inner.state.appliedIndex);
    await clock.advance(LEASE_MS - 1);
    expect(slots('pg')).toEqual({ '1': 'n1' });
    await clock.advance(1);
    expect(slots('pg')).toEqual({});
    expect(seen.at(-1)!.placements.app!.pg!.slots).toEqual({});
    expect(slots('web')).toEqual({ '1': 'n1', '2': 'n2' });
  });

  it('tells the agent the lease ran out even when its timer fires a little early (Node counts timeouts from the loop\'s cached time)', async () => {
    const clock = new VirtualClock(1000);
    const early = { nowMs: () => clock.nowMs(), setTimeout: (callback: () => void, delayMs: number) => clock.setTimeout(callback, delayMs > 1 ? delayMs - 1 : delayMs), clearTimeout: (handle: unknown) => clock.clearTimeout(handle) };
    const inner = new AppliedStore();
    inner.run({ type: 'register-node', node: { id: 'n1', address: 'n1:7421', labels: {} } });
    inner.run({ type: 'deploy-stack', stack: { name: 'app', services: [singleton] }, specHash: 'h1', atMs: 0 });
    inner.run({ type: 'place-service', stack: 'app', service: 'pg', stackVersion: 1, slots: { '1': 'n1' } });
    const lease = new NodeLease({ clock: early, leaseMs: LEASE_MS, appliedIndex: () => inner.state.appliedIndex });
    const seen: Readonly<ClusterStateData>[] = [];
    new FencedStore(inner, 'n1', lease, pino({ level: 'silent' })).subscribe((state) => seen.push(state));
    lease.renew(clock.nowMs(), inner.state.appliedIndex);
    expect(seen.at(-1)!.placements.app!.pg!.slots).toEqual({ '1': 'n1' });
    await clock.advance(LEASE_MS + 10);
    expect(seen.at(-1)!.placements.app!.pg!.slots).toEqual({});
  });

  it('an answer arriving after the lease it grants has already run out renews nothing', async () => {
    const { clock, inner, lease, slots } = setup();
    const sent = clock.nowMs();
    await clock.advance(LEASE_MS);
    lease.renew(sent, inner.state.appliedIndex);
    expect(slots('pg')).toEqual({});
  });

  it('after a lapse, a fresh answer counts only once this node has caught up with the leader (a healed node never restarts a replica from stale state)', async () => {
    const { clock, inner, lease, slots } = setup();
    lease.renew(clock.nowMs(), inner.state.appliedIndex);
    await clock.advance(LEASE_MS + 1000);
    expect(slots('pg')).toEqual({});
    // The leader moved the singleton during the cut; its answer arrives before the log does.
    lease.renew(clock.nowMs(), inner.state.appliedIndex + 1);
    expect(slots('pg')).toEqual({});
    inner.run({ type: 'place-service', stack: 'app', service: 'pg', stackVersion: 1, slots: { '1': 'n2' } });
    expect(lease.valid()).toBe(true);
    expect(slots('pg')).toEqual({ '1': 'n2' });
  });

  it('refuses a start whose fencing token is older than one seen for the slot', () => {
    const { inner, fenced, clock, lease } = setup();
    lease.renew(clock.nowMs(), inner.state.appliedIndex);
    const older = inner.state.snapshot();
    inner.run({ type: 'place-service', stack: 'app', service: 'web', stackVersion: 1, slots: { '1': 'n2', '2': 'n2' } });
    inner.run({ type: 'place-service', stack: 'app', service: 'web', stackVersion: 1, slots: { '1': 'n2', '2': 'n1' } });
    expect(fenced.current().placements.app!.web!.slots).toEqual({ '1': 'n2', '2': 'n1' });
    // A lagging source hands back the state from before: slot 1 on this node with an older token.
    expect(fenced.fence(ClusterState.restore(older).view()).placements.app!.web!.slots).toEqual({ '2': 'n2' });
  });
});
