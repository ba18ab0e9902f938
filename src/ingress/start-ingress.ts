/**
 * Wires the ingress of one daemon from what the composition root has: the desired stacks, this
 * node's live replicas (with their published ports), and — in a cluster — the other nodes'
 * replicas from the leader's board (a manager's mirror, or a worker's read from a manager), the
 * nodes' addresses and which nodes are up. This node's own replicas are always taken from its
 * agent, not from the board, so a local replica that starts stopping leaves at once.
 */
import type { Logger } from 'pino';
import type { ContainerView } from '../actors/agent-types.ts';
import type { ClusterStateData } from '../cluster/state.ts';
import { IngressController } from './ingress-controller.ts';
import { hostOfAddress, ingressTable, withLocalBackends, type IngressInput, type IngressListener } from './ingress-table.ts';

export interface IngressViewSources {
  readonly nodeId: string;
  readonly state: () => Readonly<ClusterStateData>;
  readonly localContainers: () => readonly ContainerView[];
  /** The cluster's replicas with their nodes (a manager's board; absent on a single node). */
  readonly clusterContainers?: () => readonly (ContainerView & { readonly node?: string })[];
  /** Whether a node is up; replicas of a node that is not are no backends. */
  readonly nodeUp?: (nodeId: string) => boolean;
}

export interface IngressSources extends IngressViewSources {
  /** A worker: the cluster's table as its manager streams it (its own store holds only its services). */
  readonly remoteTable?: () => readonly IngressListener[];
  readonly changes: readonly ((listener: () => void) => () => void)[];
  readonly logger: Logger;
}

export function ingressInput(sources: IngressViewSources): IngressInput {
  const state = sources.state();
  const local = sources.localContainers().map((view) => ({ ...view, node: sources.nodeId }));
  const remote = (sources.clusterContainers?.() ?? []).flatMap((view) =>
    view.node === undefined || view.node === sources.nodeId || !(sources.nodeUp?.(view.node) ?? true) ? [] : [{ ...view, node: view.node }]);
  return {
    stacks: Object.values(state.stacks),
    containers: [...local, ...remote],
    localNodeId: sources.nodeId,
    nodeHost: (id) => {
      const record = state.nodes[id];
      return record === undefined ? undefined : hostOfAddress(record.address);
    },
  };
}

/** The whole cluster's table as a manager sends it to workers: no node is "this one". */
export function clusterIngressTable(sources: Omit<IngressViewSources, 'nodeId' | 'localContainers'>): IngressListener[] {
  return ingressTable(ingressInput({ ...sources, nodeId: '', localContainers: () => [] }));
}

export function startIngress(sources: IngressSources): IngressController {
  const { remoteTable } = sources;
  const table = remoteTable === undefined
    ? () => ingressTable(ingressInput(sources))
    : () => withLocalBackends(remoteTable(), ingressTable(ingressInput(sources)), sources.nodeId);
  const controller = new IngressController({ table, logger: sources.logger, changes: sources.changes });
  controller.start();
  return controller;
}
