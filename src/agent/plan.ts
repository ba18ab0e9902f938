import type { ContainerState, HealthState } from '../seams/container-runtime.ts';
import type { ContainerPhase } from '../machines/container-types.ts';
import { hasHealthcheck } from './container-request.ts';
import { type DesiredService, localSlots, serviceKey, type SlotSpec, specForSlot, wantsSlot } from './desired.ts';
import { containerName, isSlotName, type ParsedLabels, type SlotIdentity, surgeName } from './labels.ts';
import { type EngineNetwork, networksToRemove } from './network-plan.ts';
import { vpnOf } from '../compose/vpn-groups.ts';

export type { EngineNetwork } from './network-plan.ts';

/**
 * The reconciler's brain: a pure function from (desired, observed, now) to the actions that move
 * observed towards desired. Level-triggered: it looks only at the current picture, never at what
 * changed, so running it again after a missed event or a crash converges all the same, and
 * running it twice in a row plans nothing new (the actor marks what is in flight).
 */

/** A replica that has a supervising child actor. */
export interface ObservedReplica extends SlotIdentity {
  readonly name: string;
  readonly specHash: string;
  readonly phase: ContainerPhase;
  readonly health: HealthState;
  readonly exitCode?: number;
  /** REMOVE already sent: nothing more to plan for it. */
  readonly removing: boolean;
  /** Once created: a VPN group's dependents are created against their VPN replica's id. */
  readonly containerId?: string;
}

/** A container the engine listed that carries our labels. */
export interface EngineContainer {
  readonly id: string;
  readonly name: string;
  readonly image: string;
  readonly labels: ParsedLabels;
  readonly state: ContainerState;
  readonly health: HealthState;
  readonly exitCode?: number;
  /** The engine's network mode; `container:<id>` for a VPN group's dependent. */
  readonly networkMode?: string;
  /** When its current run began (engine clock); listed only for VPN group members. */
  readonly startedAtMs?: number;
}

export interface PlanInput {
  readonly desired: readonly DesiredService[];
  readonly replicas: readonly ObservedReplica[];
  /** Engine containers by name; those with a child are owned by it and ignored here. */
  readonly engine: readonly EngineContainer[];
  /** Names whose child crashed recently: leave them alone until this time (respawn back-off). */
  readonly blockedUntilMs: Readonly<Record<string, number>>;
  /** This node's stack networks as last listed; absent = none known. */
  readonly networks?: readonly EngineNetwork[];
  /** Networks whose removal is in flight. */
  readonly networksRemoving?: Readonly<Record<string, unknown>>;
}

export type RemoveReason = 'stack-removed' | 'service-removed' | 'scale-down' | 'spec-changed';

export type PlanAction =
  /** `spec`: a start-first rollout's second replica of the slot (else the slot's own spec). */
  /** `vpnContainerId`: a VPN group's dependent joins this container's namespace (`container:<id>`). */
  | { readonly type: 'create'; readonly name: string; readonly slot: SlotIdentity; readonly service: DesiredService; readonly spec?: SlotSpec; readonly vpnContainerId?: string }
  | { readonly type: 'adopt'; readonly name: string; readonly container: EngineContainer; readonly service: DesiredService }
  | { readonly type: 'remove'; readonly name: string; readonly reason: RemoveReason }
  | { readonly type: 'remove-orphan'; readonly name: string; readonly container: EngineContainer; readonly reason: RemoveReason }
  | { readonly type: 'remove-network'; readonly name: string; readonly network: EngineNetwork };

export interface Plan {
  readonly actions: PlanAction[];
  /** Services held back, and why (shown in service status). */
  readonly waiting: { readonly stack: string; readonly service: string; readonly reason: string }[];
}

export function planReconcile(input: PlanInput, nowMs: number): Plan {
  const actions: PlanAction[] = [];
  const waiting: Plan['waiting'] = [];
  const bySvc = new Map(input.desired.map((d) => [serviceKey(d.stack, d.service), d]));
  const stacks = new Set(input.desired.map((d) => d.stack));
  const replicaByName = new Map(input.replicas.map((r) => [r.name, r]));
  const blocked = (name: string) => (input.blockedUntilMs[name] ?? 0) > nowMs;

  const whyUnwanted = (id: SlotIdentity, specHash: string): RemoveReason | undefined => {
    const d = bySvc.get(serviceKey(id.stack, id.service));
    if (!d) return stacks.has(id.stack) ? 'service-removed' : 'stack-removed';
    if (!wantsSlot(d, id.slot)) return 'scale-down';
    if (specHash !== specForSlot(d, id.slot).specHash && specHash !== d.surge?.[id.slot]?.specHash) return 'spec-changed';
    return undefined;
  };

  for (const r of input.replicas) {
    if (r.removing || r.phase === 'removed') continue;
    const reason = whyUnwanted(r, r.specHash);
    if (reason) actions.push({ type: 'remove', name: r.name, reason });
  }

  const engineByName = new Map<string, EngineContainer>();
  for (const c of input.engine) {
    engineByName.set(c.name, c);
    if (replicaByName.has(c.name) || blocked(c.name)) continue;
    const reason = isSlotName(c.name, c.labels) ? whyUnwanted(c.labels, c.labels.specHash) : 'service-removed';
    const d = bySvc.get(serviceKey(c.labels.stack, c.labels.service));
    // A VPN group's dependent that is not in a container's namespace is on some other network:
    // never adopted, whatever made it.
    const offNetwork = d !== undefined && vpnOf(d.spec) !== undefined && c.networkMode !== undefined && !c.networkMode.startsWith('container:');
    if (reason === undefined && d && !offNetwork) actions.push({ type: 'adopt', name: c.name, container: c, service: d });
    else if (offNetwork) actions.push({ type: 'remove-orphan', name: c.name, container: c, reason: 'spec-changed' });
    else actions.push({ type: 'remove-orphan', name: c.name, container: c, reason: reason ?? 'service-removed' });
  }

  // Every container of each slot, whatever its name (a start-first rollout runs two at a time).
  const bySlot = new Map<string, { name: string; specHash: string; leaving: boolean }[]>();
  const slotKey = (id: SlotIdentity) => `${serviceKey(id.stack, id.service)}#${id.slot}`;
  const occupy = (id: SlotIdentity, entry: { name: string; specHash: string; leaving: boolean }) => bySlot.set(slotKey(id), [...(bySlot.get(slotKey(id)) ?? []), entry]);
  for (const r of input.replicas) if (r.phase !== 'removed') occupy(r, { name: r.name, specHash: r.specHash, leaving: r.removing || whyUnwanted(r, r.specHash) !== undefined });
  for (const c of input.engine) if (!replicaByName.has(c.name)) occupy(c.labels, { name: c.name, specHash: c.labels.specHash, leaving: whyUnwanted(c.labels, c.labels.specHash) !== undefined });
  const taken = (name: string) => replicaByName.has(name) || engineByName.has(name) || blocked(name);

  for (const d of input.desired) {
    const missing: { id: SlotIdentity; name: string; spec?: SlotSpec }[] = [];
    for (const slot of localSlots(d)) {
      const id = { stack: d.stack, service: d.service, slot };
      const name = containerName(id);
      const present = bySlot.get(slotKey(id)) ?? [];
      const has = (hash: string) => present.some((entry) => !entry.leaving && entry.specHash === hash);
      // The slot's own replica: created once the slot is free (stop-first: the old one is gone
      // first, and names are unique in the engine).
      if (!has(specForSlot(d, slot).specHash) && present.length === 0 && !taken(name)) missing.push({ id, name });
      // start-first: the second replica starts at once, beside the one it will replace.
      const surge = d.surge?.[slot];
      if (surge && !has(surge.specHash)) {
        const surgeAs = taken(name) ? surgeName(id, surge.specHash) : name;
        if (!taken(surgeAs)) missing.push({ id, name: surgeAs, spec: surge });
      }
    }
    if (missing.length === 0) continue;
    // A replica created into a network whose removal is in flight would find it gone at start
    // ("network not found"): seen after a failover heal, when a node's last stale replica took
    // the stack network with it just as a replacement was placed there. Wait for the removal.
    const vanishing = d.spec.networkMode === undefined ? (d.spec.networks ?? []).find((m) => !m.network.external && input.networksRemoving?.[m.network.name] !== undefined) : undefined;
    if (vanishing) {
      waiting.push({ stack: d.stack, service: d.service, reason: `waiting for network ${vanishing.network.name} to finish its removal` });
      continue;
    }
    const blocker = unmetDependency(d, input.desired, input.replicas);
    if (blocker) {
      waiting.push({ stack: d.stack, service: d.service, reason: blocker });
      continue;
    }
    // A dependent of a VPN group is created only against a VPN replica that can carry it, and
    // only with that replica's id as its network: never before the VPN runs, never on any other network.
    const vpn = vpnOf(d.spec);
    for (const slot of missing) {
      const binding = vpn === undefined ? undefined : vpnBinding(d, vpn, slot.id.slot, input.desired, input.replicas);
      if (binding !== undefined && binding.containerId === undefined) {
        waiting.push({ stack: d.stack, service: d.service, reason: binding.reason });
        continue;
      }
      actions.push({ type: 'create', name: slot.name, slot: slot.id, service: d, ...(slot.spec ? { spec: slot.spec } : {}), ...(binding?.containerId !== undefined ? { vpnContainerId: binding.containerId } : {}) });
    }
  }
  const containers = [...input.replicas.filter((r) => r.phase !== 'removed'), ...input.engine.map((c) => c.labels)];
  for (const network of networksToRemove(input.desired, containers, input.networks ?? [], input.networksRemoving ?? {})) {
    actions.push({ type: 'remove-network', name: network.name, network });
  }
  return { actions, waiting };
}

/**
 * The container a dependent's slot joins: the same slot of its VPN service, running its current
 * spec, running, and healthy when it has a healthcheck (the group's start order). Dependent slot
 * i pairs with VPN slot i (the loader guarantees matching replicas).
 */
export function vpnBinding(dependent: DesiredService, vpn: string, slot: number, desired: readonly DesiredService[], replicas: readonly ObservedReplica[]): { containerId?: string; reason: string } {
  const target = desired.find((d) => d.stack === dependent.stack && d.service === vpn);
  if (!target) return { reason: `waiting for ${vpn}: its VPN service is not placed on this node` };
  const replica = replicas.find((r) => r.stack === target.stack && r.service === vpn && r.slot === slot && r.name === containerName(r) && !r.removing && r.specHash === specForSlot(target, slot).specHash);
  const healthcheck = hasHealthcheck(specForSlot(target, slot).spec);
  const ready = replica !== undefined && replica.containerId !== undefined && replica.phase === 'running' && (!healthcheck || replica.health === 'healthy');
  if (ready) return { containerId: replica.containerId!, reason: '' };
  return { reason: `waiting for ${vpn} to be ${healthcheck ? 'healthy' : 'running'}: ${dependent.service} runs only inside its network` };
}

/** Why `service` may not start yet, or undefined when every dependency is satisfied. */
export function unmetDependency(service: DesiredService, desired: readonly DesiredService[], replicas: readonly ObservedReplica[]): string | undefined {
  for (const [depName, dep] of Object.entries(service.spec.dependsOn)) {
    const target = desired.find((d) => d.stack === service.stack && d.service === depName);
    if (!target) {
      if (dep.required) return `waiting for ${depName}: not part of stack ${service.stack}`;
      continue;
    }
    const current = replicas.filter((r) => r.stack === target.stack && r.service === target.service && r.specHash === specForSlot(target, r.slot).specHash && !r.removing);
    const ready = current.filter((r) => {
      switch (dep.condition) {
        case 'service_started':
          return r.phase === 'running';
        case 'service_healthy':
          // Without a healthcheck a replica never reports healthy; running is the best we can know.
          return r.phase === 'running' && (r.health === 'healthy' || !hasHealthcheck(target.spec));
        case 'service_completed_successfully':
          return r.phase === 'exited' && r.exitCode === 0;
      }
    });
    if (ready.length < target.replicas) {
      const want = dep.condition === 'service_healthy' ? 'healthy' : dep.condition === 'service_started' ? 'running' : 'completed';
      return `waiting for ${depName}: ${ready.length}/${target.replicas} ${want}`;
    }
  }
  return undefined;
}
