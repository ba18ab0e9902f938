/**
 * The leader's scheduling loop as one unit: liveness view (node machines), failover policy and the
 * placement reconciler, wired the same way in the daemon (src/daemon/cluster-services.ts), in the
 * unit harness and in the simulator, so the tests exercise the wiring production runs.
 */
import type { Logger } from 'pino';
import type { ClusterCommand, CommandResult } from '../../cluster/commands.ts';
import type { ClusterStateData } from '../../cluster/state.ts';
import type { NodeTiming } from '../../machines/node-timing.ts';
import type { Clock } from '../../seams/clock.ts';
import { startPlacementReconciler, type PlacementReconciler } from '../placement/placement-reconciler.ts';
import { startFailover, type Failover, type FailoverEvent } from './failover-reconciler.ts';
import type { FailoverTiming } from './failover-timing.ts';
import { createLeaderLiveness, type LeaderLiveness } from './leader-liveness.ts';
import { planRebalance } from './rebalance.ts';
import type { PlaceServiceCommand } from '../../cluster/commands.ts';
import type { PlanOptions, SchedulerSnapshot } from '../../scheduler/types.ts';
import { rolloutFinished } from '../../cluster/rollout-records.ts';

export interface LeaderSchedulingOptions {
  readonly selfId: string;
  readonly isLeader: () => boolean;
  readonly current: () => Readonly<ClusterStateData>;
  readonly subscribe: (listener: (state: Readonly<ClusterStateData>) => void) => () => void;
  readonly submit: (command: ClusterCommand) => Promise<CommandResult>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly nodeTiming: NodeTiming;
  readonly failoverTiming: FailoverTiming;
  readonly onFailover?: (event: FailoverEvent) => void;
  /**
   * Whether `nodeId` reports the slot running its current spec (healthy, where checked): the
   * rebalance moves a slot only then (src/orchestrator/failover/rebalance.ts). Without it nothing
   * is rebalanced.
   */
  readonly replicaReady?: (nodeId: string, stack: string, service: string, slot: number) => boolean;
  /** How long a start-first move waits for its new copy before it is abandoned (default 60 s). */
  readonly rebalanceTimeoutMs?: number;
  /** Placement pass period (default 2 s). */
  readonly intervalMs?: number;
}

export interface LeaderScheduling {
  readonly liveness: LeaderLiveness;
  readonly placements: PlacementReconciler;
  readonly failover: Failover;
  /** A heartbeat this daemon answers as leader; `withStatus` when it carried a status report. */
  heartbeat(nodeId: string, withStatus: boolean): void;
  /** A beat from a node that says its engine does not answer: alive, but not counted as such. */
  engineDown(nodeId: string): void;
  /** Call when the Raft role may have changed: starts or drops the liveness view. */
  leadershipChanged(): void;
  stop(): void;
}

export function startLeaderScheduling(options: LeaderSchedulingOptions): LeaderScheduling {
  const { clock, logger } = options;
  const liveness = createLeaderLiveness({ selfId: options.selfId, clock, logger, timing: options.nodeTiming });
  // Nodes whose last beat said their engine is down (soft state: the cause of their failover).
  const enginesDown = new Set<string>();
  // eslint-disable-next-line prefer-const -- the failover policy and the loop it feeds refer to each other
  let placements: PlacementReconciler;
  const failover = startFailover({
    liveness,
    current: options.current,
    clock,
    logger,
    timing: options.failoverTiming,
    trigger: () => placements.trigger(),
    ...(options.onFailover ? { onEvent: options.onFailover } : {}),
    causeOf: (nodeId) => (enginesDown.has(nodeId) ? 'engine-down' : 'node-down'),
  });
  placements = startPlacementReconciler({
    isLeader: () => options.isLeader() && liveness.leading(),
    current: options.current,
    subscribe: options.subscribe,
    submit: options.submit,
    statusOf: (id) => liveness.statusOf(id),
    planOptions: () => failover.planOptions(),
    onCommitted: (command, before) => {
      failover.committed(command, before);
      if (before?.moving || command.moving) logger.info({ event: 'rebalance', stack: command.stack, service: command.service, moving: command.moving ?? {}, from: before?.slots, to: command.slots }, 'rebalance step committed');
    },
    ...(options.replicaReady ? { extraCommands: rebalancer(options, options.replicaReady) } : {}),
    clock,
    logger,
    ...(options.intervalMs === undefined ? {} : { intervalMs: options.intervalMs }),
  });
  const unsubscribeLiveness = liveness.subscribe((event) => {
    if (event.type === 'node.status') logger.info({ node: event.nodeId, status: event.status, previous: event.previous }, 'node status changed');
    placements.trigger();
  });
  const unsubscribeRecords = options.subscribe((state) => liveness.sync(Object.values(state.nodes)));
  const leadershipChanged = (): void => {
    const leading = options.isLeader();
    if (leading && !liveness.leading()) {
      liveness.lead(Object.values(options.current().nodes));
      placements.trigger();
    } else if (!leading && liveness.leading()) liveness.follow();
  };
  leadershipChanged();
  // Stall guard: if this process froze (GC, VM pause, a swapped-out host) for a good part of the
  // grace, every node machine's silence is our own deafness, not theirs. Heartbeats queued in the
  // sockets arrive only after the timers that would mark everyone down, so start over as a new
  // leader would: every node unknown, one grace to be heard.
  const tickMs = Math.max(1, Math.floor(options.nodeTiming.downAfterMs / 20));
  let lastTickMs = clock.nowMs();
  let tickTimer: unknown;
  const tick = (): void => {
    const now = clock.nowMs();
    if (now - lastTickMs > options.nodeTiming.downAfterMs / 2 && liveness.leading()) {
      logger.warn({ stalledMs: now - lastTickMs }, 'this leader stalled; every node is unknown again for one grace');
      liveness.lead(Object.values(options.current().nodes));
    }
    // After the rebuild, not before: with 1,000 nodes rebuilding the machines takes long enough
    // on a busy host that counting it made the next tick see a stall too, and so on for ever.
    lastTickMs = clock.nowMs();
    tickTimer = clock.setTimeout(tick, tickMs);
  };
  tickTimer = clock.setTimeout(tick, tickMs);
  return {
    liveness,
    placements,
    failover,
    engineDown: (nodeId) => {
      if (enginesDown.has(nodeId)) return;
      enginesDown.add(nodeId);
      logger.warn({ node: nodeId }, 'node reports its engine unreachable; its replicas fail over once the grace has passed');
    },
    heartbeat: (nodeId, withStatus) => {
      if (enginesDown.delete(nodeId)) logger.info({ node: nodeId }, 'node reports its engine back');
      const wasReady = liveness.statusOf(nodeId) === 'ready';
      liveness.heartbeat(nodeId);
      if (withStatus || !wasReady) placements.trigger();
    },
    leadershipChanged,
    stop: () => {
      clock.clearTimeout(tickTimer);
      placements.stop();
      failover.stop();
      unsubscribeLiveness();
      unsubscribeRecords();
      liveness.stop();
    },
  };
}

/**
 * The rebalance step of the placement loop, with its one piece of soft state: when this leader
 * first saw each move in flight, so a copy that never comes up is given up on (a new leader
 * starts the count afresh, which only waits longer).
 */
function rebalancer(options: LeaderSchedulingOptions, replicaReady: NonNullable<LeaderSchedulingOptions['replicaReady']>): (snapshot: SchedulerSnapshot, planOptions: PlanOptions | undefined) => readonly PlaceServiceCommand[] {
  const timeoutMs = options.rebalanceTimeoutMs ?? 60_000;
  const seenAt = new Map<string, number>();
  return (snapshot, planOptions) => {
    const now = options.clock.nowMs();
    const key = (stack: string, service: string, slot: number, node: string): string => JSON.stringify([stack, service, slot, node]);
    const live = new Set<string>();
    const state = options.current();
    const commands = planRebalance({
      snapshot,
      ...(planOptions ? { planOptions } : {}),
      replicaReady,
      moveExpired: (stack, service, slot, node) => {
        const k = key(stack, service, slot, node);
        live.add(k);
        const since = seenAt.get(k) ?? now;
        seenAt.set(k, since);
        return now - since > timeoutMs;
      },
      busy: (stack, service) => {
        const part = state.rollouts[stack]?.services[service];
        return part !== undefined && !rolloutFinished(part);
      },
    });
    for (const k of seenAt.keys()) if (!live.has(k)) seenAt.delete(k);
    return commands;
  };
}
