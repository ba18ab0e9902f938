/**
 * The whole-cluster failover simulator: the real Raft members of ClusterSim, each with the real
 * leader scheduling loop (liveness view, failover policy, placement reconciler — the wiring the
 * daemon runs), plus worker nodes that only heartbeat. Heartbeats are delivered on the virtual
 * clock to whichever live member believes it leads, if the links both ways are up; a crashed or
 * paused member's node sends none. Every committed placement is recorded with its index and time.
 */
import pino from 'pino';
import type { ClusterCommand, PlaceServiceCommand } from '../../src/cluster/commands.ts';
import type { ClusterStateData } from '../../src/cluster/state.ts';
import type { ServiceSpec } from '../../src/compose/types.ts';
import { nodeTimingFrom } from '../../src/machines/node-timing.ts';
import { failoverTiming } from '../../src/orchestrator/failover/failover-timing.ts';
import { startLeaderScheduling, type LeaderScheduling } from '../../src/orchestrator/failover/leader-scheduling.ts';
import { ClusterSim } from '../../src/sim/cluster-sim.ts';

export const HEARTBEAT_MS = 500;
export const DOWN_AFTER_MS = 2000;
export const ELECTION_TIMEOUT_MS = 1000;

export interface AppliedPlacement {
  readonly index: number;
  readonly atMs: number;
  readonly command: PlaceServiceCommand;
}

export class FailoverSim {
  readonly sim: ClusterSim;
  readonly nodeIds: readonly string[];
  readonly placements: AppliedPlacement[] = [];
  private readonly seenIndexes = new Set<number>();
  private readonly schedulings = new Map<string, LeaderScheduling>();
  private readonly listeners = new Map<string, Set<(state: Readonly<ClusterStateData>) => void>>();
  private seq = 0;

  constructor(seed: number, readonly workers: readonly string[] = ['w1', 'w2', 'w3']) {
    this.sim = new ClusterSim({
      seed,
      nodeCount: 3,
      electionTimeoutMs: ELECTION_TIMEOUT_MS,
      heartbeatIntervalMs: 100,
      onApply: (id, index, request, result) => {
        if (result.ok && request.command.type === 'place-service' && !this.seenIndexes.has(index)) {
          this.seenIndexes.add(index);
          this.placements.push({ index, atMs: this.sim.clock.nowMs(), command: request.command });
        }
        const node = this.sim.node(id);
        if (node) for (const listener of this.listeners.get(id) ?? []) listener(node.state().view());
      },
    });
    this.nodeIds = [...this.sim.founders, ...workers];
  }

  async start(): Promise<void> {
    await this.sim.start();
    for (const id of this.sim.founders) this.attach(id);
    const beat = (): void => {
      this.deliverHeartbeats();
      this.sim.clock.setTimeout(beat, HEARTBEAT_MS);
    };
    beat();
    const watchRoles = (): void => {
      for (const scheduling of this.schedulings.values()) scheduling.leadershipChanged();
      this.sim.clock.setTimeout(watchRoles, 20);
    };
    watchRoles();
    for (const id of this.nodeIds) await this.submit({ type: 'register-node', node: { id, address: `${id}:7421`, labels: {}, role: this.sim.founders.includes(id) ? 'manager' : 'worker', availability: 'active' } });
  }

  /** Submits through whoever leads, retrying across elections; runs the clock until it committed. */
  async submit(command: ClusterCommand): Promise<void> {
    let done = false;
    let failure: unknown;
    this.submitOnce(command).then(
      () => (done = true),
      (error: unknown) => {
        failure = error;
        done = true;
      },
    );
    await this.sim.runUntil(() => done, 30_000);
    if (!done || failure) throw failure ?? new Error(`could not commit ${command.type} within 30 s of virtual time`);
  }

  private async submitOnce(command: ClusterCommand): Promise<void> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const leader = this.sim.leader();
      if (leader) {
        const outcome = await this.sim.withTimeout(leader.propose({ clientId: 'failover-sim', seq: ++this.seq, command }), 2000);
        if (outcome.ok && outcome.value.ok) return;
      }
      await this.sim.sleep(100);
    }
    throw new Error(`could not commit ${command.type}`);
  }

  deploy(name: string, services: ServiceSpec[]): Promise<void> {
    return this.submit({ type: 'deploy-stack', stack: { name, services }, specHash: `${name}-${this.seq}`, atMs: this.sim.clock.nowMs() });
  }

  crash(id: string): void {
    this.detach(id);
    this.sim.crash(id);
  }

  /** The leader's current placement of a service, as its state machine holds it. */
  slots(stack: string, service: string): Record<string, string> {
    const node = this.sim.leader() ?? this.sim.founders.map((id) => this.sim.node(id)).find((n) => n !== undefined);
    return { ...(node?.state().view().placements[stack]?.[service]?.slots ?? {}) };
  }

  leaderId(): string | undefined {
    return this.sim.leader()?.status().id;
  }

  stop(): void {
    for (const id of [...this.schedulings.keys()]) this.detach(id);
  }

  private attach(id: string): void {
    const listeners = new Set<(state: Readonly<ClusterStateData>) => void>();
    this.listeners.set(id, listeners);
    let seq = 0;
    const clientId = `scheduler:${id}:${this.sim.clock.nowMs()}`;
    this.schedulings.set(
      id,
      startLeaderScheduling({
        selfId: id,
        isLeader: () => this.sim.node(id)?.status().role === 'leader',
        current: () => this.sim.node(id)!.state().view(),
        subscribe: (listener) => {
          listeners.add(listener);
          return () => listeners.delete(listener);
        },
        submit: (command) => {
          const node = this.sim.node(id);
          if (!node) return Promise.reject(new Error(`${id} is down`));
          return node.propose({ clientId, seq: ++seq, command });
        },
        clock: this.sim.clockOf(id)!,
        logger: pino({ level: 'silent' }),
        nodeTiming: nodeTimingFrom(HEARTBEAT_MS, DOWN_AFTER_MS),
        failoverTiming: failoverTiming({ heartbeatIntervalMs: HEARTBEAT_MS, nodeDownAfterMs: DOWN_AFTER_MS, electionTimeoutMs: ELECTION_TIMEOUT_MS }),
      }),
    );
  }

  private detach(id: string): void {
    this.schedulings.get(id)?.stop();
    this.schedulings.delete(id);
    this.listeners.delete(id);
  }

  private deliverHeartbeats(): void {
    const now = this.sim.clock.nowMs();
    const leaders = this.sim.founders.filter((id) => this.sim.isUp(id) && this.sim.node(id)?.status().role === 'leader');
    for (const from of this.nodeIds) {
      const isMember = this.sim.founders.includes(from);
      if (isMember && (!this.sim.isUp(from) || this.sim.pausedUntilMs(from) > now)) continue;
      for (const to of leaders) {
        if (from !== to && (!this.sim.network.linkUp(from, to) || !this.sim.network.linkUp(to, from))) continue;
        // Through the receiver's own clock: a paused leader handles it when it resumes, as a socket buffers it.
        this.sim.clockOf(to)?.setTimeout(() => this.schedulings.get(to)?.heartbeat(from, false), 0);
      }
    }
  }
}
