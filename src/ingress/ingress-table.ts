/**
 * The ingress table: for every port published in ingress mode, the listener every node opens and
 * the replicas it forwards to. Pure, so what reaches a backend is testable without sockets.
 *
 * A replica is a backend while it is `running` and ready: healthy when its service has a
 * healthcheck (the file's, or the image's as its replicas report it), running otherwise. Any other
 * phase — `stopping` above all, which the agent enters before the engine's stop (SIGTERM) is sent,
 * and any phase a rollout adds before that — takes it out at once, so new connections stop
 * reaching a replica before it is told to stop.
 */
import type { ContainerView } from '../actors/agent-types.ts';
import { hasHealthcheck } from '../agent/container-request.ts';
import type { StackSpec } from '../compose/types.ts';
import { ingressPorts, listenerKey } from './ingress-ports.ts';

export interface Backend {
  readonly host: string;
  readonly port: number;
  /** The replica's container name, for logs. */
  readonly replica: string;
  readonly node: string;
}

export interface IngressListener {
  readonly key: string;
  readonly protocol: 'tcp' | 'udp';
  readonly published: number;
  readonly hostIp?: string;
  readonly stack: string;
  readonly service: string;
  readonly target: number;
  readonly backends: readonly Backend[];
}

export interface IngressInput {
  readonly stacks: readonly { readonly name: string; readonly spec: StackSpec }[];
  /** Every replica of the cluster with the node that runs it (this node's as live as possible). */
  readonly containers: readonly (ContainerView & { readonly node: string })[];
  readonly localNodeId: string;
  /** The address other nodes reach a node on (its cluster address's host); undefined if unknown. */
  readonly nodeHost: (nodeId: string) => string | undefined;
}

/** Whether a replica takes new connections. */
export function isReadyBackend(view: ContainerView, needsHealth: boolean): boolean {
  if (view.state !== 'running') return false;
  return needsHealth ? view.health === 'healthy' : view.health === 'healthy' || view.health === 'none';
}

export function ingressTable(input: IngressInput): IngressListener[] {
  const byService = new Map<string, (ContainerView & { readonly node: string })[]>();
  for (const view of input.containers) {
    const key = `${view.stack}\0${view.service}`;
    let list = byService.get(key);
    if (list === undefined) byService.set(key, (list = []));
    list.push(view);
  }
  const out: IngressListener[] = [];
  const taken = new Set<string>();
  for (const stack of input.stacks) {
    for (const service of stack.spec.services) {
      const ports = ingressPorts(service);
      if (ports.length === 0) continue;
      const replicas = (byService.get(`${stack.name}\0${service.name}`) ?? []).slice().sort((a, b) => a.slot - b.slot);
      // An image's own HEALTHCHECK shows as health reports on its replicas.
      const needsHealth = hasHealthcheck(service) || replicas.some((r) => r.health !== 'none');
      const ready = replicas.filter((r) => isReadyBackend(r, needsHealth));
      for (const port of ports) {
        const key = listenerKey(port);
        // The deploy route refuses a second owner of a port; should two ever meet, the first keeps it.
        if (taken.has(key)) continue;
        taken.add(key);
        const backends: Backend[] = [];
        for (const replica of ready) {
          const published = replica.ports?.find((p) => p.target === port.target && p.protocol === port.protocol);
          if (published === undefined) continue;
          // A replica on this node is reached on the node's own address when it has one: the
          // engine's DNAT rule carries that in the kernel, where loopback goes through its
          // userland proxy (measured in bench:rollout). A single node has none: loopback.
          const host = replica.node === input.localNodeId ? input.nodeHost(replica.node) ?? '127.0.0.1' : input.nodeHost(replica.node);
          if (host === undefined) continue;
          backends.push({ host, port: published.hostPort, replica: replica.name, node: replica.node });
        }
        out.push({
          key, protocol: port.protocol, published: port.published, ...(port.hostIp !== undefined ? { hostIp: port.hostIp } : {}),
          stack: stack.name, service: service.name, target: port.target, backends,
        });
      }
    }
  }
  return out;
}

/** "10.0.0.2:7421" → "10.0.0.2", "[fd7a::1]:7421" → "fd7a::1". */
export function hostOfAddress(address: string): string | undefined {
  const v6 = /^\[([^\]]+)\]:\d+$/.exec(address);
  if (v6) return v6[1];
  const v4 = /^([^:]+):\d+$/.exec(address);
  return v4?.[1];
}

/**
 * A worker's table: the cluster's, as its manager sent it, with this node's own backends taken
 * from its agent instead (live, where the manager's are a board's lag behind). `local` is the
 * table of the services this node runs, from its own replicas; a port the manager has not sent
 * yet is served from it alone.
 */
export function withLocalBackends(remote: readonly IngressListener[], local: readonly IngressListener[], selfId: string): IngressListener[] {
  const localByKey = new Map(local.map((listener) => [listener.key, listener]));
  const out: IngressListener[] = remote.map((listener) => ({
    ...listener,
    backends: [...(localByKey.get(listener.key)?.backends ?? []), ...listener.backends.filter((backend) => backend.node !== selfId)],
  }));
  const sent = new Set(remote.map((listener) => listener.key));
  for (const listener of local) if (!sent.has(listener.key)) out.push(listener);
  return out;
}
