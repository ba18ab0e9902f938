import type { HealthState } from '../seams/container-runtime.ts';
import type { ContainerPhase } from '../machines/container-types.ts';
import { type DesiredService, specForSlot, wantsSlot } from '../agent/desired.ts';
import type { EngineContainer, ObservedReplica } from '../agent/plan.ts';
import type { ContainerView, ServiceStatus } from './agent-types.ts';
import { hasHealthcheck } from '../agent/container-request.ts';

/** The node agent's record of one supervised replica (its child actor and last report). */
export interface ChildEntry {
  readonly actorId: string;
  readonly name: string;
  readonly stack: string;
  readonly service: string;
  readonly slot: number;
  readonly specHash: string;
  readonly image: string;
  readonly phase: ContainerPhase;
  readonly health: HealthState;
  readonly containerId?: string;
  readonly exitCode?: number;
  readonly restarts: number;
  readonly message?: string;
  readonly removing: boolean;
  /** Agent epoch when the phase last changed; a listing started before it cannot judge it. */
  readonly sinceEpoch: number;
  /** A VPN group's dependent: the id of the container whose network it joined (`container:<id>`). */
  readonly networkTarget?: string;
  /** When its current run began, by the engine's clock (start events, listings of VPN group members). */
  readonly startedAtMs?: number;
}

export function toObserved(child: ChildEntry): ObservedReplica {
  return {
    name: child.name,
    stack: child.stack,
    service: child.service,
    slot: child.slot,
    specHash: child.specHash,
    phase: child.phase,
    health: child.health,
    removing: child.removing,
    ...(child.exitCode !== undefined ? { exitCode: child.exitCode } : {}),
    ...(child.containerId !== undefined ? { containerId: child.containerId } : {}),
  };
}

export function toView(child: ChildEntry): ContainerView {
  return {
    name: child.name,
    stack: child.stack,
    service: child.service,
    slot: child.slot,
    image: child.image,
    specHash: child.specHash,
    state: child.phase,
    health: child.health,
    restarts: child.restarts,
    ...(child.containerId !== undefined ? { containerId: child.containerId } : {}),
    ...(child.exitCode !== undefined ? { exitCode: child.exitCode } : {}),
    ...(child.message !== undefined ? { message: child.message } : {}),
  };
}

export function phaseCounts(children: Iterable<ChildEntry>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const c of children) counts[c.phase] = (counts[c.phase] ?? 0) + 1;
  return counts;
}

export function serviceStatuses(
  desired: readonly DesiredService[],
  children: Iterable<ChildEntry>,
  waiting: readonly { stack: string; service: string; reason: string }[],
): ServiceStatus[] {
  const all = [...children];
  return desired.map((d) => {
    const mine = all.filter((c) => c.stack === d.stack && c.service === d.service);
    const current = mine.filter((c) => c.specHash === specForSlot(d, c.slot).specHash && wantsSlot(d, c.slot) && !c.removing);
    const running = current.filter((c) => c.phase === 'running');
    const needsHealth = hasHealthcheck(d.spec);
    // Healthy means a healthcheck said so: a replica without one (health "none") is running only.
    // An image's own HEALTHCHECK counts too, though the file declares none.
    const healthy = running.filter((c) => c.health === 'healthy');
    const healthcheck = needsHealth || current.some((c) => c.health !== 'none');
    // Replicas that exited and will not be restarted (restart_policy none, or on-failure after a
    // clean exit): a clean exit is a completed job, anything else a failure that needs a human.
    const completed = current.filter((c) => c.phase === 'exited' && c.exitCode === 0);
    const crashed = current.find((c) => c.phase === 'exited' && c.exitCode !== 0);
    const failedChild = current.find((c) => c.phase === 'failed');
    const wait = waiting.find((w) => w.stack === d.stack && w.service === d.service);
    // Converged waits for healthy only where the file asks for a healthcheck.
    const settled = (needsHealth ? healthy.length : running.length) + completed.length;
    const heldBack = d.requested - d.replicas;
    const converged = heldBack === 0 && settled === d.replicas && running.length + completed.length === d.replicas && mine.length === d.replicas;
    const message =
      failedChild?.message ??
      (crashed
        ? crashed.message
          ? `${crashed.name}: ${crashed.message}; its restart policy does not retry it`
          : `${crashed.name} exited with code ${crashed.exitCode ?? 'unknown'} and its restart policy does not restart it`
        : undefined) ??
      wait?.reason ??
      current.find((c) => c.message && c.phase !== 'running')?.message ??
      (heldBack > 0
        ? `${heldBack} of ${d.requested} replicas pending: deploy.placement.max_replicas_per_node is ${d.spec.deploy.placement.maxReplicasPerNode ?? d.replicas} and this is the only node`
        : undefined);
    return {
      stack: d.stack,
      service: d.service,
      image: d.spec.image,
      desiredReplicas: d.requested,
      running: running.length,
      healthy: healthy.length,
      healthcheck,
      // A start-first rollout's second replica is arriving, not leaving.
      removing: mine.filter((c) => !current.includes(c) && !(c.specHash === d.surge?.[c.slot]?.specHash && !c.removing)).length,
      converged,
      failed: failedChild !== undefined || crashed !== undefined,
      ...(message !== undefined ? { message } : {}),
    };
  });
}

export type { EngineContainer };
