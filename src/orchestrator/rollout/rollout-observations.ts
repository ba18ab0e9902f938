import type { ContainerView } from '../../actors/agent-types.ts';
import { hasHealthcheck } from '../../agent/container-request.ts';
import { serviceSpecHash } from '../../agent/spec-hash.ts';
import type { ServiceRolloutRecord } from '../../cluster/rollout-records.ts';
import { serviceSpecAt } from '../../cluster/slot-versions.ts';
import type { ClusterStateData } from '../../cluster/state.ts';
import type { SlotHealth, SlotObservation } from '../../machines/rollout-types.ts';

/**
 * What the rollout machine sees of one service: per slot, the replica running the target spec and
 * the one running the slot's previous spec. Pure: containers are the agent's (single node) or the
 * cluster board's (every node) view.
 */
export interface ServiceObservation {
  readonly target: Record<number, SlotObservation>;
  readonly previous: Record<number, SlotObservation>;
}

/** A replica on its way out is no replica of anything: it is absent, not failed. */
const leaving = new Set(['stopping', 'removing', 'removed']);

export function slotHealth(container: ContainerView, healthcheck: boolean): SlotObservation | undefined {
  if (leaving.has(container.state)) return undefined;
  const why = container.message ? `: ${container.message}` : '';
  switch (container.state) {
    case 'running': {
      if (container.health === 'unhealthy') return { health: 'failed', message: `${container.name} is unhealthy` };
      // An image's own HEALTHCHECK counts as much as the file's.
      if (container.health === 'healthy' || (!healthcheck && container.health === 'none')) return { health: 'healthy' };
      return { health: 'starting' };
    }
    case 'exited':
      return { health: 'failed', message: `${container.name} exited with code ${container.exitCode ?? 'unknown'}${why}` };
    case 'backoff':
    case 'failed':
    case 'engine-backoff':
      return { health: 'failed', message: `${container.name} ${container.state === 'failed' ? 'failed' : 'is restarting'}${why}` };
    default:
      return { health: 'starting' };
  }
}

const rank: Record<SlotHealth, number> = { healthy: 2, starting: 1, failed: 0 };

export function observeService(state: Readonly<ClusterStateData>, stack: string, service: string, part: ServiceRolloutRecord, containers: readonly ContainerView[]): ServiceObservation {
  const targetSpec = state.stacks[stack]?.spec.services.find((spec) => spec.name === service);
  const target: Record<number, SlotObservation> = {};
  const previous: Record<number, SlotObservation> = {};
  if (!targetSpec) return { target, previous };
  const targetHash = serviceSpecHash(targetSpec);
  const previousOf = new Map<number, { hash: string; healthcheck: boolean }>();
  for (const [slot, version] of Object.entries(part.from)) {
    const spec = serviceSpecAt(state, stack, service, version);
    if (spec) previousOf.set(Number(slot), { hash: serviceSpecHash(spec), healthcheck: hasHealthcheck(spec) });
  }
  const keep = (into: Record<number, SlotObservation>, slot: number, observation: SlotObservation) => {
    // Two replicas of one slot and version (a cluster's stale copy): the better one speaks.
    const before = into[slot];
    if (!before || rank[observation.health] > rank[before.health]) into[slot] = observation;
  };
  for (const container of containers) {
    if (container.stack !== stack || container.service !== service) continue;
    const before = previousOf.get(container.slot);
    const isTarget = container.specHash === targetHash;
    if (!isTarget && before?.hash !== container.specHash) continue;
    const observation = slotHealth(container, isTarget ? hasHealthcheck(targetSpec) : before!.healthcheck);
    if (observation) keep(isTarget ? target : previous, container.slot, observation);
  }
  return { target, previous };
}

/**
 * Whether every slot of the stack's current version runs healthy (or running without a
 * healthcheck, or completed): the version is then stable, a target for `rollback`.
 */
export function stackHealthy(state: Readonly<ClusterStateData>, stack: string, containers: readonly ContainerView[], slotsOf: (spec: NonNullable<ClusterStateData['stacks'][string]>['spec']['services'][number]) => readonly number[]): boolean {
  const record = state.stacks[stack];
  if (!record) return false;
  for (const spec of record.spec.services) {
    const hash = serviceSpecHash(spec);
    const healthcheck = hasHealthcheck(spec);
    const good = new Set<number>();
    for (const c of containers) {
      if (c.stack !== stack || c.service !== spec.name || c.specHash !== hash) continue;
      const completed = c.state === 'exited' && c.exitCode === 0;
      if (completed || slotHealth(c, healthcheck)?.health === 'healthy') good.add(c.slot);
    }
    if (!slotsOf(spec).every((slot) => good.has(slot))) return false;
  }
  return true;
}
