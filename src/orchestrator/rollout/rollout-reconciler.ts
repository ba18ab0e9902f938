import type { Logger } from 'pino';
import { createActor, type Actor, type AnyActorRef } from 'xstate';
import type { ContainerView } from '../../actors/agent-types.ts';
import type { ClusterCommand, CommandResult } from '../../cluster/commands.ts';
import { rolloutFinished, type RolloutRecord } from '../../cluster/rollout-records.ts';
import { serviceSlots } from '../../cluster/slot-versions.ts';
import type { ClusterStateData } from '../../cluster/state.ts';
import { rolloutMachine } from '../../machines/rollout.ts';
import type { RolloutProgress } from '../../machines/rollout-types.ts';
import type { Clock } from '../../seams/clock.ts';
import { observeService, stackHealthy } from './rollout-observations.ts';

/** A rollout machine's step, told to logs, events and metrics. */
export interface RolloutStep {
  readonly stack: string;
  readonly service: string;
  readonly rolloutId: number;
  readonly kind: RolloutRecord['kind'];
  readonly progress: RolloutProgress;
  /** When the deploy that started the rollout was accepted (wall clock, ms). */
  readonly startedAtMs: number;
}

export interface RolloutReconcilerOptions {
  readonly isLeader: () => boolean;
  readonly current: () => Readonly<ClusterStateData>;
  readonly subscribe: (listener: () => void) => () => void;
  /** Every replica of the cluster (the agent's own on a single node, the board's in a cluster). */
  readonly containers: () => readonly ContainerView[];
  /** Replica changes; a pass also runs every `intervalMs`. */
  readonly subscribeContainers?: (listener: () => void) => () => void;
  readonly submit: (command: ClusterCommand) => Promise<CommandResult>;
  readonly clock: Clock;
  readonly wallClockMs: () => number;
  readonly logger: Logger;
  readonly onStep?: (step: RolloutStep) => void;
  /** Told when a rollout machine starts (true) and when it leaves (false): the inspector's sources. */
  readonly onMachine?: (actor: AnyActorRef, live: boolean) => void;
  /** Default 1000 ms. */
  readonly intervalMs?: number;
}

export interface RolloutReconciler {
  trigger(): void;
  stop(): void;
}

const defaultProgressDeadlineMs = 600_000;

interface Running {
  readonly actor: Actor<typeof rolloutMachine>;
  readonly stack: string;
  readonly service: string;
  readonly rolloutId: number;
  committed: string;
  lastPhase: string;
}

/**
 * The leader's rollout loop. For every service part of a stack's rollout that is not finished it
 * keeps one rollout machine (restored from the committed progress, so a new leader goes on where
 * the old stood), feeds it what the replicas report, and commits each change of its progress
 * through the log — which is what moves slots (slot-versions.ts) and what every node agent acts
 * on. A rolled-back service is then reverted to its previous spec as a new stack version. It also
 * marks a stack version stable once every replica of it is healthy.
 *
 * Commands are submitted one at a time, in order; a refused one (the rollout was replaced by a
 * newer deploy) stops that machine, and the next pass starts the newer rollout's.
 */
export function startRolloutReconciler(options: RolloutReconcilerOptions): RolloutReconciler {
  const { logger, clock } = options;
  const running = new Map<string, Running>();
  const reverting = new Set<string>();
  const marking = new Set<string>();
  let queue: Promise<void> = Promise.resolve();
  let scheduled = false;
  let stopped = false;

  const submit = (command: ClusterCommand, onDone?: (result: CommandResult) => void): void => {
    queue = queue
      .then(() => options.submit(command))
      .then((result) => {
        if (!result.ok) logger.debug({ command: command.type, code: result.code, message: result.message }, 'rollout command refused');
        onDone?.(result);
      })
      .catch((error: unknown) => {
        logger.warn({ err: error, command: command.type }, 'rollout command not committed; retried on a later pass');
        onDone?.({ ok: false, code: 'submit_failed', message: String(error) });
      });
  };

  const commit = (entry: Running, progress: RolloutProgress): void => {
    const text = JSON.stringify(progress);
    if (text === entry.committed) return;
    entry.committed = text;
    submit({ type: 'rollout-progress', stack: entry.stack, rolloutId: entry.rolloutId, service: entry.service, progress, atMs: options.wallClockMs() }, (result) => {
      if (result.ok) return;
      if (result.code === 'stale_rollout') stopOne(keyOf(entry.stack, entry.service, entry.rolloutId));
      // Not committed: the next change (or pass) tries again with the latest progress.
      else entry.committed = '';
    });
  };

  const forget = (key: string): void => {
    const entry = running.get(key);
    if (!entry) return;
    running.delete(key);
    options.onMachine?.(entry.actor, false);
  };

  const stopOne = (key: string): void => {
    const entry = running.get(key);
    if (!entry) return;
    forget(key);
    entry.actor.stop();
  };

  const start = (state: Readonly<ClusterStateData>, rollout: RolloutRecord, stack: string, service: string): Running | undefined => {
    const part = rollout.services[service]!;
    const spec = state.stacks[stack]?.spec.services.find((candidate) => candidate.name === service);
    if (!spec) return undefined;
    const actor = createActor(rolloutMachine, {
      // Named for the inspector's tree and its id filter (`id=rollout.web.api`).
      id: `rollout.${stack}.${service}`,
      clock,
      input: {
        stack,
        service,
        kind: rollout.kind,
        slots: Object.keys(part.from).map(Number),
        // A rollback (by hand) rolls out with rollback_config, as Swarm's does; its own failure
        // action can only pause or continue, and the machine pauses where it would roll back.
        update: rollout.kind === 'rollback' ? spec.deploy.rollbackConfig : spec.deploy.updateConfig,
        rollback: spec.deploy.rollbackConfig,
        progressDeadlineMs: spec.deploy.updateConfig.progressDeadlineMs ?? defaultProgressDeadlineMs,
        ...(part.progress ? { progress: part.progress } : {}),
      },
    });
    // A restored machine's first snapshot is where the old leader stood: not a new step.
    const entry: Running = { actor, stack, service, rolloutId: rollout.id, committed: part.progress ? JSON.stringify(part.progress) : '', lastPhase: part.progress ? phaseKey(part.progress) : '' };
    actor.subscribe({
      next: (snapshot) => {
        const progress = snapshot.context.progress;
        const phase = phaseKey(progress);
        if (phase !== entry.lastPhase) {
          entry.lastPhase = phase;
          const step: RolloutStep = { stack, service, rolloutId: rollout.id, kind: rollout.kind, progress, startedAtMs: rollout.startedAtMs };
          logger.info({ stack, service, rollout: rollout.id, phase: progress.phase, step: progress.step, batch: progress.batch + 1, batches: progress.batches.length, reason: progress.reason }, `rollout ${progress.phase}`);
          try {
            options.onStep?.(step);
          } catch (error) {
            logger.warn({ err: error }, 'rollout step listener failed');
          }
        }
        commit(entry, progress);
        if (snapshot.status === 'done') trigger();
      },
      error: (error) => logger.error({ err: error, stack, service }, 'rollout machine failed'),
    });
    actor.start();
    options.onMachine?.(actor, true);
    if (actor.getSnapshot().context.progress.phase === 'pending') actor.send({ type: 'START' });
    return entry;
  };

  const pass = (): void => {
    if (stopped) return;
    if (!options.isLeader()) {
      for (const key of [...running.keys()]) stopOne(key);
      return;
    }
    const state = options.current();
    const containers = options.containers();
    const live = new Set<string>();
    for (const [stack, rollout] of Object.entries(state.rollouts)) {
      for (const [service, part] of Object.entries(rollout.services)) {
        if (rolloutFinished(part)) continue;
        const key = keyOf(stack, service, rollout.id);
        if (part.progress?.phase === 'rolled-back') {
          revert(stack, service, rollout, part.progress.reason);
          continue;
        }
        live.add(key);
        const entry = running.get(key) ?? start(state, rollout, stack, service);
        if (!entry) continue;
        running.set(key, entry);
        if (entry.actor.getSnapshot().status !== 'active') continue;
        entry.actor.send({ type: 'OBSERVE', ...observeService(state, stack, service, part, containers) });
        // A commit that failed earlier goes again (no-op when the progress is committed).
        commit(entry, entry.actor.getSnapshot().context.progress);
      }
    }
    for (const key of [...running.keys()]) {
      const entry = running.get(key)!;
      if (!live.has(key) && entry.actor.getSnapshot().status !== 'done') stopOne(key);
      else if (!live.has(key)) forget(key);
    }
    markStable(state, containers);
  };

  /** A rolled-back service goes back to its previous spec, as a new stack version. */
  const revert = (stack: string, service: string, rollout: RolloutRecord, reason: string | undefined): void => {
    const key = keyOf(stack, service, rollout.id);
    if (reverting.has(key)) return;
    reverting.add(key);
    submit({ type: 'rollback-stack', name: stack, service, auto: { rolloutId: rollout.id }, ...(reason ? { reason } : {}), atMs: options.wallClockMs() }, (result) => {
      reverting.delete(key);
      if (result.ok) logger.warn({ stack, service, version: result.version, reason }, 'rolled back: the previous spec is the current one again');
    });
  };

  const markStable = (state: Readonly<ClusterStateData>, containers: readonly ContainerView[]): void => {
    for (const [stack, record] of Object.entries(state.stacks)) {
      const entry = state.history[stack]?.find((candidate) => candidate.version === record.version);
      if (!entry || entry.stable) continue;
      const rollout = state.rollouts[stack];
      if (rollout && Object.values(rollout.services).some((part) => !rolloutFinished(part))) continue;
      const key = `${stack}@${record.version}`;
      if (marking.has(key) || !stackHealthy(state, stack, containers, (spec) => serviceSlots(state, stack, spec))) continue;
      marking.add(key);
      submit({ type: 'mark-stable', stack, version: record.version }, () => marking.delete(key));
    }
  };

  const trigger = (): void => {
    if (scheduled || stopped) return;
    scheduled = true;
    clock.setTimeout(() => {
      scheduled = false;
      try {
        pass();
      } catch (error) {
        logger.error({ err: error }, 'rollout pass failed; retrying on the next change');
      }
    }, 0);
  };
  const unsubscribe = options.subscribe(trigger);
  const unsubscribeContainers = options.subscribeContainers?.(trigger);
  const intervalMs = options.intervalMs ?? 1000;
  let timer: unknown;
  const tick = (): void => {
    trigger();
    timer = clock.setTimeout(tick, intervalMs);
  };
  tick();
  return {
    trigger,
    stop: () => {
      stopped = true;
      unsubscribe();
      unsubscribeContainers?.();
      clock.clearTimeout(timer);
      for (const key of [...running.keys()]) stopOne(key);
    },
  };
}

function phaseKey(progress: RolloutProgress): string {
  return `${progress.phase}${progress.step ? `.${progress.step}` : ''}:${progress.batch}:${progress.rollbackBatch}`;
}

function keyOf(stack: string, service: string, rolloutId: number): string {
  return `${stack}/${service}#${rolloutId}`;
}
