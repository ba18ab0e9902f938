/**
 * Whether a node's copy of a slot is up, as the leader's status board last heard it: running the
 * service's current spec, and healthy where a healthcheck exists (a replica without one reports
 * health `none`, and running is all that can be known). The rebalance completes a start-first
 * move only on this answer, so a copy that is still starting, restarting or unhealthy never
 * replaces the one that runs.
 */
import type { ContainerView } from '../../actors/agent-types.ts';
import { serviceSpecHash } from '../../agent/spec-hash.ts';
import type { ClusterStateData } from '../../cluster/state.ts';

export function replicaReadyOnBoard(report: (nodeId: string) => { readonly containers: readonly ContainerView[] } | undefined, current: () => Readonly<ClusterStateData>) {
  return (nodeId: string, stack: string, service: string, slot: number): boolean => {
    const spec = current().stacks[stack]?.spec.services.find((s) => s.name === service);
    if (!spec) return false;
    const hash = serviceSpecHash(spec);
    return (report(nodeId)?.containers ?? []).some(
      (c) => c.stack === stack && c.service === service && c.slot === slot && c.specHash === hash && c.state === 'running' && (c.health === 'healthy' || c.health === 'none'),
    );
  };
}
