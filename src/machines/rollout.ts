import { assign, enqueueActions, setup } from 'xstate';
import {
  batchReady, beginRollback, currentBatch, failureExceeded, failureReason, hasNextBatch, initialProgress,
  startRollbackBatch, startUpdateBatch, switchSurge, withFailures,
} from './rollout-progress.ts';
import type { BatchStep, RolloutChange, RolloutContext, RolloutEvent, RolloutMachineInput, RolloutPhase, RolloutProgress } from './rollout-types.ts';

/**
 * One service's rolling update, pure: replica observations arrive as OBSERVE events, time is
 * `after` delays on the injected clock, and the decision is the set of slots in `progress`
 * (switched to the target, surging beside) that the supervising actor commits.
 *
 *   pending ─START─► updating [ starting ─batch healthy─► monitoring ─monitor─► (delaying ─delay─►) starting … ]
 *   updating ─last batch monitored─► completed
 *   updating ─failures > max_failure_ratio─► rolling-back | paused  (failure_action; continue goes on)
 *   updating.starting ─progress deadline─► rolling-back | paused | failed (continue: a stuck rollout fails)
 *   rolling-back [ same batches over the switched slots, with rollback_config ] ─► rolled-back
 *   rolling-back ─failure | deadline─► paused  (a rollback never rolls back)
 *   paused ─RESUME─► the batch it paused in, from its start
 *
 * A rollout whose kind is "rollback" (by hand, or a revert) pauses where an update would roll
 * back: a rollback of a rollback would loop between two bad versions.
 *
 * Restore: the committed progress says phase, step and batch; timers (monitor, delay, deadline)
 * start again in full, since times from another leader's clock mean nothing here. A resumed
 * batch is therefore watched at least as long as a fresh one, never less.
 */

type Observe = Extract<RolloutEvent, { type: 'OBSERVE' }>;
const isObserve = (event: RolloutEvent): event is Observe => event.type === 'OBSERVE';

function entered(context: RolloutContext, phase: RolloutPhase, step?: BatchStep): RolloutProgress {
  const { step: _step, ...rest } = context.progress;
  return { ...rest, phase, ...(step ? { step } : {}) };
}

const machineSetup = setup({
  types: {
    context: {} as RolloutContext,
    events: {} as RolloutEvent,
    input: {} as RolloutMachineInput,
    emitted: {} as RolloutChange,
  },
  actions: {
    enter: enqueueActions(({ context, enqueue }, params: { phase: RolloutPhase; step?: BatchStep }) => {
      const progress = entered(context, params.phase, params.step);
      enqueue.assign({ progress });
      enqueue.emit({ type: 'rollout.change', stack: context.stack, service: context.service, progress });
    }),
    recordFailures: assign({ progress: ({ context, event }) => (isObserve(event) ? withFailures(context, event) : context.progress) }),
    firstBatch: assign({ progress: ({ context }) => startUpdateBatch(context, 0) }),
    nextUpdateBatch: assign({ progress: ({ context }) => startUpdateBatch(context, context.progress.batch + 1) }),
    /** RESUME after a pause: the same batch again, with the failures forgiven (someone looked). */
    restartUpdateBatch: assign({ progress: ({ context }) => startUpdateBatch({ ...context, progress: { ...context.progress, failed: [] } }, context.progress.batch) }),
    nextRollbackBatch: assign({ progress: ({ context }) => startRollbackBatch(context, context.progress.rollbackBatch + 1) }),
    restartRollbackBatch: assign({ progress: ({ context }) => startRollbackBatch({ ...context, progress: { ...context.progress, rollbackFailed: [] } }, context.progress.rollbackBatch) }),
    switchSurge: assign({ progress: ({ context }) => switchSurge(context) }),
    rollBackForFailure: assign({
      progress: ({ context, event }) => {
        const withFailed = { ...context, progress: isObserve(event) ? withFailures(context, event) : context.progress };
        const reason = isObserve(event) ? failureReason(context, event) : 'failed';
        return startRollbackBatch({ ...withFailed, progress: beginRollback(withFailed, reason) }, 0);
      },
    }),
    rollBackForDeadline: assign({
      progress: ({ context }) => startRollbackBatch({ ...context, progress: beginRollback(context, deadlineReason(context)) }, 0),
    }),
    pauseForFailure: assign({
      progress: ({ context, event }) => ({
        ...(isObserve(event) ? withFailures(context, event) : context.progress),
        pausedFrom: context.progress.phase === 'rolling-back' ? 'rolling-back' as const : 'updating' as const,
        reason: isObserve(event) ? pauseReason(context, failureReason(context, event)) : 'paused',
      }),
    }),
    pauseForDeadline: assign({
      progress: ({ context }) => ({
        ...context.progress,
        pausedFrom: context.progress.phase === 'rolling-back' ? 'rolling-back' as const : 'updating' as const,
        reason: pauseReason(context, deadlineReason(context)),
      }),
    }),
    failForDeadline: assign({ progress: ({ context }) => ({ ...context.progress, reason: deadlineReason(context) }) }),
  },
  guards: {
    nothingToDo: ({ context }) => context.progress.batches.length === 0,
    nothingToRollBack: ({ context }) => context.progress.rollbackBatches.length === 0,
    failureRollsBack: ({ context, event }) => isObserve(event) && failureExceeded(context, event) && rollsBack(context),
    failurePauses: ({ context, event }) => isObserve(event) && failureExceeded(context, event) && pauses(context),
    rollbackFailurePauses: ({ context, event }) => isObserve(event) && failureExceeded(context, event) && context.rollback.failureAction !== 'continue',
    batchReady: ({ context, event }) => isObserve(event) && batchReady(context, event),
    hasNextBatch: ({ context }) => hasNextBatch(context),
    hasNextBatchAfterDelay: ({ context }) => hasNextBatch(context) && (context.progress.phase === 'rolling-back' ? context.rollback : context.update).delayMs > 0,
    updateRollsBack: ({ context }) => rollsBack(context),
    updatePauses: ({ context }) => pauses(context),
    pausedFromRollback: ({ context }) => context.progress.pausedFrom === 'rolling-back',
    progressIs: ({ context }, params: { phase: RolloutPhase; step?: BatchStep }) => context.progress.phase === params.phase && (params.step === undefined || context.progress.step === params.step),
  },
  delays: {
    deadline: ({ context }) => context.progressDeadlineMs,
    updateMonitor: ({ context }) => context.update.monitorMs,
    updateDelay: ({ context }) => context.update.delayMs,
    rollbackMonitor: ({ context }) => context.rollback.monitorMs,
    rollbackDelay: ({ context }) => context.rollback.delayMs,
  },
});

function rollsBack(context: RolloutContext): boolean {
  return context.update.failureAction === 'rollback' && context.kind === 'update';
}

/** pause, or rollback asked of a rollback (which pauses instead of looping). */
function pauses(context: RolloutContext): boolean {
  return context.update.failureAction === 'pause' || (context.update.failureAction === 'rollback' && context.kind === 'rollback');
}

function deadlineReason(context: RolloutContext): string {
  const batch = currentBatch(context);
  return `progress deadline: ${context.stack}/${context.service} slot(s) ${batch.join(', ')} not healthy within ${Math.round(context.progressDeadlineMs / 1000)} s`;
}

function pauseReason(context: RolloutContext, why: string): string {
  if (context.progress.phase === 'rolling-back') return `rollback paused: ${why}`;
  return context.update.failureAction === 'rollback' && context.kind === 'rollback' ? `paused instead of rolling back a rollback: ${why}` : why;
}

const enter = (phase: RolloutPhase, step?: BatchStep) => ({ type: 'enter', params: { phase, ...(step ? { step } : {}) } }) as const;
const progressIs = (phase: RolloutPhase, step?: BatchStep) => ({ type: 'progressIs', params: { phase, ...(step ? { step } : {}) } }) as const;

/** Failures while updating: the failure action decides (continue only counts them). */
const updateFailure = [
  { guard: 'failureRollsBack', target: '#rollout.rollingBack', actions: 'rollBackForFailure' },
  { guard: 'failurePauses', target: '#rollout.paused', actions: 'pauseForFailure' },
] as const;
const rollbackFailure = [
  { guard: 'rollbackFailurePauses', target: '#rollout.paused', actions: 'pauseForFailure' },
] as const;

export const rolloutMachine = machineSetup.createMachine({
  id: 'rollout',
  context: ({ input }) => ({
    stack: input.stack,
    service: input.service,
    kind: input.kind,
    slots: input.slots,
    update: input.update,
    rollback: input.rollback,
    progressDeadlineMs: input.progressDeadlineMs,
    progress: input.progress ?? initialProgress(input.slots, input.update),
  }),
  initial: 'restore',
  states: {
    // Where committed progress says the rollout stood (pending for a new one).
    restore: {
      always: [
        { guard: progressIs('updating', 'monitoring'), target: 'updating.monitoring' },
        { guard: progressIs('updating', 'delaying'), target: 'updating.delaying' },
        { guard: progressIs('updating'), target: 'updating.starting' },
        { guard: progressIs('rolling-back', 'monitoring'), target: 'rollingBack.monitoring' },
        { guard: progressIs('rolling-back', 'delaying'), target: 'rollingBack.delaying' },
        { guard: progressIs('rolling-back'), target: 'rollingBack.starting' },
        { guard: progressIs('paused'), target: 'paused' },
        { guard: progressIs('completed'), target: 'completed' },
        { guard: progressIs('rolled-back'), target: 'rolledBack' },
        { guard: progressIs('failed'), target: 'failed' },
        { target: 'pending' },
      ],
    },
    pending: {
      entry: enter('pending'),
      on: { START: [{ guard: 'nothingToDo', target: 'completed' }, { target: 'updating.starting', actions: 'firstBatch' }] },
    },
    updating: {
      initial: 'starting',
      states: {
        starting: {
          entry: enter('updating', 'starting'),
          after: {
            deadline: [
              { guard: 'updateRollsBack', target: '#rollout.rollingBack', actions: 'rollBackForDeadline' },
              { guard: 'updatePauses', target: '#rollout.paused', actions: 'pauseForDeadline' },
              { target: '#rollout.failed', actions: 'failForDeadline' },
            ],
          },
          on: {
            OBSERVE: [
              ...updateFailure,
              { guard: 'batchReady', target: 'monitoring', actions: ['recordFailures', 'switchSurge'] },
              { actions: 'recordFailures' },
            ],
          },
        },
        monitoring: {
          entry: enter('updating', 'monitoring'),
          after: {
            updateMonitor: [
              { guard: 'hasNextBatchAfterDelay', target: 'delaying' },
              { guard: 'hasNextBatch', target: 'starting', actions: 'nextUpdateBatch' },
              { target: '#rollout.completed' },
            ],
          },
          on: { OBSERVE: [...updateFailure, { actions: 'recordFailures' }] },
        },
        delaying: {
          entry: enter('updating', 'delaying'),
          after: { updateDelay: { target: 'starting', actions: 'nextUpdateBatch' } },
          on: { OBSERVE: [...updateFailure, { actions: 'recordFailures' }] },
        },
      },
    },
    rollingBack: {
      initial: 'starting',
      states: {
        starting: {
          entry: enter('rolling-back', 'starting'),
          always: { guard: 'nothingToRollBack', target: '#rollout.rolledBack' },
          after: { deadline: { target: '#rollout.paused', actions: 'pauseForDeadline' } },
          on: {
            OBSERVE: [
              ...rollbackFailure,
              { guard: 'batchReady', target: 'monitoring', actions: ['recordFailures', 'switchSurge'] },
              { actions: 'recordFailures' },
            ],
          },
        },
        monitoring: {
          entry: enter('rolling-back', 'monitoring'),
          after: {
            rollbackMonitor: [
              { guard: 'hasNextBatchAfterDelay', target: 'delaying' },
              { guard: 'hasNextBatch', target: 'starting', actions: 'nextRollbackBatch' },
              { target: '#rollout.rolledBack' },
            ],
          },
          on: { OBSERVE: [...rollbackFailure, { actions: 'recordFailures' }] },
        },
        delaying: {
          entry: enter('rolling-back', 'delaying'),
          after: { rollbackDelay: { target: 'starting', actions: 'nextRollbackBatch' } },
          on: { OBSERVE: [...rollbackFailure, { actions: 'recordFailures' }] },
        },
      },
    },
    paused: {
      entry: enter('paused'),
      on: {
        RESUME: [
          { guard: 'pausedFromRollback', target: 'rollingBack.starting', actions: 'restartRollbackBatch' },
          { target: 'updating.starting', actions: 'restartUpdateBatch' },
        ],
      },
    },
    completed: { type: 'final', entry: enter('completed') },
    rolledBack: { type: 'final', entry: enter('rolled-back') },
    failed: { type: 'final', entry: enter('failed') },
  },
  output: ({ context }) => context.progress,
});

export type RolloutMachine = typeof rolloutMachine;
