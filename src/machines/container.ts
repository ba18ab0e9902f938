import { assign, fromPromise, setup } from 'xstate';
import type { RestartPolicySpec } from '../compose/types.ts';
import type { CreateContainerRequest, HealthState } from '../seams/container-runtime.ts';
import { crashLoopLength, decideRestart } from '../orchestrator/restart/restart-policy.ts';
import { engineRetryDelayMs } from '../agent/backoff.ts';
import type { ContainerEvent, ContainerMachineInput, ContainerPhase, EffectResult, StartObservation } from './container-types.ts';

/**
 * The lifecycle of one replica. Pure: the engine calls are invoked actors declared here as
 * placeholders and supplied by src/actors/container-actor.ts through `.provide({ actors })`;
 * reports to the parent go through the `report` action, also supplied by the actor. Time only
 * enters through event payloads and effect results (`atMs`), and waits are named `after` delays,
 * so the injected clock drives them.
 *
 *   pending ─START─► creating ─► starting ─► running{none|starting|healthy|unhealthy}
 *      │ADOPT                                   │EXITED, or unhealthy → stopped
 *      ▼                                        ▼
 *   (running | exited | starting)             exited ──restart allowed──► backoff ─► starting
 *                                               └──policy exhausted──► failed
 *   any live state ─REMOVE─► stopping ─► removing ─► removed (final)
 *   engine unavailable ─► engine-backoff ─► creating | starting
 *   running | starting | backoff ─HOLD─► holding ─► held ─RELEASE─► starting   (the vpn-link's kill switch,
 *   running ─PAUSE─► pausing ─► paused ─RELEASE─► unpausing ─► running          and restarts into a new namespace)
 */
export interface ContainerContext {
  readonly name: string;
  readonly request?: CreateContainerRequest;
  readonly restartPolicy: RestartPolicySpec;
  readonly hasHealthcheck: boolean;
  readonly stopGracePeriodMs: number;
  readonly drainMs: number;
  containerId?: string;
  health: HealthState;
  exitCode?: number;
  /** When the last exit (or failed start) happened, by the clock of whoever reported it. */
  lastExitAtMs: number;
  /** Times of restarts performed, for max_attempts inside window. */
  restartTimesMs: number[];
  restartDelayMs: number;
  /** When the current run began (start observed, or adoption of a running container); cleared on exit. */
  runningSinceMs?: number;
  /** How long the last run lasted, judged at its exit; undefined when it never ran. */
  lastRunMs?: number;
  /** Restarts of the current crash loop: the exponent of the restart delay (crashLoopLength). */
  loopRestarts: number;
  /** Consecutive engine failures, for the engine back-off. */
  engineFailures: number;
  message?: string;
}

/** Errors no retry can fix: the user must change the spec. */
const PERMANENT_CREATE_ERRORS = new Set(['image_not_found', 'invalid_request']);

function notProvided(name: string) {
  // Placeholders keep the machine runnable on its own (graph tests); the actor supplies the real ones.
  return fromPromise<never, unknown>(() => Promise.reject(new Error(`${name} is not provided`)));
}

type Failure = Extract<EffectResult<unknown>, { ok: false }>;

export const containerMachine = setup({
  types: {
    context: {} as ContainerContext,
    events: {} as ContainerEvent,
    input: {} as ContainerMachineInput,
    output: {} as { name: string; containerId?: string },
  },
  actors: {
    createContainer: notProvided('createContainer') as unknown as ReturnType<typeof fromPromise<EffectResult<string>, CreateContainerRequest | undefined>>,
    startContainer: notProvided('startContainer') as unknown as ReturnType<typeof fromPromise<EffectResult<StartObservation>, { containerId: string }>>,
    stopContainer: notProvided('stopContainer') as unknown as ReturnType<typeof fromPromise<EffectResult<void>, { containerId: string; gracePeriodMs: number }>>,
    removeContainer: notProvided('removeContainer') as unknown as ReturnType<typeof fromPromise<EffectResult<void>, { containerId: string }>>,
    pauseContainer: notProvided('pauseContainer') as unknown as ReturnType<typeof fromPromise<EffectResult<void>, { containerId: string }>>,
    unpauseContainer: notProvided('unpauseContainer') as unknown as ReturnType<typeof fromPromise<EffectResult<void>, { containerId: string }>>,
  },
  actions: {
    /** Supplied by the actor (sendParent); a no-op here so the machine runs alone in tests. */
    report: (_args, _params: { phase: ContainerPhase }) => {},
    recordRestart: assign(({ context }) => {
      const loop = crashLoopLength(context.loopRestarts, context.lastRunMs);
      const decision = decideRestart(context.restartPolicy, context.exitCode, context.restartTimesMs, context.lastExitAtMs, loop);
      if (!decision.restart) return {};
      return { restartTimesMs: [...context.restartTimesMs, context.lastExitAtMs], restartDelayMs: decision.delayMs, loopRestarts: loop + 1 };
    }),
    /** A run ended at `lastExitAtMs`: keep how long it lasted, for the back-off reset. */
    endRun: assign(({ context }) => ({
      runningSinceMs: undefined,
      lastRunMs: context.runningSinceMs === undefined ? undefined : context.lastExitAtMs - context.runningSinceMs,
    })),
    clearContainer: assign({ containerId: undefined, health: 'none' as HealthState }),
    /** An engine call answered with a failure, or threw: count it for the engine back-off, keep why. */
    engineCallFailed: assign(({ context, event }) => {
      // Only ever the done/error event of an engine call, which the machine's event union leaves out.
      const outcome = event as unknown as { output?: Failure; error?: unknown };
      return { engineFailures: context.engineFailures + 1, message: outcome.output?.message ?? String(outcome.error) };
    }),
  },
  guards: {
    hasContainer: ({ context }) => context.containerId !== undefined,
    hasHealthcheck: ({ context }) => context.hasHealthcheck,
    restartAllowed: ({ context }) => decideRestart(context.restartPolicy, context.exitCode, context.restartTimesMs, context.lastExitAtMs).restart,
    attemptsExhausted: ({ context }) => {
      const decision = decideRestart(context.restartPolicy, context.exitCode, context.restartTimesMs, context.lastExitAtMs);
      return !decision.restart && decision.reason === 'max-attempts';
    },
  },
  delays: {
    restartDelay: ({ context }) => context.restartDelayMs,
    engineRetryDelay: ({ context }) => engineRetryDelayMs(context.engineFailures),
  },
}).createMachine({
  id: 'container',
  context: ({ input }) => ({
    name: input.name,
    ...(input.request ? { request: input.request } : {}),
    restartPolicy: input.restartPolicy,
    hasHealthcheck: input.hasHealthcheck,
    stopGracePeriodMs: input.stopGracePeriodMs,
    drainMs: input.drainMs ?? 0,
    health: 'none',
    lastExitAtMs: 0,
    restartTimesMs: Array.from({ length: input.restartsBefore ?? 0 }, () => Number.NEGATIVE_INFINITY),
    restartDelayMs: 0,
    loopRestarts: 0,
    engineFailures: 0,
  }),
  initial: 'pending',
  output: ({ context }) => ({ name: context.name, ...(context.containerId ? { containerId: context.containerId } : {}) }),
  states: {
    pending: {
      entry: { type: 'report', params: { phase: 'pending' } },
      on: {
        START: [
          { guard: ({ context }) => context.request === undefined, target: 'failed', actions: assign({ message: 'no container spec to create from' }) },
          { target: 'creating' },
        ],
        ADOPT: [
          {
            // Frozen by a vpn-link before a daemon restart: the link thaws it when its VPN is ready.
            guard: ({ event }) => event.state === 'paused',
            target: 'paused',
            actions: assign(({ event }) => ({ containerId: event.containerId, health: event.health })),
          },
          {
            guard: ({ event }) => event.state === 'running' || event.state === 'restarting',
            target: 'running',
            actions: assign(({ event }) => ({ containerId: event.containerId, health: event.health, runningSinceMs: event.atMs })),
          },
          {
            guard: ({ event }) => event.state === 'created',
            target: 'starting',
            actions: assign(({ event }) => ({ containerId: event.containerId })),
          },
          {
            // Exited (or dead) while nobody watched: judge it by the restart policy as if it just exited.
            target: 'exited',
            actions: assign(({ event }) => ({ containerId: event.containerId, exitCode: event.exitCode ?? -1, lastExitAtMs: event.atMs })),
          },
        ],
        REMOVE: { target: 'removed' },
      },
    },
    creating: {
      entry: { type: 'report', params: { phase: 'creating' } },
      invoke: {
        id: 'create',
        src: 'createContainer',
        input: ({ context }) => context.request,
        onDone: [
          {
            guard: ({ event }) => event.output.ok,
            target: 'starting',
            actions: assign(({ event }) => ({ containerId: event.output.ok ? event.output.value : undefined, engineFailures: 0, message: undefined })),
          },
          {
            // The image could not be pulled (registry unreachable, image unknown to it, no
            // access): like a failed start, the restart policy decides whether and when to try
            // again, so the default policy keeps trying with its back-off.
            guard: ({ event }) => !event.output.ok && event.output.code === 'pull_failed',
            target: 'exited',
            actions: assign(({ event }) => ({ exitCode: undefined, lastExitAtMs: event.output.atMs, message: (event.output as Failure).message })),
          },
          {
            guard: ({ event }) => !event.output.ok && PERMANENT_CREATE_ERRORS.has(event.output.code),
            target: 'failed',
            actions: assign(({ event }) => ({ message: (event.output as Failure).message })),
          },
          {
            target: 'engine-backoff',
            actions: 'engineCallFailed',
          },
        ],
        onError: {
          target: 'engine-backoff',
          actions: 'engineCallFailed',
        },
      },
      on: {
        // The create call may still complete; engine-backoff → removing cleans up whatever it made
        // only if we know the id, so let the planner's orphan sweep remove a late arrival.
        REMOVE: { target: 'removed' },
      },
    },
    starting: {
      entry: { type: 'report', params: { phase: 'starting' } },
      invoke: {
        id: 'start',
        src: 'startContainer',
        input: ({ context }) => ({ containerId: context.containerId ?? '' }),
        onDone: [
          {
            guard: ({ event }) => event.output.ok && event.output.value.state !== 'exited' && event.output.value.state !== 'dead',
            target: 'running',
            actions: assign(({ event }) => ({ engineFailures: 0, message: undefined, health: event.output.ok ? event.output.value.health : 'none', runningSinceMs: event.output.atMs })),
          },
          {
            guard: ({ event }) => event.output.ok,
            target: 'exited',
            actions: assign(({ event }) => ({ engineFailures: 0, exitCode: event.output.ok ? (event.output.value.exitCode ?? -1) : -1, lastExitAtMs: event.output.atMs })),
          },
          {
            guard: ({ event }) => !event.output.ok && event.output.code === 'engine_unavailable',
            target: 'engine-backoff',
            actions: 'engineCallFailed',
          },
          {
            guard: ({ event }) => !event.output.ok && event.output.code === 'not_found',
            target: 'removed',
            actions: ['clearContainer', assign({ message: 'container disappeared before it started' })],
          },
          {
            // The engine refused to start the process (bad command, missing mount…): a failed start
            // counts like a crash, so the restart policy decides.
            target: 'exited',
            actions: assign(({ event }) => ({ exitCode: undefined, lastExitAtMs: event.output.atMs, message: (event.output as Failure).message })),
          },
        ],
        onError: {
          target: 'engine-backoff',
          actions: 'engineCallFailed',
        },
      },
      on: {
        EXITED: { target: 'exited', actions: assign(({ event }) => ({ exitCode: event.exitCode, lastExitAtMs: event.atMs })) },
        GONE: { target: 'removed', actions: 'clearContainer' },
        REMOVE: { target: 'stopping' },
        HOLD: { target: 'holding' },
      },
    },
    running: {
      // Each health sub-state reports on entry, so a health change reaches the parent too.
      initial: 'unknown',
      states: {
        // Chooses the health sub-state from what we know; never rests here.
        unknown: {
          always: [
            { guard: ({ context }) => context.health === 'healthy', target: 'healthy' },
            { guard: ({ context }) => context.health === 'unhealthy', target: 'unhealthy' },
            { guard: 'hasHealthcheck', target: 'starting' },
            { target: 'none' },
          ],
        },
        none: { entry: [assign({ health: 'none' as HealthState }), { type: 'report', params: { phase: 'running' } }] },
        starting: { entry: [assign({ health: 'starting' as HealthState }), { type: 'report', params: { phase: 'running' } }] },
        healthy: { entry: [assign({ health: 'healthy' as HealthState }), { type: 'report', params: { phase: 'running' } }] },
        unhealthy: {
          // An unhealthy replica is replaced, as Swarm does: the engine has already retried the check
          // `retries` times, so stop it and let the restart policy decide as for a crash. Once here we
          // are committed: a late "healthy" does not cancel a stop that is already under way.
          // The stop's own completion moves nothing: the container's `die` (EXITED, handled by
          // `running`, or sent by a resync that finds it exited) does. Leaving on the stop's reply
          // would let that `die` arrive later, in the next life, and count as a second crash.
          entry: [assign({ health: 'unhealthy' as HealthState, message: 'stopping: its healthcheck reported unhealthy' }), { type: 'report', params: { phase: 'running' } }],
          invoke: {
            id: 'stop-unhealthy',
            src: 'stopContainer',
            input: ({ context }) => ({ containerId: context.containerId ?? '', gracePeriodMs: context.stopGracePeriodMs }),
            onDone: [
              { guard: ({ event }) => event.output.ok },
              {
                target: '#container.engine-backoff',
                actions: 'engineCallFailed',
              },
            ],
            onError: {
              target: '#container.engine-backoff',
              actions: 'engineCallFailed',
            },
          },
          on: {
            HEALTH: { actions: [] },
            // It failed, whatever code its process exits with on SIGTERM: under `on-failure` it must
            // come back, so a clean exit is recorded as "no code" (a failure for the policy).
            EXITED: {
              target: '#container.exited',
              actions: assign(({ event }) => ({ exitCode: event.exitCode === 0 ? undefined : event.exitCode, lastExitAtMs: event.atMs, health: 'none' as HealthState })),
            },
          },
        },
      },
      on: {
        HEALTH: [
          { guard: ({ event }) => event.health === 'healthy', target: '.healthy' },
          { guard: ({ event }) => event.health === 'unhealthy', target: '.unhealthy' },
          { guard: ({ event }) => event.health === 'starting', target: '.starting' },
          { target: '.none' },
        ],
        EXITED: { target: 'exited', actions: assign(({ event }) => ({ exitCode: event.exitCode, lastExitAtMs: event.atMs, health: 'none' as HealthState })) },
        GONE: { target: 'removed', actions: ['clearContainer', assign({ message: 'container disappeared from the engine' })] },
        REMOVE: { target: 'stopping' },
        HOLD: { target: 'holding' },
        PAUSE: { target: 'pausing' },
      },
    },
    exited: {
      entry: ['endRun', { type: 'report', params: { phase: 'exited' } }],
      always: [
        { guard: 'restartAllowed', target: 'backoff', actions: 'recordRestart' },
        {
          guard: 'attemptsExhausted',
          target: 'failed',
          actions: assign(({ context }) => ({
            message: `gave up after ${context.restartTimesMs.length} restarts (restart_policy.max_attempts)${context.message ? `; last: ${context.message}` : ''}`,
          })),
        },
      ],
      on: {
        GONE: { target: 'removed', actions: 'clearContainer' },
        REMOVE: [{ guard: 'hasContainer', target: 'removing' }, { target: 'removed' }],
      },
    },
    backoff: {
      entry: { type: 'report', params: { phase: 'backoff' } },
      after: {
        restartDelay: [{ guard: 'hasContainer', target: 'starting' }, { target: 'creating' }],
      },
      on: {
        GONE: { target: 'removed', actions: 'clearContainer' },
        REMOVE: [{ guard: 'hasContainer', target: 'removing' }, { target: 'removed' }],
        // `docker restart`, or the engine's own policy: it runs again already; waiting out the delay would only hide it.
        STARTED: { guard: 'hasContainer', target: 'running', actions: assign(({ event }) => ({ health: 'none' as HealthState, runningSinceMs: event.atMs, message: undefined })) },
        HOLD: { guard: 'hasContainer', target: 'held' },
      },
    },
    holding: {
      // The kill switch (or the first half of a restart into the VPN's new namespace): stopped
      // now, and kept stopped outside the restart policy until the vpn-link releases it. No
      // drain: the point is that it stops talking.
      entry: [assign({ health: 'none' as HealthState }), { type: 'report', params: { phase: 'holding' } }],
      invoke: {
        id: 'hold',
        src: 'stopContainer',
        input: ({ context }) => ({ containerId: context.containerId ?? '', gracePeriodMs: context.stopGracePeriodMs }),
        onDone: { target: 'held' },
        onError: { target: 'held' },
      },
      on: {
        // Its `die` is the stop we asked for, not a crash.
        EXITED: { actions: assign(({ event }) => ({ exitCode: event.exitCode })) },
        HEALTH: { actions: [] },
        GONE: { target: 'removed', actions: 'clearContainer' },
        REMOVE: { target: 'stopping' },
      },
    },
    held: {
      entry: [assign({ health: 'none' as HealthState, runningSinceMs: undefined }), { type: 'report', params: { phase: 'held' } }],
      on: {
        RELEASE: [{ guard: 'hasContainer', target: 'starting' }, { target: 'creating' }],
        EXITED: { actions: [] },
        HEALTH: { actions: [] },
        GONE: { target: 'removed', actions: 'clearContainer' },
        REMOVE: [{ guard: 'hasContainer', target: 'removing' }, { target: 'removed' }],
      },
    },
    pausing: {
      entry: { type: 'report', params: { phase: 'pausing' } },
      invoke: {
        id: 'pause',
        src: 'pauseContainer',
        input: ({ context }) => ({ containerId: context.containerId ?? '' }),
        // An engine that cannot pause (no freezer cgroup): stopping is the kill switch that remains.
        onDone: [{ guard: ({ event }) => event.output.ok, target: 'paused' }, { target: 'holding' }],
        onError: { target: 'holding' },
      },
      on: {
        EXITED: { target: 'exited', actions: assign(({ event }) => ({ exitCode: event.exitCode, lastExitAtMs: event.atMs, health: 'none' as HealthState })) },
        GONE: { target: 'removed', actions: 'clearContainer' },
        REMOVE: { target: 'stopping' },
      },
    },
    paused: {
      entry: { type: 'report', params: { phase: 'paused' } },
      on: {
        RELEASE: { target: 'unpausing' },
        HOLD: { target: 'holding' },
        HEALTH: { actions: [] },
        EXITED: { target: 'exited', actions: assign(({ event }) => ({ exitCode: event.exitCode, lastExitAtMs: event.atMs, health: 'none' as HealthState })) },
        GONE: { target: 'removed', actions: 'clearContainer' },
        REMOVE: { target: 'removing' },
      },
    },
    unpausing: {
      // Still frozen until the engine answers.
      entry: { type: 'report', params: { phase: 'paused' } },
      invoke: {
        id: 'unpause',
        src: 'unpauseContainer',
        input: ({ context }) => ({ containerId: context.containerId ?? '' }),
        onDone: [{ guard: ({ event }) => event.output.ok, target: 'running' }, { target: 'holding' }],
        onError: { target: 'holding' },
      },
      on: {
        EXITED: { target: 'exited', actions: assign(({ event }) => ({ exitCode: event.exitCode, lastExitAtMs: event.atMs, health: 'none' as HealthState })) },
        GONE: { target: 'removed', actions: 'clearContainer' },
        REMOVE: { target: 'stopping' },
      },
    },
    'engine-backoff': {
      entry: { type: 'report', params: { phase: 'engine-backoff' } },
      after: {
        engineRetryDelay: [{ guard: 'hasContainer', target: 'starting' }, { target: 'creating' }],
      },
      on: {
        REMOVE: [{ guard: 'hasContainer', target: 'stopping' }, { target: 'removed' }],
      },
    },
    failed: {
      entry: { type: 'report', params: { phase: 'failed' } },
      on: {
        GONE: { target: 'removed', actions: 'clearContainer' },
        REMOVE: [{ guard: 'hasContainer', target: 'removing' }, { target: 'removed' }],
      },
    },
    stopping: {
      // Reported first, so the replica leaves the ingress backends; the stop effect waits drainMs before SIGTERM.
      entry: { type: 'report', params: { phase: 'stopping' } },
      invoke: {
        id: 'stop',
        src: 'stopContainer',
        input: ({ context }) => ({ containerId: context.containerId ?? '', gracePeriodMs: context.stopGracePeriodMs, drainMs: context.drainMs }),
        // Whatever the stop said, removal (forced) is the next step; it reports its own failure.
        onDone: { target: 'removing' },
        onError: { target: 'removing' },
      },
      on: {
        GONE: { target: 'removed', actions: 'clearContainer' },
      },
    },
    removing: {
      entry: { type: 'report', params: { phase: 'removing' } },
      invoke: {
        id: 'remove',
        src: 'removeContainer',
        input: ({ context }) => ({ containerId: context.containerId ?? '' }),
        onDone: [
          { guard: ({ event }) => event.output.ok || event.output.code === 'not_found', target: 'removed' },
          {
            target: 'remove-backoff',
            actions: 'engineCallFailed',
          },
        ],
        onError: {
          target: 'remove-backoff',
          actions: 'engineCallFailed',
        },
      },
      on: {
        GONE: { target: 'removed', actions: 'clearContainer' },
      },
    },
    'remove-backoff': {
      entry: { type: 'report', params: { phase: 'removing' } },
      after: { engineRetryDelay: { target: 'removing' } },
      on: {
        GONE: { target: 'removed', actions: 'clearContainer' },
      },
    },
    removed: {
      entry: { type: 'report', params: { phase: 'removed' } },
      type: 'final',
    },
  },
});

export type ContainerMachine = typeof containerMachine;
