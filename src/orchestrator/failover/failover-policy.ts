/**
 * Which replicas of down nodes may be replaced now: a pure function of the replicated state, the
 * leader's liveness view and the time, so a plan stays a function of its input and a test can
 * ask "at t, what moves?" without clocks or sockets.
 *
 * - at-least-once replicas of a down node are replaced at once (the node may still run its copy:
 *   availability first, as Swarm);
 * - at-most-once replicas only once the node's lease has surely run out and its copy is stopped
 *   (failover-timing.ts); until then they stay put, and `nextCheckAtMs` says when to look again.
 */
import type { ClusterStateData } from '../../cluster/state.ts';
import type { NodeStatus } from '../../scheduler/types.ts';
import { deliveryMode } from './delivery-mode.ts';
import { replaceDelayMs, type FailoverTiming } from './failover-timing.ts';

export interface NodeLivenessView {
  readonly status: NodeStatus;
  /** When this leader last heard the node (its own clock); absent if never since it leads. */
  readonly lastHeardMs?: number;
}

export interface FailoverInput {
  readonly state: Readonly<ClusterStateData>;
  readonly liveness: (nodeId: string) => NodeLivenessView;
  readonly leaderSinceMs: number;
  readonly nowMs: number;
  readonly timing: FailoverTiming;
}

export interface HeldReplica {
  readonly stack: string;
  readonly service: string;
  readonly slot: number;
  readonly node: string;
  /** When its replacement may be placed. */
  readonly untilMs: number;
}

export interface FailoverDecision {
  /** For the scheduler's `replaceOnDown`: may this service's replica on this down node move? */
  readonly replace: (stack: string, service: string, nodeId: string) => boolean;
  readonly held: readonly HeldReplica[];
  /** The earliest time a held replica becomes replaceable. */
  readonly nextCheckAtMs?: number;
}

export function decideFailover(input: FailoverInput): FailoverDecision {
  const { state, timing } = input;
  const held: HeldReplica[] = [];
  const heldKeys = new Set<string>();
  for (const stack of Object.values(state.stacks)) {
    const services = state.placements[stack.name];
    if (!services) continue;
    for (const spec of stack.spec.services) {
      const placement = Object.hasOwn(services, spec.name) ? services[spec.name] : undefined;
      if (!placement || deliveryMode(spec) !== 'at-most-once') continue;
      for (const [slot, nodeId] of Object.entries(placement.slots)) {
        const view = input.liveness(nodeId);
        if (view.status !== 'down') continue;
        // Workers hold the same lease as managers: their manager acks a beat for the lease only
        // once this leader took it (src/cluster-mode/worker/session-server.ts), so the lease runs
        // out no later than for a manager last heard at the same time.
        // The latest a lease can have been granted: our own last answer, or the predecessor's.
        const grantedUpTo = Math.max(view.lastHeardMs ?? Number.NEGATIVE_INFINITY, input.leaderSinceMs + timing.handoverMs);
        const untilMs = grantedUpTo + replaceDelayMs(timing, spec.stopGracePeriodMs);
        if (input.nowMs >= untilMs) continue;
        held.push({ stack: stack.name, service: spec.name, slot: Number(slot), node: nodeId, untilMs });
        heldKeys.add(key(stack.name, spec.name, nodeId));
      }
    }
  }
  const next = held.reduce((min, replica) => Math.min(min, replica.untilMs), Number.POSITIVE_INFINITY);
  // (Infinity: only held forever, nothing to wake for.)
  return {
    replace: (stack, service, nodeId) => !heldKeys.has(key(stack, service, nodeId)),
    held,
    ...(Number.isFinite(next) ? { nextCheckAtMs: next } : {}),
  };
}

const key = (stack: string, service: string, node: string): string => JSON.stringify([stack, service, node]);
