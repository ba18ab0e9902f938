import type { ContainerSummary, RuntimeEvent } from '../seams/container-runtime.ts';
import type { ContainerEvent, EffectResult } from '../machines/container-types.ts';
import type { EngineContainer } from '../agent/plan.ts';
import { normalizeName, parseLabels } from '../agent/labels.ts';
import { engineRetryDelayMs } from '../agent/backoff.ts';
import { safely } from './engine-call.ts';
import { reconcileInto } from './agent-reconcile.ts';
import { ENGINE_WATCH_ID, LIST_PREFIX, type Enqueue, type HandlerDeps, type NodeAgentContext } from './node-agent-types.ts';

// How the node agent keeps its picture of the engine: full listings (at start, after the event
// stream recovers, and periodically), the event stream routed to the replica actors, and the
// stream's re-subscription with back-off when it ends (e.g. dockerd restarted).

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

export function listed(h: HandlerDeps, context: NodeAgentContext, result: EffectResult<ContainerSummary[]>, enqueue: Enqueue): void {
  const { logger, clock, nodeId } = h;
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
    engine[name] = { id: c.id, name, image: c.image, labels, state: c.state, health: c.health, ...(c.exitCode !== undefined ? { exitCode: c.exitCode } : {}) };
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
  enqueue.raise({ type: 'resync' }, { id: 'resync', delay: h.resyncIntervalMs });
  if (context.relistWanted) enqueue.raise({ type: 'resync' });
  reconcileInto(h, { ...context, engine, listing: false, relistWanted: false, listedOnce: true, listFailures: 0, streamFailures: context.streamConnected ? 0 : context.streamFailures }, enqueue);
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
  logger.warn({ error, retryInMs: delayMs }, 'engine event stream ended; re-subscribing');
  safely(logger, () => telemetry.engineError('events'));
  enqueue.stopChild(ENGINE_WATCH_ID);
  enqueue.emit({ type: 'engine-stream', connected: false, ...(error ? { error } : {}) });
  enqueue.cancel('engine.resubscribe');
  enqueue.raise({ type: 'engine.resubscribe' }, { id: 'engine.resubscribe', delay: delayMs });
  enqueue.assign({ ...context, streamConnected: false, streamFailures });
}
