import type { ServiceSpec, StackSpec } from '../compose/types.ts';
import { replicasAllowedOnOneNode } from '../compose/replica-limits.ts';
import type { ClusterStateData } from './state.ts';

/**
 * Which version of its service each replica slot runs. A changed deploy does not switch every
 * slot at once: the stack's rollout record lists the slots that still run an older version, and
 * the rollout machine's `switched` (committed through the log) says which have moved. Pure and
 * deterministic: the apply function and every node agent compute the same answer.
 */

/** The stack version slot `slot` of `service` runs. */
export function slotVersion(state: Readonly<ClusterStateData>, stack: string, service: string, slot: number): number | undefined {
  const record = state.stacks[stack];
  if (!record) return undefined;
  const part = state.rollouts?.[stack]?.services[service];
  const key = String(slot);
  if (!part || part.revertedBy !== undefined || !Object.hasOwn(part.from, key)) return record.version;
  return part.progress?.switched.includes(slot) ? record.version : part.from[key];
}

/**
 * start-first: the version of a second replica that starts beside slot `slot` until it is healthy
 * (the target while updating, the slot's old version while rolling back); undefined when none.
 */
export function surgeVersion(state: Readonly<ClusterStateData>, stack: string, service: string, slot: number): number | undefined {
  const record = state.stacks[stack];
  const part = state.rollouts?.[stack]?.services[service];
  const progress = part?.progress;
  if (!record || !part || part.revertedBy !== undefined || !progress?.surge.includes(slot)) return undefined;
  return progress.phase === 'rolling-back' ? part.from[String(slot)] : record.version;
}

/** The stack's spec at `version`: the current one, else from history (undefined once trimmed). */
export function stackSpecAt(state: Readonly<ClusterStateData>, stack: string, version: number): StackSpec | undefined {
  const record = state.stacks[stack];
  if (record?.version === version) return record.spec;
  return state.history?.[stack]?.find((entry) => entry.version === version)?.spec;
}

/** One service's spec at `version`, falling back to the current spec when that version is gone. */
export function serviceSpecAt(state: Readonly<ClusterStateData>, stack: string, service: string, version: number): ServiceSpec | undefined {
  const at = stackSpecAt(state, stack, version)?.services.find((spec) => spec.name === service);
  return at ?? state.stacks[stack]?.spec.services.find((spec) => spec.name === service);
}

/**
 * The slots a service has now: the cluster's placement when there is one, else (a single node)
 * 1..replicas as the agent runs them.
 */
export function serviceSlots(state: Readonly<ClusterStateData>, stack: string, spec: ServiceSpec): number[] {
  const placed = state.placements[stack]?.[spec.name];
  if (placed) return Object.keys(placed.slots).map(Number).sort((a, b) => a - b);
  return Array.from({ length: replicasAllowedOnOneNode(spec) }, (_, index) => index + 1);
}
