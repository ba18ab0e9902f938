/**
 * The leader's scheduling loop (liveness + failover policy + placement reconciler, exactly as the
 * daemon wires them) on a virtual clock, over the real replicated state machine, with heartbeats
 * simulated per node. Every committed placement is recorded, so a test reads what the leader
 * decided and when, instead of applying it anywhere real.
 */
import pino from 'pino';
import type { ClusterCommand, CommandResult, PlaceServiceCommand } from '../../../src/cluster/commands.ts';
import { ClusterState, type ClusterStateData } from '../../../src/cluster/state.ts';
import type { ServiceSpec } from '../../../src/compose/types.ts';
import { nodeTimingFrom } from '../../../src/machines/node-timing.ts';
import type { FailoverEvent } from '../../../src/orchestrator/failover/failover-reconciler.ts';
import { failoverTiming } from '../../../src/orchestrator/failover/failover-timing.ts';
import { startLeaderScheduling, type LeaderScheduling } from '../../../src/orchestrator/failover/leader-scheduling.ts';
import { VirtualClock } from '../../../src/sim/virtual-clock.ts';

export const HEARTBEAT_MS = 500;
export const DOWN_AFTER_MS = 2000;
export const ELECTION_TIMEOUT_MS = 1000;
export const timing = failoverTiming({ heartbeatIntervalMs: HEARTBEAT_MS, nodeDownAfterMs: DOWN_AFTER_MS, electionTimeoutMs: ELECTION_TIMEOUT_MS });

/** How long a simulated replica takes from being placed (or moved start-first) to running. */
export const START_MS = 1500;
export const REBALANCE_TIMEOUT_MS = 10_000;

export interface Decision {
  readonly atMs: number;
  readonly command: PlaceServiceCommand;
}

export class LeaderHarness {
  readonly clock = new VirtualClock();
  readonly state = new ClusterState();
  readonly decisions: Decision[] = [];
  readonly failovers: FailoverEvent[] = [];
  private readonly listeners = new Set<(state: Readonly<ClusterStateData>) => void>();
  private readonly silent = new Set<string>();
  /** Nodes that keep beating but say their engine is down. */
  readonly enginesDown = new Set<string>();
  /** "node/stack/service/slot" → when that node was first asked to run the slot (for START_MS). */
  private readonly askedAt = new Map<string, number>();
  /** Nodes whose new replicas never come up (a pull that keeps failing). */
  readonly broken = new Set<string>();
  private index = 0;
  private leader = true;
  private seq = 0;
  readonly scheduling: LeaderScheduling;

  constructor(readonly nodeIds: string[]) {
    for (const id of nodeIds) this.apply({ type: 'register-node', node: { id, address: `${id}:7421`, labels: {}, role: 'manager', availability: 'active' } });
    this.scheduling = startLeaderScheduling({
      selfId: nodeIds[0]!,
      isLeader: () => this.leader,
      current: () => this.state.view(),
      subscribe: (listener) => {
        this.listeners.add(listener);
        return () => this.listeners.delete(listener);
      },
      submit: (command) => Promise.resolve(this.apply(command)),
      clock: this.clock,
      logger: pino({ level: 'silent' }),
      nodeTiming: nodeTimingFrom(HEARTBEAT_MS, DOWN_AFTER_MS),
      failoverTiming: timing,
      onFailover: (event) => this.failovers.push(event),
      replicaReady: (node, stack, service, slot) => this.replicaReady(node, stack, service, slot),
      rebalanceTimeoutMs: REBALANCE_TIMEOUT_MS,
    });
    const beat = (): void => {
      if (this.leader) {
        for (const id of this.nodeIds) {
          if (this.silent.has(id)) continue;
          if (this.enginesDown.has(id)) this.scheduling.engineDown(id);
          else this.scheduling.heartbeat(id, false);
        }
      }
      this.clock.setTimeout(beat, HEARTBEAT_MS);
    };
    beat();
  }

  apply(command: ClusterCommand): CommandResult {
    const result = this.state.apply(++this.index, { clientId: 'harness', seq: ++this.seq, command });
    if (result.ok && command.type === 'place-service') this.decisions.push({ atMs: this.clock.nowMs(), command });
    this.noteAsked();
    for (const listener of this.listeners) listener(this.state.view());
    return result;
  }

  /** What each node's agent would be running: every slot placed on it or moving to it. */
  private noteAsked(): void {
    const asked = new Set<string>();
    for (const [stack, services] of Object.entries(this.state.view().placements)) {
      for (const [service, record] of Object.entries(services)) {
        for (const [slot, node] of [...Object.entries(record.slots), ...Object.entries(record.moving ?? {})]) asked.add(`${node}/${stack}/${service}/${slot}`);
      }
    }
    for (const key of this.askedAt.keys()) if (!asked.has(key)) this.askedAt.delete(key);
    for (const key of asked) if (!this.askedAt.has(key)) this.askedAt.set(key, this.clock.nowMs());
  }

  /** A node's copy of the slot runs: asked long enough ago, on a node that is up and not broken. */
  replicaReady(node: string, stack: string, service: string, slot: number): boolean {
    const since = this.askedAt.get(`${node}/${stack}/${service}/${slot}`);
    return since !== undefined && !this.silent.has(node) && !this.broken.has(node) && this.clock.nowMs() - since >= START_MS;
  }

  deploy(name: string, services: ServiceSpec[]): void {
    this.apply({ type: 'deploy-stack', stack: { name, services }, specHash: `${name}-${++this.seq}`, atMs: this.clock.nowMs() });
  }

  /** A node registered after the start heartbeats from now on too. */
  beatAs(id: string): void {
    this.nodeIds.push(id);
  }

  /** The node stops heartbeating (crash, or a cut in either direction). */
  silence(id: string): void {
    this.silent.add(id);
  }

  resume(id: string): void {
    this.silent.delete(id);
  }

  /** Another manager takes over: this one's view is dropped and rebuilt from nothing. */
  changeLeader(): void {
    this.leader = false;
    this.scheduling.leadershipChanged();
    this.leader = true;
    this.scheduling.leadershipChanged();
  }

  slots(stack: string, service: string): Record<string, string> {
    return { ...(this.state.view().placements[stack]?.[service]?.slots ?? {}) };
  }

  /** Replicas of the service per node. */
  spread(stack: string, service: string): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const node of Object.values(this.slots(stack, service))) counts[node] = (counts[node] ?? 0) + 1;
    return counts;
  }

  decisionsAfter(atMs: number): Decision[] {
    return this.decisions.filter((decision) => decision.atMs > atMs);
  }

  async advance(ms: number): Promise<void> {
    await this.clock.advance(ms);
  }

  stop(): void {
    this.scheduling.stop();
  }
}
