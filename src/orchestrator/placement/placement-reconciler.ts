import type { Logger } from 'pino';
import type { ClusterCommand, CommandResult, PlaceServiceCommand } from '../../cluster/commands.ts';
import type { PlacementRecord } from '../../cluster/placements.ts';
import type { ClusterStateData } from '../../cluster/state.ts';
import { planPlacements } from '../../scheduler/plan-placements.ts';
import type { NodeStatus, PendingReplica, PlanOptions, SchedulerSnapshot } from '../../scheduler/types.ts';
import type { Clock } from '../../seams/clock.ts';
import { schedulerSnapshot } from './scheduler-snapshot.ts';

export interface PlacementReconcilerOptions {
  readonly isLeader: () => boolean;
  readonly current: () => Readonly<ClusterStateData>;
  readonly subscribe: (listener: () => void) => () => void;
  readonly submit: (command: ClusterCommand) => Promise<CommandResult>;
  readonly statusOf: (nodeId: string) => NodeStatus;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Asked on every pass: the failover policy's answer changes with time and node status. */
  readonly planOptions?: PlanOptions | (() => PlanOptions);
  /** Told of every committed placement and the record it replaced (failover events). */
  readonly onCommitted?: (command: PlaceServiceCommand, before: PlacementRecord | undefined) => void;
  /**
   * Asked only when the plan has nothing to do: further commands (the rebalance's start-first
   * moves), so they never race the scheduler's own decisions on the same records.
   */
  readonly extraCommands?: (snapshot: SchedulerSnapshot, planOptions: PlanOptions | undefined) => readonly PlaceServiceCommand[];
  /** A pass also runs this often, so a missed trigger is fixed by the next one. Default 2 s. */
  readonly intervalMs?: number;
}

export interface PlacementReconciler {
  /** Runs a pass soon (node status changed, leadership gained). */
  trigger(): void;
  /** Replicas that fit nowhere, and why, as of the last pass on this leader. */
  pending(): readonly PendingReplica[];
  stop(): void;
}

/**
 * The leader's placement loop, level-triggered: read the state, plan with the pure scheduler,
 * commit the plan's commands, and let the resulting state change trigger the next pass until the
 * plan is empty. Only the leader runs passes; a refused command (a stale version after a redeploy)
 * is simply re-planned from the newer state.
 */
export function startPlacementReconciler(options: PlacementReconcilerOptions): PlacementReconciler {
  let scheduled = false;
  let running = false;
  let again = false;
  let stopped = false;
  let pending: readonly PendingReplica[] = [];
  const intervalMs = options.intervalMs ?? 2000;

  const pass = async (): Promise<void> => {
    if (!options.isLeader()) {
      pending = [];
      return;
    }
    const state = options.current();
    const planOptions = typeof options.planOptions === 'function' ? options.planOptions() : options.planOptions;
    const snapshot = schedulerSnapshot(state, options.statusOf);
    const plan = planPlacements(snapshot, planOptions);
    pending = plan.pending;
    const commands = plan.commands.length > 0 ? plan.commands : (options.extraCommands?.(snapshot, planOptions) ?? []);
    // The records the plan was made from: the state object is mutated in place as entries apply.
    const before = commands.map((command) => state.placements[command.stack]?.[command.service]);
    for (const [index, command] of commands.entries()) {
      const result = await options.submit(command);
      if (!result.ok) options.logger.debug({ stack: command.stack, service: command.service, code: result.code }, 'placement refused; re-planning');
      else {
        options.logger.info({ stack: command.stack, service: command.service, slots: Object.keys(command.slots).length }, 'placed service');
        options.onCommitted?.(command, before[index]);
      }
    }
  };
  const run = (): void => {
    scheduled = false;
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    pass()
      .catch((error: unknown) => options.logger.warn({ err: error }, 'placement pass failed; retrying on the next change'))
      .finally(() => {
        running = false;
        if (again) {
          again = false;
          trigger();
        }
      });
  };
  const trigger = (): void => {
    if (scheduled || stopped) return;
    scheduled = true;
    options.clock.setTimeout(run, 0);
  };
  const unsubscribe = options.subscribe(trigger);
  let timer: unknown;
  const tick = (): void => {
    trigger();
    timer = options.clock.setTimeout(tick, intervalMs);
  };
  tick();
  return {
    trigger,
    pending: () => pending,
    stop: () => {
      stopped = true;
      unsubscribe();
      options.clock.clearTimeout(timer);
    },
  };
}
