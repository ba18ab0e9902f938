import { enqueueActions, fromCallback, fromPromise, setup } from 'xstate';
import type { ClusterStateData } from '../cluster/state.ts';
import type { EffectResult } from '../machines/container-types.ts';
import { desiredServices } from '../agent/desired.ts';
import { nodeSelector } from '../agent/labels.ts';
import type { AgentEvent } from './agent-types.ts';
import { type ChildEntry, phaseCounts, toView } from './agent-children.ts';
import { createContainerActorLogic } from './container-actor.ts';
import { engineCall, safely } from './engine-call.ts';
import { engineWatchLogic } from './engine-watch.ts';
import { describeError } from './supervision.ts';
import { MemoryRestartLedger } from '../seams/restart-ledger.ts';
import { reconcileInto } from './agent-reconcile.ts';
import { logReplicaChange } from './agent-replica-log.ts';
import { type EngineListing, listed, networkRemoved, routeEngineEvent, startList, streamDown } from './agent-engine-sync.ts';
import { childCrashed, childFinished, storeDown } from './agent-child-events.ts';
import { VPN_LINK_PREFIX, vpnLinkActorLogic, withVpnStartTimes } from '../orchestrator/vpn-link/vpn-link-actor.ts';
import { vpnCommand, vpnReport } from '../orchestrator/vpn-link/agent-vpn-links.ts';
import {
  type AgentMachineEvent,
  CONTAINER_PREFIX,
  ENGINE_WATCH_ID,
  type Enqueue,
  LIST_PREFIX,
  NETWORK_REMOVAL_PREFIX,
  type NodeAgentContext,
  type NodeAgentDeps,
  STORE_WATCH_ID,
} from './node-agent-types.ts';

export type { NodeAgentContext, NodeAgentDeps } from './node-agent-types.ts';

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
export function createNodeAgentLogic(givenDeps: NodeAgentDeps) {
  const deps = { ...givenDeps, restartLedger: givenDeps.restartLedger ?? new MemoryRestartLedger() };
  const { runtime, store, clock, logger, telemetry, nodeId, restartLedger } = deps;
  const baseContainerLogic = createContainerActorLogic({ runtime, clock, logger, telemetry });
  const containerLogic = deps.wrapContainerLogic ? deps.wrapContainerLogic(baseContainerLogic) : baseContainerLogic;

  // Containers and stack networks in one listing: the planner judges networks by the containers left.
  const listLogic = fromPromise<EffectResult<EngineListing>>(() => engineCall({ clock, logger, telemetry }, 'list', async () => {
    const [containers, networks] = await Promise.all([runtime.list(nodeSelector(nodeId)), runtime.listNetworks(nodeSelector(nodeId))]);
    return { containers: await withVpnStartTimes(runtime, containers), networks };
  }));
  const removeNetworkLogic = fromPromise<EffectResult<void>, { id: string; name: string }>(({ input }) =>
    engineCall({ clock, logger, telemetry }, 'removeNetwork', () => runtime.removeNetwork(input.id)));
  const storeWatchLogic = fromCallback(({ sendBack }) => {
    sendBack({ type: 'desired.changed', state: store.current() });
    return store.subscribe((state: Readonly<ClusterStateData>) => sendBack({ type: 'desired.changed', state }));
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
      removeNetwork: removeNetworkLogic,
      engineWatch: engineWatchLogic(runtime),
      storeWatch: storeWatchLogic,
      vpnLink: vpnLinkActorLogic,
    },
  }).createMachine({
    id: 'node-agent',
    context: {
      desired: [],
      children: {},
      engine: {},
      networks: {},
      networksRemoving: {},
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
          const desired = desiredServices(event.state, deps.runPlacedOnly ? deps.nodeId : undefined);
          enqueue.emit({ type: 'desired-changed', services: desired.length });
          reconcileInto(deps, { ...context, desired, storeFailures: 0 }, enqueue);
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
          // Restart counts outlive the daemon: the next one adopts this container and goes on counting.
          safely(logger, () => {
            if (child.containerId !== undefined && child.containerId !== updated.containerId) restartLedger.forget(child.containerId);
            if (updated.containerId !== undefined) restartLedger.record(updated.containerId, updated.restarts);
          });
          safely(logger, () => logReplicaChange(logger, context, child, updated, children, event.willRestart === true));
          enqueue.emit({ type: 'container', container: toView(updated) });
          safely(logger, () => telemetry.setContainerStates(phaseCounts(Object.values(children))));
          // A phase change may unblock dependants or free a slot; a pure health change may too.
          reconcileInto(deps, { ...context, children, epoch }, enqueue);
        }),
      },
      'engine.event': {
        actions: act<'engine.event'>(({ context, event, enqueue }) => routeEngineEvent(deps, context, event.event, enqueue)),
      },
      'engine.stream-ended': {
        actions: act<'engine.stream-ended'>(({ context, event, enqueue }) => streamDown(deps, context, event.error, enqueue)),
      },
      'engine.resubscribe': {
        actions: act<'engine.resubscribe'>(({ context, enqueue }) => {
          enqueue.spawnChild('engineWatch', { id: ENGINE_WATCH_ID });
          enqueue.emit({ type: 'engine-stream', connected: true });
          startList(deps, { ...context, streamConnected: true }, enqueue);
        }),
      },
      'store.resubscribe': {
        actions: act<'store.resubscribe'>(({ enqueue }) => enqueue.spawnChild('storeWatch', { id: STORE_WATCH_ID })),
      },
      'vpn.command': {
        actions: act<'vpn.command'>(({ context, event, enqueue }) => {
          const next = vpnCommand(deps, context, event, enqueue);
          if (next) reconcileInto(deps, next, enqueue);
        }),
      },
      'vpn.report': { actions: act<'vpn.report'>(({ context, event, enqueue }) => vpnReport(deps, context, event, enqueue)) },
      resync: { actions: act<'resync'>(({ context, enqueue }) => startList(deps, context, enqueue)) },
      reconcile: { actions: act<'reconcile'>(({ context, enqueue }) => reconcileInto(deps, context, enqueue)) },
      'xstate.done.actor.*': {
        actions: act<`xstate.done.actor.${string}`>(({ context, event, enqueue }) => {
          const id = event.actorId;
          if (id.startsWith(CONTAINER_PREFIX)) childFinished(deps, context, id, enqueue);
          else if (id.startsWith(LIST_PREFIX)) {
            // A finished listing stays among the children until stopped: one per resync would pile up.
            enqueue.stopChild(id);
            listed(deps, context, (event as { output: EffectResult<EngineListing> }).output, enqueue);
          }
          else if (id.startsWith(NETWORK_REMOVAL_PREFIX)) networkRemoved(deps, context, id.slice(NETWORK_REMOVAL_PREFIX.length), (event as { output: EffectResult<void> }).output, enqueue);
          else if (id === ENGINE_WATCH_ID) streamDown(deps, context, 'event stream completed', enqueue);
          else if (id === STORE_WATCH_ID) storeDown(deps, context, 'store subscription completed', enqueue);
        }),
      },
      'xstate.error.actor.*': {
        actions: act<`xstate.error.actor.${string}`>(({ context, event, enqueue }) => {
          const id = event.actorId;
          const error = describeError((event as { error: unknown }).error);
          logger.error({ child: id, error }, 'child actor failed');
          enqueue.emit({ type: 'child-crashed', child: id, error });
          if (id.startsWith(CONTAINER_PREFIX)) childCrashed(deps, context, id, enqueue);
          else if (id.startsWith(VPN_LINK_PREFIX)) {
            // Forget it: the next pass spawns a new link, which decides again from what it sees.
            enqueue.stopChild(id);
            const vpnObserved = { ...context.vpnObserved };
            delete vpnObserved[id.slice(VPN_LINK_PREFIX.length)];
            enqueue.assign({ vpnObserved });
            enqueue.raise({ type: 'reconcile' }, { delay: 1000 });
          }
          else if (id.startsWith(LIST_PREFIX)) listed(deps, context, { ok: false, code: 'unknown', message: error, atMs: clock.nowMs() }, enqueue);
          else if (id.startsWith(NETWORK_REMOVAL_PREFIX)) networkRemoved(deps, context, id.slice(NETWORK_REMOVAL_PREFIX.length), { ok: false, code: 'unknown', message: error, atMs: clock.nowMs() }, enqueue);
          else if (id === ENGINE_WATCH_ID) streamDown(deps, context, error, enqueue);
          else if (id === STORE_WATCH_ID) storeDown(deps, context, error, enqueue);
        }),
      },
    },
  });

  // Handlers live in agent-reconcile.ts, agent-engine-sync.ts and agent-child-events.ts.
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
}

export type NodeAgentLogic = ReturnType<typeof createNodeAgentLogic>;
