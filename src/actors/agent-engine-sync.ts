import type { ContainerSummary, NetworkSummary, RuntimeEvent } from '../seams/container-runtime.ts';
import type { ContainerEvent, EffectResult } from '../machines/container-types.ts';
import type { EngineContainer, EngineNetwork } from '../agent/plan.ts';
import { LABEL_STACK, normalizeName, parseLabels } from '../agent/labels.ts';
import { engineRetryDelayMs } from '../agent/backoff.ts';
import { safely } from './engine-call.ts';
import { reconcileInto } from './agent-reconcile.ts';
import { syncVpnLinks } from '../orchestrator/vpn-link/agent-vpn-links.ts';
import { ENGINE_WATCH_ID, LIST_PREFIX, NETWORK_REMOVAL_PREFIX, type Enqueue, type HandlerDeps, type NodeAgentContext } from './node-agent-types.ts';

// How the node agent keeps its picture of the engine: full listings (at start, after the event
// stream recovers, and periodically), the event stream routed to the replica actors, and the
// stream's re-subscription with back-off when it ends (e.g. dockerd restarted).

/** What one listing of the engine returns: this node's containers and stack networks. */
export interface EngineListing {
  readonly containers: readonly ContainerSummary[];
  readonly networks: readonly NetworkSummary[];
}

export function startList(h: HandlerDeps, context: NodeAgentContext, enqueue: Enqueue): void {
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

export function listed(h: HandlerDeps, context: NodeAgentContext, result: EffectResult<EngineListing>, enqueue: Enqueue): void {
  const { logger, clock, nodeId } = h;
  enqueue.cancel('resync');
  if (!result.ok) {
    const listFailures = context.listFailures + 1;
    // Once per outage, not once per retry. An engine that was never reached is the daemon's
    // start-up warning (which says what to do); one that went away is news worth a warning.
    const news = listFailures === 1 && (context.listedOnce || result.code !== 'engine_unavailable');
    logger[news ? 'warn' : 'debug']({ error: result.message, code: result.code, attempt: listFailures }, 'engine listing failed; retrying until the engine answers');
    enqueue.raise({ type: 'resync' }, { id: 'resync', delay: engineRetryDelayMs(listFailures) });
    enqueue.assign({ ...context, listing: false, listFailures });
    return;
  }
  const engine: Record<string, EngineContainer> = {};
  for (const c of result.value.containers) {
    const labels = parseLabels(c.labels);
    if (!labels || labels.nodeId !== nodeId) continue;
    const name = normalizeName(c.name);
    engine[name] = {
      id: c.id, name, image: c.image, labels, state: c.state, health: c.health,
      ...(c.exitCode !== undefined ? { exitCode: c.exitCode } : {}),
      ...(c.networkMode !== undefined ? { networkMode: c.networkMode } : {}),
      ...(c.startedAtMs !== undefined ? { startedAtMs: c.startedAtMs } : {}),
    };
  }
  // Start times the listing knows (VPN group members) and the children do not yet: the
  // vpn-link judges namespaces by them, also for containers whose start event was missed.
  let children = context.children;
  for (const child of Object.values(context.children)) {
    const seen = engine[child.name];
    if (seen?.startedAtMs === undefined || seen.id !== child.containerId || (child.startedAtMs ?? 0) >= seen.startedAtMs) continue;
    if (children === context.children) children = { ...context.children };
    children[child.name] = { ...child, startedAtMs: seen.startedAtMs };
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
  // Restart counts of containers that went away while nobody watched (e.g. while the daemon was down).
  const known = new Set([...Object.values(engine).map((c) => c.id), ...Object.values(context.children).flatMap((c) => (c.containerId ? [c.containerId] : []))]);
  safely(logger, () => h.restartLedger.retainOnly(known));
  const networks: Record<string, EngineNetwork> = {};
  for (const n of result.value.networks) {
    const stack = n.labels[LABEL_STACK];
    if (stack) networks[n.name] = { id: n.id, name: n.name, stack };
  }
  if (context.listFailures > 0) logger.info({ failedAttempts: context.listFailures }, 'docker engine answers again');
  enqueue.emit({ type: 'engine-listed', containers: Object.keys(engine).length });
  enqueue.raise({ type: 'resync' }, { id: 'resync', delay: h.resyncIntervalMs });
  if (context.relistWanted) enqueue.raise({ type: 'resync' });
  reconcileInto(h, { ...context, children, engine, networks, listing: false, relistWanted: false, listedOnce: true, listFailures: 0, streamFailures: context.streamConnected ? 0 : context.streamFailures }, enqueue);
}

/**
 * A network removal finished. Either way the network leaves the agent's picture: removed, or
 * (still in use, engine trouble) back with the next listing, when the planner tries again —
 * not on every event in between.
 */
export function networkRemoved(h: HandlerDeps, context: NodeAgentContext, name: string, result: EffectResult<void>, enqueue: Enqueue): void {
  const { logger } = h;
  enqueue.stopChild(`${NETWORK_REMOVAL_PREFIX}${name}`);
  const networks = { ...context.networks };
  delete networks[name];
  const networksRemoving = { ...context.networksRemoving };
  delete networksRemoving[name];
  if (result.ok) {
    logger.info({ network: name }, 'removed stack network');
    enqueue.emit({ type: 'network-removed', name });
  } else {
    logger.warn({ network: name, error: result.message }, 'stack network not removed yet; retrying after the next listing');
  }
  enqueue.assign({ networks, networksRemoving });
}

export function routeEngineEvent(h: HandlerDeps, context: NodeAgentContext, event: RuntimeEvent, enqueue: Enqueue): void {
  const { clock } = h;
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
  if (event.action === 'start') {
    // The run's start by the engine's clock: a VPN group's dependent that started before its
    // VPN's current run is in a dead namespace (vpn-link).
    const children = { ...context.children, [child.name]: { ...child, startedAtMs: event.timeMs } };
    const links = syncVpnLinks(h, { ...context, engine, children }, enqueue);
    enqueue.assign({ children, ...links });
    // Restarted by the engine (`docker restart`) while its actor waits out a restart delay.
    if (child.phase === 'backoff') enqueue.sendTo(child.actorId, { type: 'STARTED', atMs: clock.nowMs() } satisfies ContainerEvent);
    return;
  }
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

export function streamDown(h: HandlerDeps, context: NodeAgentContext, error: string | undefined, enqueue: Enqueue): void {
  const { logger, telemetry } = h;
  const streamFailures = context.streamFailures + 1;
  const delayMs = engineRetryDelayMs(streamFailures);
  // Once per outage: the retries after the first are debug, and the listing says when it is back.
  logger[streamFailures === 1 && context.listedOnce ? 'warn' : 'debug']({ error, retryInMs: delayMs, attempt: streamFailures }, 'engine event stream ended; re-subscribing');
  safely(logger, () => telemetry.engineError('events'));
  enqueue.stopChild(ENGINE_WATCH_ID);
  enqueue.emit({ type: 'engine-stream', connected: false, ...(error ? { error } : {}) });
  enqueue.cancel('engine.resubscribe');
  enqueue.raise({ type: 'engine.resubscribe' }, { id: 'engine.resubscribe', delay: delayMs });
  enqueue.assign({ ...context, streamConnected: false, streamFailures });
}
