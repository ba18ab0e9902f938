/**
 * The leader's failover: a policy of the one placement loop, not a second writer. Two loops that
 * both write placements could undo each other (one plans from a state the other already changed),
 * so the placement reconciler asks this module, on every pass, which replicas of down nodes may
 * move (`planOptions`), and tells it what it committed, from which failover events are made.
 *
 * It also wakes the loop when a held at-most-once replica becomes replaceable (its node's lease
 * has surely run out), since nothing else changes at that moment.
 */
import type { Logger } from 'pino';
import type { PlaceServiceCommand } from '../../cluster/commands.ts';
import type { PlacementRecord } from '../../cluster/placements.ts';
import type { ClusterStateData } from '../../cluster/state.ts';
import type { PlanOptions } from '../../scheduler/types.ts';
import type { Clock } from '../../seams/clock.ts';
import { decideFailover, type HeldReplica } from './failover-policy.ts';
import type { FailoverTiming } from './failover-timing.ts';
import type { LeaderLiveness } from './leader-liveness.ts';

export type FailoverCause = 'node-down' | 'engine-down';

/** One node's replicas of one service moved because the node went down. */
export interface FailoverEvent {
  readonly node: string;
  /** `engine-down`: the node kept beating but said its engine does not answer. */
  readonly cause: FailoverCause;
  readonly stack: string;
  readonly service: string;
  /** slot → the node it moved to */
  readonly moved: Readonly<Record<string, string>>;
  /** From the last heartbeat this leader heard of the node (or its own start) to the commit. */
  readonly seconds: number;
}

export interface FailoverOptions {
  readonly liveness: LeaderLiveness;
  readonly current: () => Readonly<ClusterStateData>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly timing: FailoverTiming;
  /** Runs a placement pass soon. */
  readonly trigger: () => void;
  readonly onEvent?: (event: FailoverEvent) => void;
  /** Why a down node is down, as far as this leader knows (default: node-down). */
  readonly causeOf?: (nodeId: string) => FailoverCause;
}

export interface Failover {
  /** The scheduler's options for a pass planned now. */
  planOptions(): PlanOptions;
  /** A placement the loop committed, and the record it replaced. */
  committed(command: PlaceServiceCommand, before: PlacementRecord | undefined): void;
  /** At-most-once replicas waiting for their node's lease to run out, as of the last pass. */
  held(): readonly HeldReplica[];
  stop(): void;
}

export function startFailover(options: FailoverOptions): Failover {
  const { liveness, clock, logger, timing } = options;
  let wakeAt: number | undefined;
  let wakeTimer: unknown;
  let held: readonly HeldReplica[] = [];

  const wakeAtMs = (atMs: number | undefined): void => {
    if (atMs === wakeAt) return;
    clock.clearTimeout(wakeTimer);
    wakeAt = atMs;
    if (atMs === undefined) return;
    wakeTimer = clock.setTimeout(() => {
      wakeAt = undefined;
      options.trigger();
    }, Math.max(0, atMs - clock.nowMs()));
  };

  return {
    planOptions: () => {
      const since = liveness.leaderSinceMs();
      if (since === undefined) {
        held = [];
        wakeAtMs(undefined);
        return {};
      }
      const decision = decideFailover({ state: options.current(), liveness: (id) => liveness.view(id), leaderSinceMs: since, nowMs: clock.nowMs(), timing });
      held = decision.held;
      wakeAtMs(decision.nextCheckAtMs);
      return { replaceOnDown: decision.replace };
    },
    committed: (command, before) => {
      if (!before) return;
      const movedBy = new Map<string, Record<string, string>>();
      for (const [slot, from] of Object.entries(before.slots)) {
        const to = Object.hasOwn(command.slots, slot) ? command.slots[slot] : undefined;
        if (to === undefined || to === from || liveness.statusOf(from) !== 'down') continue;
        const moved = movedBy.get(from) ?? {};
        moved[slot] = to;
        movedBy.set(from, moved);
      }
      for (const [node, moved] of movedBy) {
        const heard = liveness.view(node).lastHeardMs ?? liveness.leaderSinceMs() ?? clock.nowMs();
        const event: FailoverEvent = { node, cause: options.causeOf?.(node) ?? 'node-down', stack: command.stack, service: command.service, moved, seconds: (clock.nowMs() - heard) / 1000 };
        logger.info({ event: 'failover', ...event }, 'replicas of a down node placed elsewhere');
        options.onEvent?.(event);
      }
    },
    held: () => held,
    stop: () => wakeAtMs(undefined),
  };
}
