import type { UpdateConfigSpec } from '../compose/types.ts';

/**
 * Types of the rollout machine (one per service and rollout). Slots are replica slot numbers as in
 * container names. What the machine decides is a set of slots, never an effect: the supervising
 * actor turns `switched` and `surge` into committed commands, and turns what the replicas report
 * into OBSERVE events.
 */

/** update_config / rollback_config after normalization (monitor already raised to the healthcheck window). */
export type RolloutSettings = UpdateConfigSpec;

export type RolloutKind = 'update' | 'rollback';

export type RolloutPhase = 'pending' | 'updating' | 'paused' | 'rolling-back' | 'completed' | 'rolled-back' | 'failed';
export type BatchStep = 'starting' | 'monitoring' | 'delaying';

/**
 * Where a replica of one version of one slot stands: starting (created, not yet healthy),
 * healthy (healthy, or running for a service without a healthcheck), failed (exited, crashed,
 * unhealthy, given up). A slot with no replica of that version is simply absent.
 */
export type SlotHealth = 'starting' | 'healthy' | 'failed';

export interface SlotObservation {
  readonly health: SlotHealth;
  /** Why it failed, for the rollout's reason ("exited with code 1", "unhealthy"). */
  readonly message?: string;
}

/**
 * The rollout's progress: everything a new leader needs to go on where the old one stood. Plain
 * JSON, committed to the log by the actor whenever it changes.
 */
export interface RolloutProgress {
  readonly phase: RolloutPhase;
  /** Within updating / rolling-back. */
  readonly step?: BatchStep;
  /** Update batches (slots, ascending), fixed when the rollout starts. */
  readonly batches: readonly (readonly number[])[];
  /** Index of the current update batch. */
  readonly batch: number;
  /** Slots that run the target version (committed as such). */
  readonly switched: readonly number[];
  /**
   * start-first: slots where a replica of the other version starts beside the current one (the
   * target while updating, the previous while rolling back) until it is healthy.
   */
  readonly surge: readonly number[];
  /** Slots whose target replica failed during this rollout. */
  readonly failed: readonly number[];
  /** Rollback batches, fixed when the rollback starts. */
  readonly rollbackBatches: readonly (readonly number[])[];
  readonly rollbackBatch: number;
  /** Slots whose previous-version replica failed while rolling back. */
  readonly rollbackFailed: readonly number[];
  /** The phase a paused rollout resumes into. */
  readonly pausedFrom?: 'updating' | 'rolling-back';
  /** Why it paused, rolled back or failed. */
  readonly reason?: string;
}

export interface RolloutMachineInput {
  readonly stack: string;
  readonly service: string;
  /** A rollback (by hand or by a previous rollout) never rolls back itself: it pauses. */
  readonly kind: RolloutKind;
  /** Slots to move to the target version (those running another version when the rollout began). */
  readonly slots: readonly number[];
  readonly update: RolloutSettings;
  readonly rollback: RolloutSettings;
  /** Time a batch may take to turn healthy before the rollout counts as stuck. */
  readonly progressDeadlineMs: number;
  /** A new leader's restore: the last committed progress. */
  readonly progress?: RolloutProgress;
}

export interface RolloutContext {
  readonly stack: string;
  readonly service: string;
  readonly kind: RolloutKind;
  readonly slots: readonly number[];
  readonly update: RolloutSettings;
  readonly rollback: RolloutSettings;
  readonly progressDeadlineMs: number;
  readonly progress: RolloutProgress;
}

export type RolloutEvent =
  /** pending → updating. */
  | { readonly type: 'START' }
  /**
   * The replicas as they stand, per slot: `target` = the replica running the version being rolled
   * out, `previous` = one running the version it replaces.
   */
  | { readonly type: 'OBSERVE'; readonly target: Readonly<Record<number, SlotObservation>>; readonly previous: Readonly<Record<number, SlotObservation>> }
  /** paused → the batch it paused in, from the start. */
  | { readonly type: 'RESUME' };

/** Emitted on every change of phase, step or batch, for events, logs and the committed progress. */
export interface RolloutChange {
  readonly type: 'rollout.change';
  readonly stack: string;
  readonly service: string;
  readonly progress: RolloutProgress;
}
