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
  /** Placement pass period (default 2 s). */
  readonly intervalMs?: number;
}

export interface LeaderScheduling {
  readonly liveness: LeaderLiveness;
  readonly placements: PlacementReconciler;
  readonly failover: Failover;
  /** A heartbeat this daemon answers as leader; `withStatus` when it carried a status report. */
  heartbeat(nodeId: string, withStatus: boolean): void;
  /** Call when the Raft role may have changed: starts or drops the liveness view. */
  leadershipChanged(): void;
  stop(): void;
}

export function startLeaderScheduling(options: LeaderSchedulingOptions): LeaderScheduling {
  const { clock, logger } = options;
  const liveness = createLeaderLiveness({ selfId: options.selfId, clock, logger, timing: options.nodeTiming });
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
  });
  placements = startPlacementReconciler({
    isLeader: () => options.isLeader() && liveness.leading(),
    current: options.current,
    subscribe: options.subscribe,
    submit: options.submit,
    statusOf: (id) => liveness.statusOf(id),
    planOptions: () => failover.planOptions(),
    onCommitted: (command, before) => failover.committed(command, before),
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
    heartbeat: (nodeId, withStatus) => {
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
