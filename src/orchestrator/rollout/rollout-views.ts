import type { ContainerView } from '../../actors/agent-types.ts';
import { rolloutFinished } from '../../cluster/rollout-records.ts';
import type { ClusterStateData } from '../../cluster/state.ts';
import type { RolloutPhase } from '../../machines/rollout-types.ts';
import { observeService } from './rollout-observations.ts';

/**
 * What `GET /v1/stacks/:name/rollout` and `/history` answer, and what `constellation deploy`,
 * `rollout status` and `history` print. Pure: the committed rollout and history, joined with the
 * replicas as the agent (or the cluster board) reports them.
 */

export interface ServiceRolloutView {
  readonly service: string;
  readonly phase: RolloutPhase;
  readonly step?: string;
  /** 1-based batch of `batches`, of the rollback while rolling back. */
  readonly batch: number;
  readonly batches: number;
  /** Slots on the new version, of `total` that had to move. */
  readonly updated: number;
  readonly total: number;
  /** Of the slots on the new version, how many are healthy (running, without a healthcheck). */
  readonly healthy: number;
  readonly failed: readonly number[];
  /** ms in the current step (e.g. time in monitor), from the last committed step. */
  readonly inStepMs?: number;
  readonly reason?: string;
  /** After an automatic rollback: the stack version that restored the previous spec. */
  readonly revertedBy?: number;
}

export type RolloutState = RolloutPhase;

export interface RolloutView {
  readonly stack: string;
  /** The stack's current version. */
  readonly version: number;
  readonly rollout?: {
    /** The stack version rolled out. */
    readonly id: number;
    readonly kind: 'update' | 'rollback';
    readonly fromVersion: number;
    readonly startedAt: string;
    readonly state: RolloutState;
    /** The first reason among its services (why it paused, rolled back or failed). */
    readonly reason?: string;
    readonly services: readonly ServiceRolloutView[];
  };
}

/** One word for the stack's rollout, the worst of its services first. */
export function overallState(phases: readonly RolloutPhase[]): RolloutState {
  for (const phase of ['rolling-back', 'paused', 'updating', 'pending', 'failed', 'rolled-back'] as const) if (phases.includes(phase)) return phase;
  return 'completed';
}

export function rolloutView(state: Readonly<ClusterStateData>, stack: string, containers: readonly ContainerView[], wallNowMs: number): RolloutView | undefined {
  const record = state.stacks[stack];
  if (!record) return undefined;
  const rollout = state.rollouts[stack];
  if (!rollout) return { stack, version: record.version };
  const services: ServiceRolloutView[] = Object.entries(rollout.services).map(([service, part]) => {
    const progress = part.progress;
    const back = progress?.phase === 'rolling-back';
    const observed = observeService(state, stack, service, part, containers);
    const switched = progress?.switched ?? [];
    const phase: RolloutPhase = progress?.phase ?? 'pending';
    return {
      service,
      phase,
      ...(progress?.step ? { step: progress.step } : {}),
      batch: (back ? progress.rollbackBatch : progress?.batch ?? 0) + 1,
      batches: back ? progress.rollbackBatches.length : progress?.batches.length ?? 0,
      updated: switched.length,
      total: Object.keys(part.from).length,
      healthy: switched.filter((slot) => observed.target[slot]?.health === 'healthy').length,
      failed: progress?.failed ?? [],
      ...(part.updatedAtMs !== undefined && !rolloutFinished(part) ? { inStepMs: Math.max(0, wallNowMs - part.updatedAtMs) } : {}),
      ...(progress?.reason ? { reason: progress.reason } : {}),
      ...(part.revertedBy !== undefined ? { revertedBy: part.revertedBy } : {}),
    };
  });
  const reason = services.find((service) => service.reason && service.phase !== 'completed')?.reason;
  return {
    stack,
    version: record.version,
    rollout: {
      id: rollout.id,
      kind: rollout.kind,
      fromVersion: rollout.fromVersion,
      startedAt: new Date(rollout.startedAtMs).toISOString(),
      state: overallState(services.map((service) => service.phase)),
      ...(reason ? { reason } : {}),
      services,
    },
  };
}

export interface HistoryEntryView {
  readonly version: number;
  readonly kind: 'deploy' | 'rollback';
  readonly at: string;
  readonly stable: boolean;
  readonly current: boolean;
  readonly specHash: string;
  readonly services: readonly string[];
  readonly restores?: number;
  readonly service?: string;
  readonly reason?: string;
}

/** The kept versions of a stack, newest first. */
export function historyView(state: Readonly<ClusterStateData>, stack: string): HistoryEntryView[] | undefined {
  const record = state.stacks[stack];
  if (!record) return undefined;
  return [...(state.history[stack] ?? [])].reverse().map((entry) => ({
    version: entry.version,
    kind: entry.kind,
    at: new Date(entry.atMs).toISOString(),
    stable: entry.stable,
    current: entry.version === record.version,
    specHash: entry.specHash,
    services: entry.spec.services.map((service) => service.name),
    ...(entry.restores !== undefined ? { restores: entry.restores } : {}),
    ...(entry.service !== undefined ? { service: entry.service } : {}),
    ...(entry.reason !== undefined ? { reason: entry.reason } : {}),
  }));
}

/** Whether the stack still has a rollout under way (a paused one counts: it is not done). */
export function rolloutUnderway(state: Readonly<ClusterStateData>, stack: string): boolean {
  const rollout = state.rollouts[stack];
  return rollout !== undefined && Object.values(rollout.services).some((part) => !rolloutFinished(part));
}
