/**
 * What is already placed on each node while a plan is worked out: reserved CPU and memory, the
 * host ports bound, and how many replicas run there. Nodes are addressed by their index in the
 * plan's id-sorted node list, so the per-node numbers live in flat typed arrays.
 */
import { describeBindings, HostPortTable } from '../compose/host-port-table.ts';
import type { ServiceNeeds } from './service-needs.ts';

export class NodeLedger {
  readonly nanoCpus: Float64Array;
  readonly memoryBytes: Float64Array;
  /** Containers of every service on the node: the least-loaded scorer's measure. */
  readonly replicas: Int32Array;
  private readonly ports: (HostPortTable<string> | undefined)[];

  constructor(nodeCount: number) {
    this.nanoCpus = new Float64Array(nodeCount);
    this.memoryBytes = new Float64Array(nodeCount);
    this.replicas = new Int32Array(nodeCount);
    this.ports = new Array<HostPortTable<string> | undefined>(nodeCount);
  }

  add(node: number, needs: ServiceNeeds): void {
    this.nanoCpus[node]! += needs.nanoCpus;
    this.memoryBytes[node]! += needs.memoryBytes;
    // A VPN group's replica is its VPN's container and every dependent's.
    this.replicas[node]! += needs.containers;
    if (needs.bindings.length === 0) return;
    const table = (this.ports[node] ??= new HostPortTable<string>());
    for (const binding of needs.bindings) table.add(binding, needs.owner);
  }

  /** The owner of the first host port of `needs` that is already bound on the node, with the port. */
  portClash(node: number, needs: ServiceNeeds): { owner: string; port: string } | undefined {
    const table = this.ports[node];
    if (table === undefined) return undefined;
    for (const binding of needs.bindings) {
      const owner = table.find(binding);
      if (owner !== undefined) return { owner, port: describeBindings([binding]) };
    }
    return undefined;
  }
}
