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
  /**
   * The dependents of a VPN group placed with this service as one unit (see groupNeeds); empty
   * for a service placed on its own.
   */
  readonly groupMembers: readonly string[];
  /** Containers one replica runs on its node: 1, or 1 + dependents for a VPN group. */
  readonly containers: number;
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
    groupMembers: [],
    containers: 1,
  };
}

/**
 * What one replica of a VPN group asks of its node, placed as a unit: replica i of the VPN and
 * replica i of every dependent always run on one node (src/compose/vpn-groups.ts). So a node must
 * meet the union of the members' constraints and hold the sum of their reservations and all their
 * host ports (the dependents publish none: their ports are the VPN's). The VPN's preferences
 * rank the nodes; max_replicas_per_node is the smallest any member sets.
 */
export function groupNeeds(stack: string, vpn: ServiceSpec, dependents: readonly ServiceSpec[]): ServiceNeeds {
  const lead = serviceNeeds(stack, vpn);
  if (dependents.length === 0) return lead;
  const members = [lead, ...dependents.map((spec) => serviceNeeds(stack, spec))];
  const constraintErrors = members.flatMap((m) => m.constraintErrors);
  const texts = [...new Set(members.flatMap((m) => m.spec.deploy.placement.constraints.map((c) => c.trim())))].sort();
  const maxes = members.map((m) => m.maxPerNode).filter((max): max is number => max !== undefined);
  return {
    ...lead,
    constraints: members.flatMap((m) => m.constraints),
    constraintErrors,
    constraintKey: constraintErrors.length > 0 ? '\0invalid' : texts.join('\n'),
    nanoCpus: members.reduce((sum, m) => sum + m.nanoCpus, 0),
    memoryBytes: members.reduce((sum, m) => sum + m.memoryBytes, 0),
    bindings: members.flatMap((m) => m.bindings),
    maxPerNode: maxes.length === 0 ? undefined : Math.min(...maxes),
    groupMembers: dependents.map((spec) => spec.name),
    containers: members.length,
  };
}
