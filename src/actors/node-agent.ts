import { enqueueActions, fromCallback, fromPromise, setup } from 'xstate';
import type { Logger } from 'pino';
import type { Clock } from '../seams/clock.ts';
import type { ContainerRuntime, ContainerSummary, RuntimeEvent } from '../seams/container-runtime.ts';
import type { StateStore } from '../seams/state-store.ts';
import type { ClusterStateData } from '../cluster/state.ts';
import type { ContainerEvent, ContainerMachineInput } from '../machines/container-types.ts';
import type { EffectResult } from '../machines/container-types.ts';
import { type DesiredService, desiredServices } from '../agent/desired.ts';
import { planReconcile, type EngineContainer, type Plan } from '../agent/plan.ts';
import { containerName, nodeSelector, normalizeName, parseLabels } from '../agent/labels.ts';
import { hasHealthcheck, toCreateContainerRequest } from '../agent/container-request.ts';
import { engineRetryDelayMs } from '../agent/backoff.ts';
import type { AgentTelemetry } from './agent-telemetry.ts';
import type { AgentEvent } from './agent-types.ts';
import { type ChildEntry, phaseCounts, toObserved, toView } from './agent-children.ts';
import { createContainerActorLogic, type ContainerActorLogic, type ContainerReportMessage } from './container-actor.ts';
import { engineCall, safely } from './engine-call.ts';
import { engineWatchLogic, type EngineWatchEvent } from './engine-watch.ts';
import { describeError, respawnDelayMs } from './supervision.ts';

export interface NodeAgentDeps {
  readonly nodeId: string;
  readonly runtime: ContainerRuntime;
  readonly store: StateStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly telemetry: AgentTelemetry;
  /** Periodic full resync (config reconcile.intervalMs): a missed event is fixed by the next pass. */
  readonly resyncIntervalMs: number;
  /** Tests only: wraps the replica logic (e.g. to inject a crash and watch supervision). */
  readonly wrapContainerLogic?: (logic: ContainerActorLogic) => ContainerActorLogic;
}

export interface NodeAgentContext {
  desired: DesiredService[];
  children: Record<string, ChildEntry>;
  /** Our containers as last listed (and updated by events), by name. */
  engine: Record<string, EngineContainer>;
  blockedUntilMs: Record<string, number>;
  crashCounts: Record<string, number>;
  waiting: Plan['waiting'];
  streamConnected: boolean;
  streamFailures: number;
  listFailures: number;
  listing: boolean;
  relistWanted: boolean;
  listedOnce: boolean;
  listSeq: number;
  listStartedEpoch: number;
  epoch: number;
  generation: number;
  storeFailures: number;
}

type AgentMachineEvent =
  | ContainerReportMessage
  | EngineWatchEvent
  | { type: 'desired.changed'; state: Readonly<ClusterStateData> }
  | { type: 'engine.resubscribe' }
  | { type: 'store.resubscribe' }
  | { type: 'resync' }
  | { type: 'reconcile' }
  | { type: `xstate.done.actor.${string}`; output: unknown; actorId: string }
  | { type: `xstate.error.actor.${string}`; error: unknown; actorId: string };

const CONTAINER_PREFIX = 'container.';
const LIST_PREFIX = 'list.';
const ENGINE_WATCH_ID = 'engine-events';
const STORE_WATCH_ID = 'store-watch';

/**
 * The node agent: parent of one supervising actor per replica. It follows desired state (store
 * subscription), the engine (listing + event stream, re-subscribed with back-off when the stream
 * ends) and its children's reports, and after every change runs the pure planner and applies the
 * plan. It never reconciles before the first listing, so a restarted daemon adopts what runs
 * instead of racing it. Supervision policy: see supervision.ts.
 *
 * One parent holds every replica of the node; spawning copies the children object, which is fine
 * for the few hundred replicas a node runs (shard by stack if that ever grows).
 */
export function createNodeAgentLogic(deps: NodeAgentDeps) {
  const { runtime, store, clock, logger, telemetry, nodeId } = deps;
  const baseContainerLogic = createContainerActorLogic({ runtime, clock, logger, telemetry });
  const containerLogic = deps.wrapContainerLogic ? deps.wrapContainerLogic(baseContainerLogic) : baseContainerLogic;

  const listLogic = fromPromise<EffectResult<ContainerSummary[]>>(() => engineCall({ clock, logger, telemetry }, 'list', () => runtime.list(nodeSelector(nodeId))));
  const storeWatchLogic = fromCallback(({ sendBack }) => {
    sendBack({ type: 'desired.changed', state: store.current() });
    return store.subscribe((state) => sendBack({ type: 'desired.changed', state }));
  });

  return setup({
    types: {
      context: {} as NodeAgentContext,
      events: {} as AgentMachineEvent,
      emitted: {} as AgentEvent,
    },
    actors: {
      container: containerLogic,
      list: listLogic,
      engineWatch: engineWatchLogic(runtime),
      storeWatch: storeWatchLogic,
    },
  }).createMachine({
    id: 'node-agent',
    context: {
      desired: [],
      children: {},
      engine: {},
      blockedUntilMs: {},
      crashCounts: {},
      waiting: [],
      streamConnected: true,
      streamFailures: 0,
      listFailures: 0,
      listing: true,
      relistWanted: false,
      listedOnce: false,
      listSeq: 0,
      listStartedEpoch: 0,
      epoch: 0,
      generation: 0,
      storeFailures: 0,
    },
    // Subscribe to the stream before the first listing, so nothing falls between the two.
    entry: act<'resync'>(({ enqueue }) => {
      enqueue.spawnChild('storeWatch', { id: STORE_WATCH_ID });
      enqueue.spawnChild('engineWatch', { id: ENGINE_WATCH_ID });
      enqueue.spawnChild('list', { id: `${LIST_PREFIX}0` });
    }),
    on: {
      'desired.changed': {
        actions: act<'desired.changed'>(({ context, event, enqueue }) => {
          const desired = desiredServices(event.state);
          enqueue.emit({ type: 'desired-changed', services: desired.length });
          reconcileInto({ ...context, desired, storeFailures: 0 }, enqueue);
        }),
      },
      'container.report': {
        actions: act<'container.report'>(({ context, event, enqueue }) => {
          const child = context.children[event.name];
          if (!child || child.actorId !== event.actorId) return; // a replaced child's late word
          const epoch = context.epoch + 1;
          const updated: ChildEntry = {
            ...child,
            phase: event.phase,
            health: event.health,
            restarts: event.restarts,
            sinceEpoch: child.phase === event.phase ? child.sinceEpoch : epoch,
            ...(event.containerId !== undefined ? { containerId: event.containerId } : {}),
            ...(event.exitCode !== undefined ? { exitCode: event.exitCode } : {}),
            ...(event.message !== undefined ? { message: event.message } : {}),
          };
          if (event.message === undefined) delete (updated as { message?: string }).message;
          const children = { ...context.children, [event.name]: updated };
          enqueue.emit({ type: 'container', container: toView(updated) });
          safely(logger, () => telemetry.setContainerStates(phaseCounts(Object.values(children))));
          // A phase change may unblock dependants or free a slot; a pure health change may too.
          reconcileInto({ ...context, children, epoch }, enqueue);
        }),
      },
      'engine.event': {
        actions: act<'engine.event'>(({ context, event, enqueue }) => routeEngineEvent(context, event.event, enqueue)),
      },
      'engine.stream-ended': {
        actions: act<'engine.stream-ended'>(({ context, event, enqueue }) => streamDown(context, event.error, enqueue)),
      },
      'engine.resubscribe': {
        actions: act<'engine.resubscribe'>(({ context, enqueue }) => {
          enqueue.spawnChild('engineWatch', { id: ENGINE_WATCH_ID });
          enqueue.emit({ type: 'engine-stream', connected: true });
          startList({ ...context, streamConnected: true }, enqueue);
        }),
      },
      'store.resubscribe': {
        actions: act<'store.resubscribe'>(({ enqueue }) => enqueue.spawnChild('storeWatch', { id: STORE_WATCH_ID })),
      },
      resync: { actions: act<'resync'>(({ context, enqueue }) => startList(context, enqueue)) },
      reconcile: { actions: act<'reconcile'>(({ context, enqueue }) => reconcileInto(context, enqueue)) },
      'xstate.done.actor.*': {
        actions: act<`xstate.done.actor.${string}`>(({ context, event, enqueue }) => {
          const id = event.actorId;
          if (id.startsWith(CONTAINER_PREFIX)) childFinished(context, id, enqueue);
          else if (id.startsWith(LIST_PREFIX)) listed(context, (event as { output: EffectResult<ContainerSummary[]> }).output, enqueue);
          else if (id === ENGINE_WATCH_ID) streamDown(context, 'event stream completed', enqueue);
          else if (id === STORE_WATCH_ID) storeDown(context, 'store subscription completed', enqueue);
        }),
      },
      'xstate.error.actor.*': {
        actions: act<`xstate.error.actor.${string}`>(({ context, event, enqueue }) => {
          const id = event.actorId;
          const error = describeError((event as { error: unknown }).error);
          logger.error({ child: id, error }, 'child actor failed');
          enqueue.emit({ type: 'child-crashed', child: id, error });
          if (id.startsWith(CONTAINER_PREFIX)) childCrashed(context, id, enqueue);
          else if (id.startsWith(LIST_PREFIX)) listed(context, { ok: false, code: 'unknown', message: error, atMs: clock.nowMs() }, enqueue);
          else if (id === ENGINE_WATCH_ID) streamDown(context, error, enqueue);
          else if (id === STORE_WATCH_ID) storeDown(context, error, enqueue);
        }),
      },
    },
  });

  // ---- helpers: each computes the next context and enqueues the effects (no I/O happens here) ----

  function act<T extends AgentMachineEvent['type']>(fn: (args: { context: NodeAgentContext; event: Extract<AgentMachineEvent, { type: T }>; enqueue: Enqueue }) => void) {
    return enqueueActions<NodeAgentContext, AgentMachineEvent, undefined, AgentMachineEvent, any, any, any, any, AgentEvent>(({ context, event, enqueue }) => {
      try {
        fn({ context, event: event as Extract<AgentMachineEvent, { type: T }>, enqueue: enqueue as unknown as Enqueue });
      } catch (error) {
        // A throw here would fail the root actor and orphan every replica actor. Each handler
        // assigns its new context last, so a throw leaves the old context; the next event or
        // resync pass recomputes everything from scratch (level-triggered).
        logger.error({ err: error, event: event.type }, 'node agent handler failed; state left as it was');
        (enqueue as unknown as Enqueue).emit({ type: 'agent-error', event: event.type, error: describeError(error) });
      }
    });
  }

  /** The subset of XState's action enqueuer the helpers use (its full generic type does not travel well). */
  interface Enqueue {
    assign(update: Partial<NodeAgentContext>): void;
    spawnChild(src: 'container' | 'list' | 'engineWatch' | 'storeWatch', options: { id: string; input?: unknown }): void;
    sendTo(actorId: string, event: ContainerEvent): void;
    emit(event: AgentEvent): void;
    raise(event: AgentMachineEvent, options?: { id?: string; delay?: number }): void;
    cancel(id: string): void;
    stopChild(actorId: string): void;
  }

  function reconcileInto(context: NodeAgentContext, enqueue: Enqueue): void {
    if (!context.listedOnce) {
      enqueue.assign(context);
      return;
    }
    const startedMs = clock.nowMs();
    const plan = planReconcile(
      {
        desired: context.desired,
        replicas: Object.values(context.children).map(toObserved),
        engine: Object.values(context.engine),
        blockedUntilMs: context.blockedUntilMs,
      },
      startedMs,
    );
    const children = { ...context.children };
    let generation = context.generation;
    // Everything that can fail is computed first; the enqueues run only once the whole plan is
    // translated, so a throw cannot leave a spawned child without its context entry.
    const effects: (() => void)[] = [];
    const spawn = (name: string, input: ContainerMachineInput, entry: Omit<ChildEntry, 'actorId' | 'phase' | 'health' | 'restarts' | 'sinceEpoch' | 'removing'>, events: ContainerEvent[], removing: boolean) => {
      generation += 1;
      const actorId = `${CONTAINER_PREFIX}${name}.${generation}`;
      effects.push(() => {
        enqueue.spawnChild('container', { id: actorId, input });
        for (const e of events) enqueue.sendTo(actorId, e);
      });
      children[name] = { ...entry, actorId, phase: 'pending', health: 'none', restarts: 0, removing, sinceEpoch: context.epoch };
    };
    for (const action of plan.actions) {
      switch (action.type) {
        case 'create':
        case 'adopt': {
          const d = action.service;
          const slot = action.type === 'create' ? action.slot : { stack: d.stack, service: d.service, slot: action.container.labels.slot };
          const input: ContainerMachineInput = {
            name: action.name,
            request: toCreateContainerRequest(slot, d.spec, d.specHash, nodeId),
            restartPolicy: d.spec.deploy.restartPolicy,
            hasHealthcheck: hasHealthcheck(d.spec),
            stopGracePeriodMs: d.spec.stopGracePeriodMs,
          };
          const first: ContainerEvent = action.type === 'create'
            ? { type: 'START' }
            : { type: 'ADOPT', containerId: action.container.id, state: action.container.state, health: action.container.health, atMs: startedMs, ...(action.container.exitCode !== undefined ? { exitCode: action.container.exitCode } : {}) };
          logger.info({ container: action.name, action: action.type }, action.type === 'create' ? 'creating replica' : 'adopting container');
          spawn(action.name, input, { name: action.name, ...slot, specHash: d.specHash, image: d.spec.image, ...(action.type === 'adopt' ? { containerId: action.container.id } : {}) }, [first], false);
          break;
        }
        case 'remove': {
          const child = children[action.name];
          if (!child) break;
          logger.info({ container: action.name, reason: action.reason }, 'removing replica');
          effects.push(() => enqueue.sendTo(child.actorId, { type: 'REMOVE' } satisfies ContainerEvent));
          children[action.name] = { ...child, removing: true };
          break;
        }
        case 'remove-orphan': {
          const c = action.container;
          logger.info({ container: action.name, reason: action.reason }, 'removing orphaned container');
          const input: ContainerMachineInput = {
            name: action.name,
            restartPolicy: { condition: 'none', delayMs: 0, windowMs: 0 },
            hasHealthcheck: false,
            stopGracePeriodMs: 10_000,
          };
          const adopt: ContainerEvent = { type: 'ADOPT', containerId: c.id, state: c.state, health: c.health, atMs: startedMs, ...(c.exitCode !== undefined ? { exitCode: c.exitCode } : {}) };
          spawn(action.name, input, { name: action.name, stack: c.labels.stack, service: c.labels.service, slot: c.labels.slot, specHash: c.labels.specHash, image: '', containerId: c.id }, [adopt, { type: 'REMOVE' }], true);
          break;
        }
      }
    }
    for (const run of effects) run();
    enqueue.assign({ ...context, children, generation, waiting: plan.waiting });
    const durationMs = clock.nowMs() - startedMs;
    safely(logger, () => telemetry.observeReconcile(durationMs));
    if (plan.actions.length > 0) enqueue.emit({ type: 'reconciled', actions: plan.actions.length, durationMs });
  }

  function startList(context: NodeAgentContext, enqueue: Enqueue): void {
    if (context.listing) {
      enqueue.assign({ ...context, relistWanted: true });
      return;
    }
    const listSeq = context.listSeq + 1;
    enqueue.spawnChild('list', { id: `${LIST_PREFIX}${listSeq}` });
    // A new epoch marks the listing's start: only children whose phase is older can be judged by it.
    const epoch = context.epoch + 1;
    enqueue.assign({ ...context, listing: true, relistWanted: false, listSeq, epoch, listStartedEpoch: epoch });
  }

  function listed(context: NodeAgentContext, result: EffectResult<ContainerSummary[]>, enqueue: Enqueue): void {
    enqueue.cancel('resync');
    if (!result.ok) {
      const listFailures = context.listFailures + 1;
      logger.warn({ error: result.message, attempt: listFailures }, 'engine listing failed; retrying');
      enqueue.raise({ type: 'resync' }, { id: 'resync', delay: engineRetryDelayMs(listFailures) });
      enqueue.assign({ ...context, listing: false, listFailures });
      return;
    }
    const engine: Record<string, EngineContainer> = {};
    for (const c of result.value) {
      const labels = parseLabels(c.labels);
      if (!labels || labels.nodeId !== nodeId) continue;
      const name = normalizeName(c.name);
      engine[name] = { id: c.id, name, labels, state: c.state, health: c.health, ...(c.exitCode !== undefined ? { exitCode: c.exitCode } : {}) };
    }
    // Correct children that missed an event, but only those whose phase predates the listing.
    for (const child of Object.values(context.children)) {
      if (child.sinceEpoch >= context.listStartedEpoch || child.containerId === undefined || child.removing) continue;
      const seen = engine[child.name];
      if (!seen || seen.id !== child.containerId) {
        if (child.phase !== 'pending' && child.phase !== 'creating') enqueue.sendTo(child.actorId, { type: 'GONE' } satisfies ContainerEvent);
      } else if (child.phase === 'running' && (seen.state === 'exited' || seen.state === 'dead')) {
        enqueue.sendTo(child.actorId, { type: 'EXITED', exitCode: seen.exitCode ?? -1, atMs: clock.nowMs() } satisfies ContainerEvent);
      } else if (child.phase === 'running' && seen.health !== child.health) {
        enqueue.sendTo(child.actorId, { type: 'HEALTH', health: seen.health } satisfies ContainerEvent);
      }
    }
    enqueue.emit({ type: 'engine-listed', containers: Object.keys(engine).length });
    enqueue.raise({ type: 'resync' }, { id: 'resync', delay: deps.resyncIntervalMs });
    if (context.relistWanted) enqueue.raise({ type: 'resync' });
    reconcileInto({ ...context, engine, listing: false, relistWanted: false, listedOnce: true, listFailures: 0, streamFailures: context.streamConnected ? 0 : context.streamFailures }, enqueue);
  }

  function routeEngineEvent(context: NodeAgentContext, event: RuntimeEvent, enqueue: Enqueue): void {
    const child = Object.values(context.children).find((c) => c.containerId === event.containerId);
    const entry = Object.values(context.engine).find((c) => c.id === event.containerId);
    let engine = context.engine;
    if (entry) {
      if (event.action === 'destroy') {
        engine = { ...engine };
        delete engine[entry.name];
      } else if (event.action === 'die') {
        engine = { ...engine, [entry.name]: { ...entry, state: 'exited', ...(event.exitCode !== undefined ? { exitCode: event.exitCode } : {}) } };
      } else if (event.action === 'start') {
        engine = { ...engine, [entry.name]: { ...entry, state: 'running' } };
      }
    }
    if (engine !== context.engine) enqueue.assign({ engine });
    if (!child || child.removing) return;
    switch (event.action) {
      case 'die':
        enqueue.sendTo(child.actorId, { type: 'EXITED', exitCode: event.exitCode ?? -1, atMs: clock.nowMs() } satisfies ContainerEvent);
        break;
      case 'health_status':
        if (event.health) enqueue.sendTo(child.actorId, { type: 'HEALTH', health: event.health } satisfies ContainerEvent);
        break;
      case 'destroy':
        enqueue.sendTo(child.actorId, { type: 'GONE' } satisfies ContainerEvent);
        break;
      default:
        break;
    }
  }

  function streamDown(context: NodeAgentContext, error: string | undefined, enqueue: Enqueue): void {
    const streamFailures = context.streamFailures + 1;
    const delayMs = engineRetryDelayMs(streamFailures);
    logger.warn({ error, retryInMs: delayMs }, 'engine event stream ended; re-subscribing');
    safely(logger, () => telemetry.engineError('events'));
    enqueue.stopChild(ENGINE_WATCH_ID);
    enqueue.emit({ type: 'engine-stream', connected: false, ...(error ? { error } : {}) });
    enqueue.cancel('engine.resubscribe');
    enqueue.raise({ type: 'engine.resubscribe' }, { id: 'engine.resubscribe', delay: delayMs });
    enqueue.assign({ ...context, streamConnected: false, streamFailures });
  }

  function storeDown(context: NodeAgentContext, error: string, enqueue: Enqueue): void {
    const storeFailures = context.storeFailures + 1;
    logger.error({ error }, 'desired-state subscription ended; re-subscribing');
    enqueue.stopChild(STORE_WATCH_ID);
    enqueue.raise({ type: 'store.resubscribe' }, { delay: respawnDelayMs(storeFailures) });
    enqueue.assign({ ...context, storeFailures });
  }

  function childFinished(context: NodeAgentContext, actorId: string, enqueue: Enqueue): void {
    const child = Object.values(context.children).find((c) => c.actorId === actorId);
    enqueue.stopChild(actorId);
    if (!child) return;
    const children = { ...context.children };
    delete children[child.name];
    // Its container is gone (removed by it, or vanished); forget any stale listing of it.
    const engine = { ...context.engine };
    if (engine[child.name] && (child.containerId === undefined || engine[child.name]!.id === child.containerId)) delete engine[child.name];
    enqueue.emit({ type: 'container-removed', name: child.name });
    safely(logger, () => telemetry.setContainerStates(phaseCounts(Object.values(children))));
    reconcileInto({ ...context, children, engine }, enqueue);
  }

  function childCrashed(context: NodeAgentContext, actorId: string, enqueue: Enqueue): void {
    const child = Object.values(context.children).find((c) => c.actorId === actorId);
    enqueue.stopChild(actorId);
    if (!child) return;
    const crashes = (context.crashCounts[child.name] ?? 0) + 1;
    const delayMs = respawnDelayMs(crashes);
    const children = { ...context.children };
    delete children[child.name];
    // Keep what we know of its container so the next pass adopts it instead of creating a twin.
    const engine = child.containerId
      ? { ...context.engine, [child.name]: { id: child.containerId, name: child.name, labels: { stack: child.stack, service: child.service, slot: child.slot, specHash: child.specHash, nodeId }, state: child.phase === 'running' ? ('running' as const) : ('exited' as const), health: child.health } }
      : context.engine;
    enqueue.raise({ type: 'reconcile' }, { delay: delayMs });
    enqueue.assign({
      ...context,
      children,
      engine,
      crashCounts: { ...context.crashCounts, [child.name]: crashes },
      blockedUntilMs: { ...context.blockedUntilMs, [child.name]: clock.nowMs() + delayMs },
    });
  }
}

export type NodeAgentLogic = ReturnType<typeof createNodeAgentLogic>;
export { containerName };
