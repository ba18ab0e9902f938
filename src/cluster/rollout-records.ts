import type { StackSpec } from '../compose/types.ts';
import type { RolloutKind, RolloutProgress } from '../machines/rollout-types.ts';

/** How many versions of each stack's spec the store keeps (Swarm keeps 5 tasks per slot). */
export const stackHistoryLimit = 5;

/** One version of a stack's spec as it was accepted. */
export interface StackVersionRecord {
  readonly version: number;
  readonly specHash: string;
  readonly spec: StackSpec;
  readonly atMs: number;
  readonly kind: 'deploy' | 'rollback';
  /** For a rollback: the version whose spec it restored… */
  readonly restores?: number;
  /** …for this service only (absent: the whole stack). */
  readonly service?: string;
  /** Why (an automatic rollback's reason). */
  readonly reason?: string;
  /** Every replica of this version was healthy (running, where there is no healthcheck) at once. */
  readonly stable: boolean;
}

/** One service's part of a rollout. */
export interface ServiceRolloutRecord {
  /**
   * The slots that ran another version when the rollout began, and that version per slot
   * (slot → stack version). A slot not listed runs the stack's current version.
   */
  readonly from: Readonly<Record<string, number>>;
  /** The rollout machine's committed progress; absent until the leader starts it (pending). */
  readonly progress?: RolloutProgress;
  /** After an automatic rollback: the stack version that restored the previous spec. */
  readonly revertedBy?: number;
  readonly updatedAtMs?: number;
}

/**
 * The stack's current (or last) rollout: what a changed deploy moves batch by batch. Written at
 * deploy time (which slots must move) and then by the leader's rollout reconciler (progress),
 * both through the log, so a new leader resumes it where it stood.
 */
export interface RolloutRecord {
  /** The stack version being rolled out; progress for another id is refused as stale. */
  readonly id: number;
  readonly kind: RolloutKind;
  /** The stack version before this one. */
  readonly fromVersion: number;
  readonly startedAtMs: number;
  /** service → its part; only services with slots to move. */
  readonly services: Readonly<Record<string, ServiceRolloutRecord>>;
}

/** Phases after which a service's rollout changes nothing more. */
export function rolloutFinished(record: ServiceRolloutRecord): boolean {
  const phase = record.progress?.phase;
  return phase === 'completed' || phase === 'failed' || (phase === 'rolled-back' && record.revertedBy !== undefined);
}
