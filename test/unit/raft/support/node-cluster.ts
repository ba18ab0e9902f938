import type { Transport } from '../../../../src/seams/transport.ts';
import type { RaftMessage } from '../../../../src/raft/messages.ts';
import type { Membership, NodeId } from '../../../../src/raft/types.ts';
import type { RaftNode, RaftNodeOptions } from '../../../../src/raft/raft-node.ts';
import { createRaftNode } from '../../../../src/raft/raft-node.ts';
import { MemoryRaftStorage } from '../../../../src/raft/memory-storage.ts';
import { ManualClock, seededRandom } from './manual-clock.ts';

/**
 * Real RaftNodes (driver + role machine + core) on an in-test network with 1 ms of virtual latency,
 * all on one manual clock. Links can be cut; every message sent is logged for assertions.
 */
export class NodeCluster {
  readonly clock = new ManualClock();
  readonly nodes = new Map<NodeId, RaftNode>();
  readonly storages = new Map<NodeId, MemoryRaftStorage>();
  readonly sent: RaftMessage[] = [];
  private readonly handlers = new Map<NodeId, (from: NodeId, message: RaftMessage) => void>();
  private readonly cut = new Set<string>();
  private seed = 1;

  constructor(
    private readonly defaults: Partial<RaftNodeOptions> = {},
  ) {}

  transportFor(id: NodeId): Transport<RaftMessage> {
    return {
      self: id,
      send: (to, message) => {
        this.sent.push(message);
        if (this.cut.has(`${id}>${to}`)) return;
        this.clock.setTimeout(() => {
          if (!this.cut.has(`${id}>${to}`)) this.handlers.get(to)?.(id, message);
        }, 1);
      },
      onMessage: (handler) => {
        this.handlers.set(id, handler);
        return () => this.handlers.delete(id);
      },
      close: async () => {},
    };
  }

  async add(id: NodeId, membership: Membership | undefined, options: Partial<RaftNodeOptions> = {}): Promise<RaftNode> {
    const storage = this.storages.get(id) ?? new MemoryRaftStorage();
    this.storages.set(id, storage);
    const node = createRaftNode({
      id,
      storage,
      transport: this.transportFor(id),
      clock: this.clock,
      random: seededRandom(this.seed++),
      electionTimeoutMs: 100,
      heartbeatIntervalMs: 20,
      ...(membership && { initialMembership: membership }),
      ...this.defaults,
      ...options,
    });
    this.nodes.set(id, node);
    await node.start();
    return node;
  }

  static async start(ids: readonly NodeId[], defaults: Partial<RaftNodeOptions> = {}): Promise<NodeCluster> {
    const cluster = new NodeCluster(defaults);
    for (const id of ids) await cluster.add(id, { voters: [...ids], learners: [] });
    return cluster;
  }

  node(id: NodeId): RaftNode {
    const node = this.nodes.get(id);
    if (!node) throw new Error(`no node ${id}`);
    return node;
  }

  leaders(): NodeId[] {
    return [...this.nodes.values()].filter((node) => node.status().role === 'leader').map((node) => node.id);
  }

  async waitForLeader(maxMs = 5_000): Promise<RaftNode> {
    await this.clock.until(() => this.leaders().length === 1, maxMs, 'a single leader');
    return this.node(this.leaders()[0] as NodeId);
  }

  /** Advances virtual time until `promise` settles (messages need the clock to move). */
  async run<T>(promise: Promise<T>, maxMs = 2_000): Promise<T> {
    let settled = false;
    const tracked = promise.finally(() => {
      settled = true;
    });
    tracked.catch(() => undefined);
    await this.clock.until(() => settled, maxMs, 'the operation to finish', 1);
    return tracked;
  }

  isolate(id: NodeId): void {
    for (const other of this.nodes.keys()) {
      if (other === id) continue;
      this.cut.add(`${id}>${other}`);
      this.cut.add(`${other}>${id}`);
    }
  }

  heal(): void {
    this.cut.clear();
  }

  /** Crash: stop the node; its storage keeps only what was synced. */
  async crash(id: NodeId): Promise<void> {
    await this.node(id).stop();
    this.storages.get(id)?.crash();
    this.nodes.delete(id);
    this.handlers.delete(id);
  }

  async stopAll(): Promise<void> {
    for (const node of this.nodes.values()) await node.stop();
  }
}
