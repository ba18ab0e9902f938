import type { VpnOnUnhealthy } from '../../compose/types.ts';
import { vpnGroupsOf, vpnOf } from '../../compose/vpn-groups.ts';
import { type DesiredService, localSlots, specForSlot, wantsSlot } from '../../agent/desired.ts';
import { hasHealthcheck } from '../../agent/container-request.ts';
import { containerName } from '../../agent/labels.ts';
import type { ContainerEvent } from '../../machines/container-types.ts';
import type { DependentObservation, LinkCommand, LinkObservation, LinkReport, LinkView, VpnLinkInput } from '../../machines/vpn-link-types.ts';
import type { ChildEntry } from '../../actors/agent-children.ts';
import type { ServiceStatus, ServiceVpnLink } from '../../actors/agent-types.ts';
import { safely } from '../../actors/engine-call.ts';
import type { Enqueue, HandlerDeps, NodeAgentContext } from '../../actors/node-agent-types.ts';
import { VPN_LINK_PREFIX } from './vpn-link-actor.ts';

// The node agent's side of the vpn-links: one link actor per VPN group slot this node runs, fed
// an observation whenever what it watches changed, and the commands it answers with carried out
// on the dependents' replica actors.

/** One VPN group slot on this node. */
export interface LinkSpec {
  readonly input: VpnLinkInput;
  /** X's container name. */
  readonly vpnName: string;
  readonly vpnHasHealthcheck: boolean;
  /** Dependent container names, in depends_on order. */
  readonly dependents: readonly string[];
}

/** The VPN group slots of what this node runs. */
export function linkSpecsOf(desired: readonly DesiredService[]): LinkSpec[] {
  const out: LinkSpec[] = [];
  const stacks = new Map<string, DesiredService[]>();
  for (const d of desired) stacks.set(d.stack, [...(stacks.get(d.stack) ?? []), d]);
  for (const [stack, services] of stacks) {
    const byName = new Map(services.map((d) => [d.service, d]));
    for (const group of vpnGroupsOf({ services: services.map((d) => d.spec) })) {
      const vpn = byName.get(group.vpn);
      if (!vpn) continue;
      const onUnhealthy: VpnOnUnhealthy = vpn.spec.vpn?.onUnhealthy ?? 'stop';
      for (const slot of localSlots(vpn)) {
        const dependents = group.dependents.filter((name) => {
          const d = byName.get(name);
          return d !== undefined && wantsSlot(d, slot);
        });
        const vpnName = containerName({ stack, service: group.vpn, slot });
        out.push({
          input: { link: vpnName, stack, vpn: group.vpn, slot, onUnhealthy },
          vpnName,
          vpnHasHealthcheck: hasHealthcheck(specForSlot(vpn, slot).spec),
          dependents: dependents.map((service) => containerName({ stack, service, slot })),
        });
      }
    }
  }
  return out;
}

function dependentPhase(child: ChildEntry | undefined, inEngine: boolean): DependentObservation['phase'] {
  if (!child) return inEngine ? 'busy' : 'absent';
  if (child.removing) return 'removing';
  switch (child.phase) {
    case 'pending':
    case 'creating':
    case 'starting':
      return 'busy';
    case 'running':
    case 'holding':
    case 'held':
    case 'pausing':
    case 'paused':
      return child.phase;
    case 'exited':
    case 'backoff':
    case 'engine-backoff':
    case 'failed':
      return 'down';
    case 'stopping':
    case 'removing':
    case 'removed':
      return 'removing';
  }
}

/** What a link sees now (without the time, so an unchanged picture is not sent again). */
export function observeLink(spec: LinkSpec, context: Pick<NodeAgentContext, 'children' | 'engine'>): Omit<LinkObservation, 'atMs'> {
  const x = context.children[spec.vpnName];
  const present = x !== undefined && !x.removing && x.phase !== 'removed' && x.containerId !== undefined;
  const vpn = {
    ...(present ? { containerId: x.containerId! } : {}),
    running: present && x.phase === 'running',
    health: present ? x.health : 'none' as const,
    ...(present && x.startedAtMs !== undefined ? { startedAtMs: x.startedAtMs } : {}),
    hasHealthcheck: spec.vpnHasHealthcheck,
  };
  const dependents = spec.dependents.map((name): DependentObservation => {
    const child = context.children[name];
    const phase = dependentPhase(child, context.engine[name] !== undefined);
    return {
      name,
      phase,
      ...(child?.containerId !== undefined && phase !== 'absent' ? { containerId: child.containerId } : {}),
      ...(child?.networkTarget !== undefined ? { networkTarget: child.networkTarget } : {}),
      ...(child?.startedAtMs !== undefined ? { startedAtMs: child.startedAtMs } : {}),
    };
  });
  return { vpn, dependents };
}

/**
 * Spawns the link actors of new groups, stops those of groups gone, and sends each an
 * observation when its picture changed. Returns the context fields to assign.
 */
export function syncVpnLinks(h: HandlerDeps, context: NodeAgentContext, enqueue: Enqueue): Pick<NodeAgentContext, 'vpnObserved' | 'vpnLinks'> {
  const before = context.vpnObserved ?? {};
  const vpnObserved: Record<string, string> = {};
  let vpnLinks = context.vpnLinks ?? {};
  const specs = context.listedOnce ? linkSpecsOf(context.desired) : [];
  for (const spec of specs) {
    const id = `${VPN_LINK_PREFIX}${spec.input.link}`;
    const inputKey = JSON.stringify(spec.input);
    const observation = observeLink(spec, context);
    const key = `${inputKey}\n${JSON.stringify(observation)}`;
    vpnObserved[spec.input.link] = key;
    const previous = before[spec.input.link];
    if (previous === key) continue;
    if (previous === undefined || !previous.startsWith(`${inputKey}\n`)) {
      if (previous !== undefined) enqueue.stopChild(id);
      enqueue.spawnChild('vpnLink', { id, input: spec.input });
    }
    enqueue.sendTo(id, { type: 'OBSERVE', observation: { ...observation, atMs: h.clock.nowMs() } });
  }
  for (const link of Object.keys(before)) {
    if (vpnObserved[link] !== undefined) continue;
    enqueue.stopChild(`${VPN_LINK_PREFIX}${link}`);
    if (vpnLinks[link]) {
      vpnLinks = { ...vpnLinks };
      delete vpnLinks[link];
      enqueue.emit({ type: 'vpn-link-removed', link });
      safely(h.logger, () => h.telemetry.vpnLinkRemoved?.(link));
    }
  }
  return { vpnObserved, vpnLinks };
}

/**
 * A link's command, carried out on the dependent's replica actor. A command decided for a
 * container that has since been replaced (or is being removed) is dropped: the link decides
 * again from the next observation.
 */
export function vpnCommand(h: HandlerDeps, context: NodeAgentContext, command: LinkCommand, enqueue: Enqueue): NodeAgentContext | undefined {
  const child = context.children[command.name];
  if (!child || child.removing || child.containerId !== command.containerId) return undefined;
  h.logger.info({ link: command.link, container: command.name, command: command.command }, `vpn-link: ${command.command} ${command.name}`);
  const events: Record<LinkCommand['command'], ContainerEvent> = { hold: { type: 'HOLD' }, pause: { type: 'PAUSE' }, release: { type: 'RELEASE' }, recreate: { type: 'REMOVE' } };
  enqueue.sendTo(child.actorId, events[command.command]);
  if (command.command !== 'recreate') return undefined;
  // Removed now; the planner creates it again once gone, against X's current container.
  return { ...context, children: { ...context.children, [command.name]: { ...child, removing: true } } };
}

/** A link's report: kept for the API and the CLI, logged, counted, and passed on as an agent event. */
export function vpnReport(h: HandlerDeps, context: NodeAgentContext, report: LinkReport, enqueue: Enqueue): void {
  const { view } = report;
  if (context.vpnObserved?.[view.link] === undefined) return; // a stopped link's late word
  const before = context.vpnLinks?.[view.link];
  const level = view.state === 'down' ? 'warn' : 'info';
  if (before?.detail !== view.detail) {
    h.logger[level]({ link: view.link, stack: view.stack, vpn: view.vpn, state: view.state, ...(report.recoveredSeconds !== undefined ? { recoveredSeconds: report.recoveredSeconds } : {}) }, `vpn ${view.stack}/${view.vpn}: ${view.detail}`);
  }
  safely(h.logger, () => h.telemetry.vpnLink?.(view, report.recoveredSeconds));
  enqueue.emit({ type: 'vpn-link', link: view, ...(report.recoveredSeconds !== undefined ? { recoveredSeconds: report.recoveredSeconds } : {}) });
  enqueue.assign({ vpnLinks: { ...context.vpnLinks, [view.link]: view } });
}

const severity: Record<LinkView['state'], number> = { up: 0, starting: 1, recovering: 2, down: 3 };

/** The worst of several links' states (a group of several replica slots). */
export function worstLink<T extends Pick<LinkView, 'state'>>(links: readonly T[]): T | undefined {
  return links.reduce<T | undefined>((worst, link) => (worst === undefined || severity[link.state] > severity[worst.state] ? link : worst), undefined);
}

/** Service statuses with their VPN group's link state, for `constellation services` and the API. */
export function withVpnLinks(statuses: readonly ServiceStatus[], desired: readonly DesiredService[], links: readonly LinkView[]): ServiceStatus[] {
  if (links.length === 0) return [...statuses];
  return statuses.map((status) => {
    const spec = desired.find((d) => d.stack === status.stack && d.service === status.service)?.spec;
    if (!spec) return status;
    const joined = vpnOf(spec);
    const group = joined ?? status.service;
    const worst = worstLink(links.filter((link) => link.stack === status.stack && link.vpn === group));
    if (!worst) return status;
    const vpn: ServiceVpnLink = { group, role: joined === undefined ? 'vpn' : 'dependent', state: worst.state, detail: worst.detail };
    return { ...status, vpn };
  });
}

export type { LinkView };
