import type { RolloutContext, RolloutEvent, RolloutProgress, RolloutSettings, SlotObservation } from './rollout-types.ts';

/**
 * The rollout machine's arithmetic, pure and separate so each rule reads on its own: batches,
 * which slots switch or surge, what counts as a failure, when a batch is done.
 */

type Observe = Extract<RolloutEvent, { type: 'OBSERVE' }>;

/** Slots in batches of `parallelism` (0 = all at once), ascending. */
export function batchesOf(slots: readonly number[], parallelism: number): number[][] {
  const sorted = [...new Set(slots)].sort((a, b) => a - b);
  if (sorted.length === 0) return [];
  const size = parallelism <= 0 ? sorted.length : parallelism;
  const out: number[][] = [];
  for (let start = 0; start < sorted.length; start += size) out.push(sorted.slice(start, start + size));
  return out;
}

export function initialProgress(slots: readonly number[], update: RolloutSettings): RolloutProgress {
  return { phase: 'pending', batches: batchesOf(slots, update.parallelism), batch: 0, switched: [], surge: [], failed: [], rollbackBatches: [], rollbackBatch: 0, rollbackFailed: [] };
}

const union = (a: readonly number[], b: readonly number[]): number[] => [...new Set([...a, ...b])].sort((x, y) => x - y);
const minus = (a: readonly number[], b: readonly number[]): number[] => a.filter((slot) => !b.includes(slot));

export const rollingBack = (context: RolloutContext): boolean => context.progress.phase === 'rolling-back';

/** The batch being worked on in the current phase. */
export function currentBatch(context: RolloutContext): readonly number[] {
  const p = context.progress;
  return (rollingBack(context) ? p.rollbackBatches[p.rollbackBatch] : p.batches[p.batch]) ?? [];
}

/**
 * Starts update batch `index`: stop-first switches its slots at once (the old replicas stop, the
 * new start); start-first lets the new replicas start beside the old ones (surge) first.
 */
export function startUpdateBatch(context: RolloutContext, index: number): RolloutProgress {
  const p = context.progress;
  const batch = p.batches[index] ?? [];
  return context.update.order === 'start-first'
    ? { ...p, batch: index, surge: batch }
    : { ...p, batch: index, switched: union(p.switched, batch), surge: [] };
}

/** Starts rollback batch `index`: the mirror image, back to the previous version. */
export function startRollbackBatch(context: RolloutContext, index: number): RolloutProgress {
  const p = context.progress;
  const batch = p.rollbackBatches[index] ?? [];
  return context.rollback.order === 'start-first'
    ? { ...p, rollbackBatch: index, surge: batch }
    : { ...p, rollbackBatch: index, switched: minus(p.switched, batch), surge: [] };
}

/**
 * The rollback's batches: every slot already switched to the target. A start-first surge that
 * never switched is simply dropped: its old replica still runs.
 */
export function beginRollback(context: RolloutContext, reason: string): RolloutProgress {
  const p = context.progress;
  return { ...p, surge: [], rollbackBatches: batchesOf(p.switched, context.rollback.parallelism), rollbackBatch: 0, rollbackFailed: [], reason };
}

/** After a start-first batch turned healthy: its slots switch, and the replicas they replace stop. */
export function switchSurge(context: RolloutContext): RolloutProgress {
  const p = context.progress;
  return rollingBack(context)
    ? { ...p, switched: minus(p.switched, p.surge), surge: [] }
    : { ...p, switched: union(p.switched, p.surge), surge: [] };
}

/**
 * Slots whose replica of the version being moved to failed and were not counted yet. Watched:
 * every slot already moved in this phase plus a start-first surge — a replica that restart-loops
 * after its own batch passed its monitor still counts while the rollout goes on.
 */
export function newFailures(context: RolloutContext, event: Observe): { slot: number; observation: SlotObservation }[] {
  const p = context.progress;
  const back = rollingBack(context);
  const watched = back ? p.rollbackBatches.slice(0, p.rollbackBatch + 1).flat() : union(p.switched, p.surge);
  const seen = back ? p.rollbackFailed : p.failed;
  const observations = back ? event.previous : event.target;
  const out: { slot: number; observation: SlotObservation }[] = [];
  for (const slot of watched) {
    const observation = observations[slot];
    if (observation?.health === 'failed' && !seen.includes(slot)) out.push({ slot, observation });
  }
  return out;
}

/** Whether the failures so far (with this observation's) exceed the phase's max_failure_ratio. */
export function failureExceeded(context: RolloutContext, event: Observe): boolean {
  const fresh = newFailures(context, event);
  if (fresh.length === 0) return false;
  const p = context.progress;
  const back = rollingBack(context);
  const total = back ? p.rollbackBatches.flat().length : context.slots.length;
  const counted = (back ? p.rollbackFailed : p.failed).length + fresh.length;
  return total === 0 || counted / total > settingsOf(context).maxFailureRatio;
}

/** Records this observation's failures (they count against the ratio from now on). */
export function withFailures(context: RolloutContext, event: Observe): RolloutProgress {
  const fresh = newFailures(context, event).map((f) => f.slot);
  if (fresh.length === 0) return context.progress;
  const p = context.progress;
  return rollingBack(context) ? { ...p, rollbackFailed: union(p.rollbackFailed, fresh) } : { ...p, failed: union(p.failed, fresh) };
}

/** A reason naming the first failed replica of this observation. */
export function failureReason(context: RolloutContext, event: Observe): string {
  const [first] = newFailures(context, event);
  const where = `${context.stack}/${context.service} slot ${first?.slot ?? '?'}`;
  const what = rollingBack(context) ? 'the rollback\'s replica' : 'the new replica';
  return `${what} of ${where} failed${first?.observation.message ? `: ${first.observation.message}` : ''}`;
}

/**
 * The current batch is ready once every slot's replica of the version moved to is healthy. Under
 * failure_action continue a failed replica of the batch counts as done (it was counted).
 */
export function batchReady(context: RolloutContext, event: Observe): boolean {
  const back = rollingBack(context);
  const observations = back ? event.previous : event.target;
  const failed = union(back ? context.progress.rollbackFailed : context.progress.failed, newFailures(context, event).map((f) => f.slot));
  return currentBatch(context).every((slot) => observations[slot]?.health === 'healthy' || failed.includes(slot));
}

export function hasNextBatch(context: RolloutContext): boolean {
  const p = context.progress;
  return rollingBack(context) ? p.rollbackBatch + 1 < p.rollbackBatches.length : p.batch + 1 < p.batches.length;
}

export function settingsOf(context: RolloutContext): RolloutSettings {
  return rollingBack(context) ? context.rollback : context.update;
}
