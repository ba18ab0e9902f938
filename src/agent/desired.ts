import type { ClusterStateData } from '../cluster/state.ts';
import type { ServiceSpec } from '../compose/types.ts';
import { replicasAllowedOnOneNode, replicasOnOneNode } from '../compose/replica-limits.ts';
import { serviceSpecHash } from './spec-hash.ts';

/** One service as this node must run it. */
export interface DesiredService {
  readonly stack: string;
  readonly service: string;
  readonly spec: ServiceSpec;
  readonly specHash: string;
  /** Replicas this node runs: what the service asks for, capped by max_replicas_per_node. */
  readonly replicas: number;
  /** Replicas the service asks for on one node; more than `replicas` when the cap holds some back. */
  readonly requested: number;
}

/**
 * Flattens cluster state into the services this node runs. One node runs everything; the
 * scheduler will narrow this per node when the cluster grows. A global service runs once here.
 */
export function desiredServices(state: Readonly<ClusterStateData>): DesiredService[] {
  const out: DesiredService[] = [];
  for (const stack of Object.values(state.stacks)) {
    for (const spec of stack.spec.services) {
      out.push({
        stack: stack.name,
        service: spec.name,
        spec,
        specHash: serviceSpecHash(spec),
        replicas: replicasAllowedOnOneNode(spec),
        requested: replicasOnOneNode(spec),
      });
    }
  }
  return out;
}

export function serviceKey(stack: string, service: string): string {
  return `${stack}_${service}`;
}
