import type { NetworkSpec, ServiceSpec } from '../compose/types.ts';
import type { CreateContainerRequest, HealthcheckRequest, NetworkAttachment, NetworkCreateRequest } from '../seams/container-runtime.ts';
import { replicaPortBinding } from '../ingress/ingress-ports.ts';
import { deliveryMode } from '../orchestrator/failover/delivery-mode.ts';
import { containerLabels, containerName, LABEL_AT_MOST_ONCE, LABEL_NETWORK, LABEL_NODE, LABEL_STACK, type SlotIdentity } from './labels.ts';

/**
 * Maps a normalized service spec to the engine's create request for one replica slot. Pure, so
 * what we ask the engine for is testable without one.
 */
export function toCreateContainerRequest(
  slot: SlotIdentity,
  service: ServiceSpec,
  specHash: string,
  nodeId: string,
  /** A start-first rollout's second replica of the slot has a name of its own (labels.ts surgeName). */
  name: string = containerName(slot),
  /** For a VPN group's dependent: the id of the VPN container whose namespace it joins. */
  vpnContainerId?: string,
): CreateContainerRequest {
  const limits = service.deploy.resources.limits;
  const networkMode = engineNetworkMode(service, vpnContainerId);
  return {
    name,
    image: service.image,
    ...(service.command ? { command: service.command } : {}),
    ...(service.entrypoint ? { entrypoint: service.entrypoint } : {}),
    env: { ...service.environment },
    // The user's labels first: ours must win, they are how the agent finds its containers.
    labels: {
      ...service.labels,
      ...containerLabels(slot, specHash, nodeId),
      ...(deliveryMode(service) === 'at-most-once' ? { [LABEL_AT_MOST_ONCE]: String(service.stopGracePeriodMs) } : {}),
    },
    // An ingress port is published on an ephemeral host port: every node's forwarder reaches it there.
    ports: service.ports.map(replicaPortBinding).map((p) => ({
      target: p.target,
      protocol: p.protocol,
      ...(p.published !== undefined ? { published: p.published } : {}),
      ...(p.hostIp !== undefined ? { hostIp: p.hostIp } : {}),
    })),
    mounts: service.volumes.map((v) => ({
      type: v.type,
      target: v.target,
      readOnly: v.readOnly,
      ...(v.source !== undefined ? { source: v.source } : {}),
    })),
    ...healthcheckField(service),
    ...(networkMode !== undefined ? { networkMode } : {}),
    ...(service.networks && service.networks.length > 0 ? { networks: service.networks.map((n) => networkAttachment(slot.stack, n, nodeId)) } : {}),
    capAdd: [...service.capAdd],
    capDrop: [...service.capDrop],
    devices: service.devices.map((d) => ({ hostPath: d.hostPath, containerPath: d.containerPath, permissions: d.permissions })),
    ...(service.user ? { user: service.user } : {}),
    ...(service.workingDir ? { workingDir: service.workingDir } : {}),
    stopGracePeriodMs: service.stopGracePeriodMs,
    ...(service.stopSignal ? { stopSignal: service.stopSignal } : {}),
    ...(limits.cpus !== undefined ? { nanoCpus: Math.round(limits.cpus * 1e9) } : {}),
    ...(limits.memoryBytes !== undefined ? { memoryBytes: limits.memoryBytes } : {}),
    ...(limits.pids !== undefined ? { pidsLimit: limits.pids } : {}),
  };
}

/**
 * The engine's network mode. `service:X` is ours (the engine knows containers, not services): a
 * dependent joins X's container by id, so it lives exactly in that container's namespace, and
 * there is no request for a dependent without one — it would run on some other network.
 */
function engineNetworkMode(service: ServiceSpec, vpnContainerId: string | undefined): string | undefined {
  const mode = service.networkMode;
  if (mode === undefined || !mode.startsWith('service:')) return mode;
  if (vpnContainerId === undefined) {
    throw Object.assign(new Error(`${service.name} joins ${mode.slice('service:'.length)}'s network, but no container of it was given to join`), { code: 'VPN_DEPENDENT_WITHOUT_VPN' });
  }
  return `container:${vpnContainerId}`;
}

function networkAttachment(stack: string, membership: NonNullable<ServiceSpec['networks']>[number], nodeId: string): NetworkAttachment {
  const { network } = membership;
  return {
    name: network.name,
    aliases: [...membership.aliases],
    ...(membership.ipv4Address !== undefined ? { ipv4Address: membership.ipv4Address } : {}),
    ...(membership.ipv6Address !== undefined ? { ipv6Address: membership.ipv6Address } : {}),
    ...(network.external ? {} : { create: networkCreateRequest(stack, network, nodeId) }),
  };
}

/**
 * The engine request for one of the stack's networks on this node. Our labels win over the
 * user's: the stack label is how a node finds (reuses, removes) its networks.
 */
export function networkCreateRequest(stack: string, network: NetworkSpec, nodeId: string): NetworkCreateRequest {
  return {
    name: network.name,
    driver: network.driver,
    internal: network.internal,
    attachable: network.attachable,
    enableIpv6: network.enableIpv6,
    options: { ...network.driverOpts },
    labels: { ...network.labels, [LABEL_STACK]: stack, [LABEL_NETWORK]: network.key, [LABEL_NODE]: nodeId },
    ipam: network.ipam.map((pool) => ({ ...pool, auxAddresses: { ...pool.auxAddresses } })),
    ownerLabels: { [LABEL_STACK]: stack },
  };
}

function healthcheckField(service: ServiceSpec): { healthcheck?: HealthcheckRequest } {
  const hc = service.healthcheck;
  if (!hc) return {};
  if (hc.disable) return { healthcheck: { test: ['NONE'] } };
  return {
    healthcheck: {
      test: [...hc.test],
      intervalMs: hc.intervalMs,
      timeoutMs: hc.timeoutMs,
      retries: hc.retries,
      startPeriodMs: hc.startPeriodMs,
      ...(hc.startIntervalMs !== undefined ? { startIntervalMs: hc.startIntervalMs } : {}),
    },
  };
}

/** Whether replicas of this service report health (and so can satisfy `service_healthy`). */
export function hasHealthcheck(service: ServiceSpec): boolean {
  return service.healthcheck !== undefined && !service.healthcheck.disable && service.healthcheck.test[0] !== 'NONE';
}
