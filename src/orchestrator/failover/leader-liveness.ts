/**
 * The leader's liveness view: one node machine per node record (src/machines/node.ts, supervised
 * by src/actors/node-membership.ts) while this daemon leads, nothing while it follows. What the
 * scheduler reads as a node's status, and what the failover policy reads as "last heard".
 *
 * A leader that takes over starts every node `unknown`: ready on its first heartbeat, down after
 * one grace if it stays silent. Nothing moves in between (unknown takes no new work and keeps its
 * own), so a leader change reschedules nothing that keeps heartbeating.
 */
import type { Logger } from 'pino';
import type { AnyActorRef } from 'xstate';
import { startNodeMembership, type MembershipEvent, type NodeMembership } from '../../actors/node-membership.ts';
import type { NodeRecord } from '../../cluster/commands.ts';
import type { NodeTiming } from '../../machines/node-timing.ts';
import type { NodeStatus as MachineStatus } from '../../machines/node-types.ts';
import type { NodeStatus } from '../../scheduler/types.ts';
import type { Clock } from '../../seams/clock.ts';
import type { NodeLivenessView } from './failover-policy.ts';

export interface LeaderLiveness {
  /** This daemon became leader: every known node starts unknown, timed from now. */
  lead(records: readonly NodeRecord[]): void;
  /** This daemon no longer leads: forget everything (a later term starts afresh). */
  follow(): void;
  leading(): boolean;
  /** When this daemon became leader (its clock); undefined while it follows. */
  leaderSinceMs(): number | undefined;
  /** Keep one machine per record (new records start joining, removed ones stop). */
  sync(records: readonly NodeRecord[]): void;
  /** A heartbeat this leader answers. False when no record of the node is known. */
  heartbeat(nodeId: string): boolean;
  /** The status the scheduler sees; `unknown` reads as `suspect` (keeps its work, takes none). */
  statusOf(nodeId: string): NodeStatus;
  view(nodeId: string): NodeLivenessView;
  /** Told of every status change while leading. */
  subscribe(listener: (event: MembershipEvent) => void): () => void;
  /** The node machines' actor system while leading (for the inspector), else undefined. */
  membershipActor(): AnyActorRef | undefined;
  stop(): void;
}

export function createLeaderLiveness(options: { selfId: string; clock: Clock; logger: Logger; timing: NodeTiming }): LeaderLiveness {
  const { clock } = options;
  let membership: NodeMembership | undefined;
  let since: number | undefined;
  const lastHeard = new Map<string, number>();
  let syncedKey = '';
  const listeners = new Set<(event: MembershipEvent) => void>();
  const toMembership = (records: readonly NodeRecord[]) => records.map((record) => ({ id: record.id, availability: record.availability ?? 'active' }));

  const follow = (): void => {
    membership?.stop();
    membership = undefined;
    since = undefined;
    syncedKey = '';
    lastHeard.clear();
  };
  const statusOf = (nodeId: string): NodeStatus => {
    // The leader is alive by definition, and must not wait for its own first beat to place work.
    if (nodeId === options.selfId && membership) return 'ready';
    const status: MachineStatus | undefined = membership?.node(nodeId)?.status;
    if (status === undefined) return membership ? 'down' : 'suspect';
    return status === 'unknown' ? 'suspect' : status;
  };
  return {
    lead: (records) => {
      follow();
      since = clock.nowMs();
      syncedKey = JSON.stringify(toMembership(records));
      membership = startNodeMembership({
        clock,
        logger: options.logger,
        timing: options.timing,
        nodes: toMembership(records),
        startAs: 'unknown',
        onEvent: (event) => {
          for (const listener of listeners) listener(event);
        },
      });
    },
    follow,
    leading: () => membership !== undefined,
    leaderSinceMs: () => since,
    sync: (records) => {
      if (!membership) return;
      // Called on every applied entry: only a change of the records themselves reaches the machines.
      const wanted = toMembership(records);
      const key = JSON.stringify(wanted);
      if (key === syncedKey) return;
      syncedKey = key;
      membership.sync(wanted);
    },
    heartbeat: (nodeId) => {
      if (!membership) return false;
      lastHeard.set(nodeId, clock.nowMs());
      return membership.heartbeat(nodeId);
    },
    statusOf,
    view: (nodeId) => {
      const heard = lastHeard.get(nodeId);
      return { status: statusOf(nodeId), ...(heard === undefined ? {} : { lastHeardMs: heard }) };
    },
    subscribe: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    membershipActor: () => membership?.actor,
    stop: follow,
  };
}
