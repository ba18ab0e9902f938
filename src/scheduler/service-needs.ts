/**
 * What one service asks of a node, worked out once per plan rather than once per node: parsed
 * constraints and preferences, reservations in integer units, and its host port bindings.
 */
import { nodeBindings, type HostBinding } from '../compose/host-port-table.ts';
import type { ServiceSpec } from '../compose/types.ts';
import { isConstraintError, parseConstraint, type Constraint, type ConstraintError } from './constraints.ts';
import { parsePreference, type SpreadPreference } from './preferences.ts';

export interface ServiceNeeds {
  readonly stack: string;
  readonly service: string;
  /** "stack/service": who owns a host port, in messages. */
  readonly owner: string;
  readonly spec: ServiceSpec;
  readonly constraints: readonly Constraint[];
  /**
   * Constraints that do not parse. Validation refuses them at deploy time; one that still reaches
   * the scheduler (written before validation existed) holds on no node, so nothing runs somewhere
   * the user did not mean.
   */
  readonly constraintErrors: readonly ConstraintError[];
  /** Canonical text of the node-only filters (constraints): services alike share one eligibility pass. */
  readonly constraintKey: string;
  readonly preferences: readonly SpreadPreference[];
  readonly nanoCpus: number;
  readonly memoryBytes: number;
  readonly bindings: readonly HostBinding[];
  readonly maxPerNode: number | undefined;
}

export function serviceNeeds(stack: string, spec: ServiceSpec): ServiceNeeds {
  const placement = spec.deploy.placement;
  const constraints: Constraint[] = [];
  const constraintErrors: ConstraintError[] = [];
  for (const text of placement.constraints) {
    const parsed = parseConstraint(text);
    if (isConstraintError(parsed)) constraintErrors.push(parsed);
    else constraints.push(parsed);
  }
  const preferences = placement.preferences.map(parsePreference).filter((p): p is SpreadPreference => !('code' in p));
  const reservations = spec.deploy.resources.reservations;
  const max = placement.maxReplicasPerNode;
  return {
    stack,
    service: spec.name,
    owner: `${stack}/${spec.name}`,
    spec,
    constraints,
    constraintErrors,
    constraintKey: constraintErrors.length > 0 ? '\0invalid' : [...placement.constraints].map((c) => c.trim()).sort().join('\n'),
    preferences,
    // Integer nano-CPUs, so sums of fractional CPUs compare exactly.
    nanoCpus: Math.max(0, Math.round((reservations.cpus ?? 0) * 1e9)),
    memoryBytes: Math.max(0, reservations.memoryBytes ?? 0),
    // Only host-mode ports bind on the node; ingress ports are reserved cluster-wide at deploy.
    bindings: nodeBindings(spec.ports),
    // 0 means "no limit" in Swarm's max_replicas_per_node.
    maxPerNode: max !== undefined && max > 0 ? max : undefined,
  };
}
