import { worstLink } from '../orchestrator/vpn-link/agent-vpn-links.ts';
import type { ContainerView, ServiceStatus } from '../actors/agent-types.ts';
import { hasHealthcheck } from '../agent/container-request.ts';
import type { ClusterStateData } from '../cluster/state.ts';
import type { PendingReplica } from '../scheduler/types.ts';
import type { BoardSnapshot } from './status-board.ts';

/** A replica as the cluster-wide API shows it: with the node that runs it. */
export type ClusterContainerView = ContainerView & { readonly node: string };

export function clusterContainers(board: BoardSnapshot): ClusterContainerView[] {
  return board.flatMap((report) => report.containers.map((container) => ({ ...container, node: report.nodeId })));
}

function pendingMessage(pending: readonly PendingReplica[]): string | undefined {
  if (pending.length === 0) return undefined;
  const reasons = [...new Set(pending[0]!.reasons.map((reason) => `${reason.nodeId}: ${reason.message}`))];
  return `${pending.length} replica(s) fit no node: ${reasons.length > 0 ? reasons.join('; ') : 'no node is ready'}`;
}

/**
 * One status per desired service across the cluster: each node reports the slots it runs, the
 * sum is compared with what the spec asks for, and replicas the scheduler could not place say why.
 */
export function clusterServices(state: Readonly<ClusterStateData>, board: BoardSnapshot, pending: readonly PendingReplica[]): ServiceStatus[] {
  const out: ServiceStatus[] = [];
  for (const stack of Object.values(state.stacks)) {
    for (const spec of stack.spec.services) {
      const reports = board.flatMap((report) => report.services.filter((status) => status.stack === stack.name && status.service === spec.name));
      const placed = Object.keys(state.placements[stack.name]?.[spec.name]?.slots ?? {}).length;
      const waiting = pending.filter((replica) => replica.stack === stack.name && replica.service === spec.name);
      const desired = spec.deploy.mode === 'global' ? placed + waiting.length : spec.deploy.replicas;
      const reported = reports.reduce((sum, status) => sum + status.desiredReplicas, 0);
      const vpn = worstLink(reports.flatMap((status) => (status.vpn ? [status.vpn] : [])));
      const message = pendingMessage(waiting) ?? reports.find((status) => status.message !== undefined)?.message ?? (placed < desired ? 'waiting for the scheduler' : undefined);
      out.push({
        stack: stack.name,
        service: spec.name,
        image: spec.image,
        desiredReplicas: desired,
        running: reports.reduce((sum, status) => sum + status.running, 0),
        healthy: reports.reduce((sum, status) => sum + status.healthy, 0),
        healthcheck: hasHealthcheck(spec) || reports.some((status) => status.healthcheck === true),
        removing: reports.reduce((sum, status) => sum + (status.removing ?? 0), 0),
        converged: waiting.length === 0 && placed === desired && reported === desired && reports.every((status) => status.converged),
        failed: reports.some((status) => status.failed),
        ...(message !== undefined ? { message } : {}),
        ...(vpn !== undefined ? { vpn } : {}),
      });
    }
  }
  return out;
}
