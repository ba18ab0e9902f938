import { safely } from './engine-call.ts';
import { phaseCounts } from './agent-children.ts';
import { reconcileInto } from './agent-reconcile.ts';
import { respawnDelayMs } from './supervision.ts';
import { STORE_WATCH_ID, type Enqueue, type HandlerDeps, type NodeAgentContext } from './node-agent-types.ts';

// The node agent's answers to a child that finished or crashed (the policy is in supervision.ts).

export function storeDown(h: HandlerDeps, context: NodeAgentContext, error: string, enqueue: Enqueue): void {
  const { logger } = h;
  const storeFailures = context.storeFailures + 1;
  logger.error({ error }, 'desired-state subscription ended; re-subscribing');
  enqueue.stopChild(STORE_WATCH_ID);
  enqueue.raise({ type: 'store.resubscribe' }, { delay: respawnDelayMs(storeFailures) });
  enqueue.assign({ ...context, storeFailures });
}

export function childFinished(h: HandlerDeps, context: NodeAgentContext, actorId: string, enqueue: Enqueue): void {
  const { logger, telemetry, restartLedger } = h;
  const child = Object.values(context.children).find((c) => c.actorId === actorId);
  enqueue.stopChild(actorId);
  if (!child) return;
  // Removed (or vanished): its restart count has nobody left to belong to.
  if (child.containerId !== undefined) safely(logger, () => restartLedger.forget(child.containerId!));
  const children = { ...context.children };
  delete children[child.name];
  // Its container is gone (removed by it, or vanished); forget any stale listing of it.
  const engine = { ...context.engine };
  if (engine[child.name] && (child.containerId === undefined || engine[child.name]!.id === child.containerId)) delete engine[child.name];
  enqueue.emit({ type: 'container-removed', name: child.name });
  safely(logger, () => telemetry.setContainerStates(phaseCounts(Object.values(children))));
  reconcileInto(h, { ...context, children, engine }, enqueue);
}

export function childCrashed(h: HandlerDeps, context: NodeAgentContext, actorId: string, enqueue: Enqueue): void {
  const { clock, nodeId } = h;
  const child = Object.values(context.children).find((c) => c.actorId === actorId);
  enqueue.stopChild(actorId);
  if (!child) return;
  const crashes = (context.crashCounts[child.name] ?? 0) + 1;
  const delayMs = respawnDelayMs(crashes);
  const children = { ...context.children };
  delete children[child.name];
  // Keep what we know of its container so the next pass adopts it instead of creating a twin.
  const engine = child.containerId
    ? { ...context.engine, [child.name]: { id: child.containerId, name: child.name, image: child.image, labels: { stack: child.stack, service: child.service, slot: child.slot, specHash: child.specHash, nodeId }, state: child.phase === 'running' ? ('running' as const) : ('exited' as const), health: child.health } }
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
