/**
 * VPN groups, checked with the whole stack in view (vpn-groups.ts says what a group is). Refuses,
 * before anything is written, what Docker would refuse when the dependent is created, or what
 * could not run as one unit; every message names both services:
 *
 *   service:X / container:X naming no service of the stack  (container:NAME may name a service
 *        by its name or its container_name; it becomes service:<that service>)
 *   ports, hostname, dns, dns_search, dns_opt, networks, extra_hosts, mac_address, links, expose
 *        on a dependent: the engine refuses them in another container's namespace; the namespace
 *        is X's, so they are set (ports published) on X
 *   a chain (a → b → X) or a cycle (a → b → a) of service: references
 *   a group split by placement: different deploy modes, or constraints of two members that no
 *        node can meet together (`zone==eu` against `zone==us`, `role==manager` against `!=`)
 *   replicas: a dependent runs exactly as many replicas as X (dependent slot i lives in X's
 *        slot i; both global is one of each per node); anything else is refused
 *
 * A dependent's placement preferences are warned about (the group is ranked by its VPN's), and so
 * is `constellation.rebalance: "true"` on any member (a group moves only whole).
 * Accepted dependents get an implicit `depends_on: { X: service_started }` (as Compose adds
 * one), so every consumer of the stack order starts X first, and X gets its VpnSpec.
 */
import { composeCodes } from './compose-codes.ts';
import type { DiagnosticSink } from './diagnostics.ts';
import { sharedNamespaceOf } from './normalize-network-mode.ts';
import { normalizeVpnOptions } from './normalize-vpn-options.ts';
import type { ServiceSpec } from './types.ts';
import type { KeyPath } from './yaml-source.ts';
import { REBALANCE_LABEL, wantsRebalance } from '../orchestrator/failover/delivery-mode.ts';
import { constraintsContradict, isConstraintError, parseConstraint, type Constraint } from '../scheduler/constraints.ts';

type RawServices = Readonly<Record<string, Record<string, unknown> | null>>;

/** Keys the engine refuses next to a container network mode, and what to do instead. */
const dependentKeys: Readonly<Record<string, string>> = {
  ports: 'publish them on',
  expose: 'expose them on',
  hostname: 'set it on',
  dns: 'set it on',
  dns_search: 'set it on',
  dns_opt: 'set it on',
  extra_hosts: 'set them on',
  mac_address: 'set it on',
  networks: 'attach',
  links: 'link',
};

export function checkVpnGroups(services: readonly ServiceSpec[], raw: RawServices, namesInFile: ReadonlySet<string>, sink: DiagnosticSink): ServiceSpec[] {
  const byName = new Map(services.map((s) => [s.name, s]));
  const targets = resolveTargets(services, raw, namesInFile, sink);
  const broken = checkChains(services, targets, sink);
  const accepted = new Map([...targets].filter(([dependent, vpn]) => !broken.has(dependent) && byName.has(vpn)));

  const dependentsOf = new Map<string, ServiceSpec[]>();
  for (const service of services) {
    const vpn = accepted.get(service.name);
    if (vpn === undefined) continue;
    dependentsOf.set(vpn, [...dependentsOf.get(vpn) ?? [], service]);
  }
  for (const [vpnName, dependents] of dependentsOf) {
    const vpn = byName.get(vpnName)!;
    warnRebalance(vpn, vpnName, raw, sink);
    dependents.forEach((dependent, index) => {
      checkDependentKeys(dependent.name, vpnName, raw, sink);
      checkShape(dependent, vpn, raw, sink);
      checkConstraints(dependent, vpn, raw, sink, 'its VPN');
      warnUnusedPreferences(dependent, vpnName, sink);
      warnRebalance(dependent, vpnName, raw, sink);
      for (const other of dependents.slice(0, index)) checkConstraints(dependent, other, raw, sink, 'another member of the same group');
    });
  }

  return services.map((service) => {
    const vpn = accepted.get(service.name);
    const vpnSpec = normalizeVpnOptions(raw[service.name] ?? {}, ['services', service.name], dependentsOf.has(service.name), sink);
    const withVpn = vpnSpec === undefined ? service : { ...service, vpn: vpnSpec };
    if (vpn === undefined) return withVpn;
    return {
      ...withVpn,
      networkMode: `service:${vpn}`,
      dependsOn: Object.hasOwn(service.dependsOn, vpn)
        ? service.dependsOn
        : { [vpn]: { condition: 'service_started', required: true, restart: false }, ...service.dependsOn },
    };
  });
}

/** dependent → the service whose namespace it joins; unknown names are reported here. */
function resolveTargets(services: readonly ServiceSpec[], raw: RawServices, namesInFile: ReadonlySet<string>, sink: DiagnosticSink): Map<string, string> {
  const byContainerName = new Map<string, string>();
  for (const [name, service] of Object.entries(raw)) {
    const containerName = service?.container_name;
    if (typeof containerName === 'string' && containerName.trim() !== '') byContainerName.set(containerName.trim(), name);
  }
  const targets = new Map<string, string>();
  for (const service of services) {
    const shared = sharedNamespaceOf(service.networkMode);
    if (shared === undefined) continue;
    const path = ['services', service.name, 'network_mode'];
    const named = namesInFile.has(shared.target) ? shared.target : shared.kind === 'container' ? byContainerName.get(shared.target) : undefined;
    if (named !== undefined) {
      targets.set(service.name, named);
    } else if (shared.kind === 'service') {
      sink.error(path, composeCodes.networkModeUnknownService,
        `service "${service.name}" has network_mode "service:${shared.target}", but no service "${shared.target}" is defined in this file`);
    } else {
      sink.error(path, composeCodes.networkModeUnsupported,
        `network_mode "container:${shared.target}" of service "${service.name}" names no service of this stack (by name or container_name): ` +
        `nothing could place "${service.name}" beside a container Constellation does not run, or follow it across restarts, and it is refused rather than run ` +
        'on another network, where its traffic would bypass it; add that container as a service of this stack and use network_mode: "service:<its name>"');
    }
  }
  return targets;
}

/** Reports chains and cycles; returns the dependents that are part of one. */
function checkChains(services: readonly ServiceSpec[], targets: ReadonlyMap<string, string>, sink: DiagnosticSink): Set<string> {
  const broken = new Set<string>();
  for (const service of services) {
    const first = targets.get(service.name);
    if (first === undefined || !targets.has(first) || broken.has(service.name)) continue;
    const path = [service.name];
    let current = first;
    while (targets.has(current) && !path.includes(current)) {
      path.push(current);
      current = targets.get(current)!;
    }
    if (current === service.name) {
      // A cycle, reported once, at its first member in file order (this one).
      for (const member of path) broken.add(member);
      sink.error(['services', service.name, 'network_mode'], composeCodes.vpnChain,
        `network_mode forms a cycle: ${[...path, service.name].join(' -> ')}: each service joins another's network namespace, so none owns one; ` +
        'a group needs one service (the VPN) with a network of its own');
      continue;
    }
    broken.add(service.name);
    const owner = targets.has(current) ? undefined : current;
    sink.error(['services', service.name, 'network_mode'], composeCodes.vpnChain,
      `service "${service.name}" joins the network namespace of "${first}", which itself joins that of "${targets.get(first)!}": ` +
      'chains of network_mode "service:" references are not supported; ' +
      (owner === undefined ? 'point every member at the one service that owns the namespace' : `give "${service.name}" network_mode: "service:${owner}"`));
  }
  return broken;
}

function checkDependentKeys(dependent: string, vpn: string, raw: RawServices, sink: DiagnosticSink): void {
  const service = raw[dependent] ?? {};
  for (const [key, instead] of Object.entries(dependentKeys)) {
    if (isEmpty(service[key])) continue;
    sink.error(['services', dependent, key], composeCodes.vpnDependentKey,
      `"${key}" cannot be set on service "${dependent}": it joins the network namespace of service "${vpn}" (network_mode: "service:${vpn}"), ` +
      `where the engine refuses it; the namespace is "${vpn}"'s, so ${instead} "${vpn}" instead`);
  }
}

function checkShape(dependent: ServiceSpec, vpn: ServiceSpec, raw: RawServices, sink: DiagnosticSink): void {
  const d = dependent.deploy;
  const v = vpn.deploy;
  if (d.mode !== v.mode) {
    sink.error(existingPath(raw, ['services', dependent.name, 'deploy', 'mode']), composeCodes.vpnPlacementSplit,
      `service "${dependent.name}" is ${d.mode} but "${vpn.name}", whose network namespace it joins, is ${v.mode}: ` +
      'a VPN group is placed as one unit, so its members must use the same deploy mode');
    return;
  }
  if (d.mode === 'replicated' && d.replicas !== v.replicas) {
    const replicasPath = raw[dependent.name]?.scale !== undefined && asRecord(raw[dependent.name]?.deploy)?.replicas === undefined
      ? ['services', dependent.name, 'scale'] : ['services', dependent.name, 'deploy', 'replicas'];
    sink.error(existingPath(raw, replicasPath), composeCodes.vpnReplicas,
      `service "${dependent.name}" runs ${d.replicas} replica${d.replicas === 1 ? '' : 's'} but "${vpn.name}", whose network namespace it joins, runs ${v.replicas}: ` +
      `each replica of "${dependent.name}" lives in the namespace of the replica of "${vpn.name}" with the same slot number, so both must run the same number`);
  }
}

function checkConstraints(service: ServiceSpec, other: ServiceSpec, raw: RawServices, sink: DiagnosticSink, role: string): void {
  const ours = parsedConstraints(service);
  const theirs = parsedConstraints(other);
  for (const { constraint, index } of ours) {
    const clash = theirs.find((t) => constraintsContradict(constraint, t.constraint));
    if (clash === undefined) continue;
    sink.error(existingPath(raw, ['services', service.name, 'deploy', 'placement', 'constraints', index]), composeCodes.vpnPlacementSplit,
      `service "${service.name}" and "${other.name}" (${role}) can never run on one node: constraint "${constraint.text}" of "${service.name}" ` +
      `contradicts "${clash.constraint.text}" of "${other.name}"; a VPN group is placed as one unit, on a node that meets the constraints of all its members`);
  }
}

/** The group is placed as one unit, ranked by its VPN's preferences: a dependent's own are not used. */
function warnUnusedPreferences(dependent: ServiceSpec, vpn: string, sink: DiagnosticSink): void {
  if (dependent.deploy.placement.preferences.length === 0) return;
  sink.warning(['services', dependent.name, 'deploy', 'placement', 'preferences'], composeCodes.ignoredKey,
    `deploy.placement.preferences of "${dependent.name}" are not used: it is placed with "${vpn}", whose network namespace it joins, ` +
    `so the group is spread by the preferences of "${vpn}"; set them there`);
}

/** A group moves only whole (drain, failover); rebalancing, start-first per service, would split it. */
function warnRebalance(service: ServiceSpec, vpn: string, raw: RawServices, sink: DiagnosticSink): void {
  if (!wantsRebalance(service)) return;
  sink.warning(existingPath(raw, ['services', service.name, 'deploy', 'labels', REBALANCE_LABEL]), composeCodes.ignoredKey,
    `${REBALANCE_LABEL} is not honoured on "${service.name}": it is a member of the VPN group of "${vpn}", which moves only as a whole ` +
    '(drain, failover), never one member at a time');
}

function parsedConstraints(service: ServiceSpec): { constraint: Constraint; index: number }[] {
  return service.deploy.placement.constraints.flatMap((text, index) => {
    const parsed = parseConstraint(text);
    // Invalid constraints are reported by validateConstraints.
    return isConstraintError(parsed) ? [] : [{ constraint: parsed, index }];
  });
}

function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === 'object' && Object.keys(value).length === 0;
}

/** The longest prefix of path that exists in the file, so a message never names an absent key. */
function existingPath(raw: RawServices, path: KeyPath): KeyPath {
  let node: unknown = { services: raw };
  for (let i = 0; i < path.length; i += 1) {
    const segment = path[i]!;
    const next = Array.isArray(node) ? node[Number(segment)] : asRecord(node)?.[String(segment)];
    if (next === undefined) return path.slice(0, i);
    node = next;
  }
  return path;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : undefined;
}
