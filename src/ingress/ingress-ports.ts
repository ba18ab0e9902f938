/**
 * Which published ports go through the ingress forwarder. As in Swarm, a published port is
 * `mode: ingress` unless the file says `mode: host`: it answers on every node of the cluster and
 * each replica only publishes its target on an ephemeral port of its own node (the forwarder's
 * backend). `mode: host` keeps the direct binding on the node that runs the replica. SCTP has no
 * forwarder (Node carries TCP and UDP only), so an SCTP port is bound directly, as host mode.
 */
import type { PortSpec, ServiceSpec } from '../compose/types.ts';

export type IngressPort = PortSpec & { readonly published: number; readonly protocol: 'tcp' | 'udp' };

export function isIngressPort(port: PortSpec): port is IngressPort {
  return port.mode === 'ingress' && port.published !== undefined && port.protocol !== 'sctp';
}

/** The ingress ports of a service; none for a service on the node's own network (nothing to forward to). */
export function ingressPorts(service: ServiceSpec): IngressPort[] {
  if (service.networkMode === 'host' || service.networkMode === 'none') return [];
  return service.ports.filter(isIngressPort);
}

/**
 * How long a replica that publishes an ingress port stays `stopping` before it is signalled. A
 * node hears a replica left through the leader's board: its heartbeat reaches the leader within
 * one period (500 ms by default), a follower manager mirrors the board on its next beat, and a
 * worker's manager sends the changed table over its session within one more period, so 2 s
 * covers every node on default settings and
 * lets requests under way finish. This node's own forwarder drops it at once.
 */
export const ingressDrainDelayMs = 2000;

export function ingressDrainMs(service: ServiceSpec): number {
  return ingressPorts(service).length > 0 ? ingressDrainDelayMs : 0;
}

/** What a replica asks its engine for: an ingress port becomes an ephemeral host port for the forwarder. */
export function replicaPortBinding(port: PortSpec): PortSpec {
  if (!isIngressPort(port)) return port;
  const { published: _published, hostIp: _hostIp, ...rest } = port;
  return rest;
}

/** The key a listener is known by: protocol, address and port. */
export function listenerKey(port: { readonly protocol: string; readonly published: number; readonly hostIp?: string }): string {
  return `${port.protocol}/${port.hostIp ?? '*'}/${port.published}`;
}
