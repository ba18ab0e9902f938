/**
 * How many replicas one stack may ask for. Every replica becomes a supervised container actor,
 * a child of the node agent, and the planner walks every slot on every pass: a file saying
 * `replicas: 100000000` would be saved and then exhaust the daemon's memory — again on every
 * restart, since the spec is durable. So the loader refuses it before anything is written.
 *
 * Why 1000: XState copies a parent's whole children object each time a child is spawned or
 * stopped, so a parent with 10k children takes ~30 s to stop (DESIGN.md, verified); the agent is
 * that parent, and a few hundred to a thousand children per stack keeps start, stop and redeploy
 * within seconds (≈ 2.2 KiB each). 1000 is far above what one node runs of one stack in practice
 * (at ≈ 0.3–0.5 s per container start, 1000 replicas already take minutes to come up), so no
 * sensible file is refused. The same number bounds the whole stack, because the children of all
 * its services share that one parent.
 * A global-mode service counts 1: one replica on this single node.
 */
import { composeCodes } from './compose-codes.ts';
import type { DiagnosticSink } from './diagnostics.ts';
import type { ServiceSpec } from './types.ts';
import type { KeyPath } from './yaml-source.ts';

export const maxReplicasPerService = 1000;
export const maxReplicasPerStack = 1000;

/** Replicas this service runs on one node: global mode is one per node. */
export function replicasOnOneNode(service: ServiceSpec): number {
  return service.deploy.mode === 'global' ? 1 : service.deploy.replicas;
}

/**
 * Replicas this service may run on one node: `deploy.placement.max_replicas_per_node` caps
 * replicasOnOneNode. With a single node the rest stay pending (the node agent says why); the
 * cluster scheduler will place them on other nodes.
 */
export function replicasAllowedOnOneNode(service: ServiceSpec): number {
  const max = service.deploy.placement.maxReplicasPerNode;
  return max === undefined ? replicasOnOneNode(service) : Math.min(max, replicasOnOneNode(service));
}

/** The per-service cap, applied where `deploy.replicas` or `scale` is read. */
export function checkServiceReplicas(replicas: number | undefined, path: KeyPath, sink: DiagnosticSink): number | undefined {
  if (replicas === undefined || replicas <= maxReplicasPerService) return replicas;
  sink.error(path, composeCodes.tooManyReplicas,
    `${replicas} replicas is more than the ${maxReplicasPerService} a service may have (each replica is a supervised actor in the daemon); lower it`);
  return undefined;
}

/**
 * The per-stack cap, reported at the service that takes the total over it, at the key that set
 * its replica count (`deploy.replicas`, else `scale`).
 */
export function checkStackReplicas(services: readonly ServiceSpec[], raw: Readonly<Record<string, Record<string, unknown> | null>>, sink: DiagnosticSink): void {
  const total = services.reduce((sum, service) => sum + replicasOnOneNode(service), 0);
  if (total <= maxReplicasPerStack) return;
  let running = 0;
  const culprit = services.find((service) => (running += replicasOnOneNode(service)) > maxReplicasPerStack)!;
  const serviceRaw = raw[culprit.name] ?? {};
  const deploy = serviceRaw.deploy as Record<string, unknown> | null | undefined;
  const key: KeyPath = deploy?.replicas !== undefined && deploy.replicas !== null ? ['deploy', 'replicas'] : serviceRaw.scale !== undefined ? ['scale'] : [];
  sink.error(['services', culprit.name, ...key], composeCodes.tooManyReplicas,
    `the stack asks for ${total} replicas in total, more than the ${maxReplicasPerStack} a stack may have (each replica is a supervised actor in the daemon); lower the replica counts`);
}
