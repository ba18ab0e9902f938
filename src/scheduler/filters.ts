/**
 * The filter chain. Each filter answers one question about one node for one service, and can say
 * why the answer is no. The hot path (`acceptsNew`, `meetsConstraints`, `hasRoom`) only answers;
 * `explainRejections` runs when a replica fits nowhere and names every filter that said no.
 */
import { attributeOf, constraintHolds } from './constraints.ts';
import type { NodeLedger } from './node-ledger.ts';
import type { ServiceNeeds } from './service-needs.ts';
import type { PlanOptions, Rejection, SchedulerNode } from './types.ts';

/** Availability and status: may the node take a replica it does not run yet? */
export function acceptsNew(node: SchedulerNode): boolean {
  return node.availability === 'active' && node.status === 'ready';
}

/**
 * May a replica the node already runs stay there? Pause keeps replicas, drain moves them; a node
 * that left will not run them again; a down node keeps them unless the caller replaces them.
 */
export function keepsExisting(node: SchedulerNode, options: PlanOptions, needs: ServiceNeeds): boolean {
  if (node.availability === 'drain' || node.status === 'left') return false;
  if (node.status !== 'down') return true;
  const replace = options.replaceOnDown;
  if (typeof replace !== 'function') return replace !== true;
  // A VPN group moves whole, and only when every member may move (one at-most-once member holds
  // the group where it is, since a dependent cannot run anywhere but beside its VPN).
  return ![needs.service, ...needs.groupMembers].every((service) => replace(needs.stack, service, node.id));
}

export function meetsConstraints(needs: ServiceNeeds, node: SchedulerNode): boolean {
  if (needs.constraintErrors.length > 0) return false;
  for (const constraint of needs.constraints) if (!constraintHolds(constraint, node)) return false;
  return true;
}

/** The filters that depend on what is placed so far: replicas per node, reservations, host ports. */
export function hasRoom(needs: ServiceNeeds, ledger: NodeLedger, index: number, node: SchedulerNode, replicasOfServiceOnNode: number): boolean {
  if (needs.maxPerNode !== undefined && replicasOfServiceOnNode >= needs.maxPerNode) return false;
  if (needs.nanoCpus > 0 && ledger.nanoCpus[index]! + needs.nanoCpus > node.capacity.nanoCpus) return false;
  if (needs.memoryBytes > 0 && ledger.memoryBytes[index]! + needs.memoryBytes > node.capacity.memoryBytes) return false;
  return needs.bindings.length === 0 || ledger.portClash(index, needs) === undefined;
}

/** Every reason the node takes no new replica of the service, filter by filter. */
export function explainRejections(needs: ServiceNeeds, ledger: NodeLedger, index: number, node: SchedulerNode, replicasOfServiceOnNode: number): Rejection[] {
  const reasons: Rejection[] = [];
  const reject = (filter: Rejection['filter'], message: string): void => {
    reasons.push({ nodeId: node.id, filter, message });
  };
  if (node.availability !== 'active') {
    reject('availability', node.availability === 'pause' ? 'node is paused: it keeps its replicas but takes no new ones' : 'node is draining: its replicas move elsewhere');
  }
  if (node.status !== 'ready') reject('status', `node is ${node.status}: only ready nodes take new replicas`);
  for (const error of needs.constraintErrors) reject('constraint', error.message);
  for (const constraint of needs.constraints) {
    if (constraintHolds(constraint, node)) continue;
    const actual = attributeOf(node, constraint.attribute);
    reject('constraint', `constraint "${constraint.text.trim()}" does not hold: ${constraint.attributeName} is ${actual === undefined ? 'not set' : `"${actual}"`}`);
  }
  if (needs.maxPerNode !== undefined && replicasOfServiceOnNode >= needs.maxPerNode) {
    reject('max-replicas-per-node', `node runs ${replicasOfServiceOnNode} replica(s) of ${needs.owner}, max_replicas_per_node is ${needs.maxPerNode}`);
  }
  if (needs.nanoCpus > 0 && ledger.nanoCpus[index]! + needs.nanoCpus > node.capacity.nanoCpus) {
    const free = Math.max(0, node.capacity.nanoCpus - ledger.nanoCpus[index]!);
    reject('resources', `reserves ${cpus(needs.nanoCpus)} CPU, node has ${cpus(free)} of ${cpus(node.capacity.nanoCpus)} CPU unreserved`);
  }
  if (needs.memoryBytes > 0 && ledger.memoryBytes[index]! + needs.memoryBytes > node.capacity.memoryBytes) {
    const free = Math.max(0, node.capacity.memoryBytes - ledger.memoryBytes[index]!);
    reject('resources', `reserves ${mib(needs.memoryBytes)} memory, node has ${mib(free)} of ${mib(node.capacity.memoryBytes)} unreserved`);
  }
  const clash = needs.bindings.length === 0 ? undefined : ledger.portClash(index, needs);
  if (clash) reject('ports', `host port ${clash.port} is already bound on the node by ${clash.owner === needs.owner ? 'another replica of this service' : clash.owner}`);
  return reasons;
}

function cpus(nanoCpus: number): string {
  return String(Math.round(nanoCpus / 1e6) / 1e3);
}

function mib(bytes: number): string {
  return `${Math.round((bytes / 2 ** 20) * 10) / 10} MiB`;
}
