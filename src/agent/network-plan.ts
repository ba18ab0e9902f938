import type { DesiredService } from './desired.ts';
import { serviceKey } from './desired.ts';

/**
 * Which of this node's stack networks to remove: a network is removed once nothing desired joins
 * it and no container that could still be attached to it is left — for a removed stack, none of
 * its containers; for a stack still deployed (a network dropped from its file), none with an
 * outdated spec. Pure, like the planner that calls it. External networks carry none of our
 * labels, so they are never listed here and never removed.
 */
export interface EngineNetwork {
  readonly id: string;
  readonly name: string;
  /** The `constellation.stack` label: the stack that made it. */
  readonly stack: string;
}

/** A container of this node as the network rule needs to see it. */
export interface StackContainer {
  readonly stack: string;
  readonly service: string;
  readonly specHash: string;
}

export function networksToRemove(
  desired: readonly DesiredService[],
  containers: readonly StackContainer[],
  networks: readonly EngineNetwork[],
  removing: Readonly<Record<string, unknown>>,
): EngineNetwork[] {
  const wanted = new Set<string>();
  for (const d of desired) {
    if (d.spec.networkMode !== undefined) continue;
    for (const membership of d.spec.networks ?? []) if (!membership.network.external) wanted.add(membership.network.name);
  }
  // Every spec a service's slots may run (an unfinished rollout keeps some on an older one).
  const hashes = new Map(desired.map((d) => [serviceKey(d.stack, d.service), new Set([d.specHash, ...Object.values(d.slotSpecs ?? {}).map((s) => s.specHash), ...Object.values(d.surge ?? {}).map((s) => s.specHash)])]));
  // Stacks with a container that may still be attached to a network the stack no longer wants.
  const busy = new Set(containers.filter((c) => !hashes.get(serviceKey(c.stack, c.service))?.has(c.specHash)).map((c) => c.stack));
  return networks.filter((n) => !wanted.has(n.name) && !busy.has(n.stack) && removing[n.name] === undefined);
}
