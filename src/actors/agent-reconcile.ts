import type { ContainerEvent, ContainerMachineInput } from '../machines/container-types.ts';
import { planReconcile } from '../agent/plan.ts';
import { type DesiredService, type SlotSpec, specForSlot } from '../agent/desired.ts';
import { hasHealthcheck, toCreateContainerRequest } from '../agent/container-request.ts';
import { ingressDrainMs } from '../ingress/ingress-ports.ts';
import { type ChildEntry, toObserved } from './agent-children.ts';
import { syncVpnLinks } from '../orchestrator/vpn-link/agent-vpn-links.ts';
import { safely } from './engine-call.ts';
import { CONTAINER_PREFIX, NETWORK_REMOVAL_PREFIX, type Enqueue, type HandlerDeps, type NodeAgentContext } from './node-agent-types.ts';

/** `container:<id>` → id. */
export function networkTargetOf(networkMode: string | undefined): string | undefined {
  return networkMode?.startsWith('container:') ? networkMode.slice('container:'.length) : undefined;
}

/** An adopted replica is either the slot's own or a start-first rollout's second one. */
function adoptedSpec(service: DesiredService, slot: number, specHash: string): SlotSpec {
  const surge = service.surge?.[slot];
  return surge && surge.specHash === specHash ? surge : specForSlot(service, slot);
}

/**
 * One reconcile pass: the pure planner's verdict on the agent's current picture, translated into
 * child actors spawned (create, adopt, remove an orphan) or told to REMOVE. Before the first
 * engine listing it only stores the context, so a restarted agent adopts instead of creating twins.
 */
export function reconcileInto(h: HandlerDeps, context: NodeAgentContext, enqueue: Enqueue): void {
  const { logger, clock, telemetry, nodeId, restartLedger } = h;
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
      networks: Object.values(context.networks),
      networksRemoving: context.networksRemoving,
    },
    startedMs,
  );
  const children = { ...context.children };
  const networksRemoving = { ...context.networksRemoving };
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
    children[name] = { ...entry, actorId, phase: 'pending', health: 'none', restarts: input.restartsBefore ?? 0, removing, sinceEpoch: context.epoch };
  };
  for (const action of plan.actions) {
    switch (action.type) {
      case 'create':
      case 'adopt': {
        const slot = action.type === 'create' ? action.slot : { stack: action.service.stack, service: action.service.service, slot: action.container.labels.slot };
        // A slot a rollout has not moved yet runs its older spec.
        const d = action.type === 'create' && action.spec ? action.spec : action.type === 'adopt' ? adoptedSpec(action.service, slot.slot, action.container.labels.specHash) : specForSlot(action.service, slot.slot);
        // A VPN group's dependent names its VPN container: the one the planner bound it to, or
        // the one an adopted container was created against (the vpn-link judges whether that is still X).
        const vpnContainerId = action.type === 'create' ? action.vpnContainerId : networkTargetOf(action.container.networkMode);
        const input: ContainerMachineInput = {
          name: action.name,
          request: toCreateContainerRequest(slot, d.spec, d.specHash, nodeId, action.name, vpnContainerId),
          restartPolicy: d.spec.deploy.restartPolicy,
          hasHealthcheck: hasHealthcheck(d.spec),
          stopGracePeriodMs: d.spec.stopGracePeriodMs,
          drainMs: ingressDrainMs(d.spec),
          ...(action.type === 'adopt' ? { restartsBefore: restartLedger.restartsOf(action.container.id) } : {}),
        };
        const first: ContainerEvent = action.type === 'create'
          ? { type: 'START' }
          : { type: 'ADOPT', containerId: action.container.id, state: action.container.state, health: action.container.health, atMs: startedMs, ...(action.container.exitCode !== undefined ? { exitCode: action.container.exitCode } : {}) };
        logger.info({ container: action.name, action: action.type }, action.type === 'create' ? 'creating replica' : 'adopting container');
        const startedAtMs = action.type === 'adopt' ? action.container.startedAtMs : undefined;
        spawn(action.name, input, {
          name: action.name, ...slot, specHash: d.specHash, image: d.spec.image,
          ...(action.type === 'adopt' ? { containerId: action.container.id } : {}),
          ...(vpnContainerId !== undefined ? { networkTarget: vpnContainerId } : {}),
          ...(startedAtMs !== undefined ? { startedAtMs } : {}),
        }, [first], false);
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
        spawn(action.name, input, { name: action.name, stack: c.labels.stack, service: c.labels.service, slot: c.labels.slot, specHash: c.labels.specHash, image: c.image, containerId: c.id }, [adopt, { type: 'REMOVE' }], true);
        break;
      }
      case 'remove-network': {
        const { network } = action;
        logger.info({ network: network.name, stack: network.stack }, 'removing stack network');
        effects.push(() => enqueue.spawnChild('removeNetwork', { id: `${NETWORK_REMOVAL_PREFIX}${network.name}`, input: { id: network.id, name: network.name } }));
        networksRemoving[network.name] = true;
        break;
      }
    }
  }
  for (const run of effects) run();
  const links = syncVpnLinks(h, { ...context, children }, enqueue);
  enqueue.assign({ ...context, children, networksRemoving, generation, waiting: plan.waiting, ...links });
  const durationMs = clock.nowMs() - startedMs;
  safely(logger, () => telemetry.observeReconcile(durationMs));
  if (plan.actions.length > 0) enqueue.emit({ type: 'reconciled', actions: plan.actions.length, durationMs });
}
