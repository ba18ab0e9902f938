import type { ContainerView, ServiceStatus } from '../../actors/agent-types.ts';
import type { AgentView, ClusterApi } from '../../api/api-deps.ts';
import type { NodeView } from '../../api/routes/nodes.ts';
import type { ClientRequest, CommandResult, NodeRecord } from '../../cluster/commands.ts';
import { dictionaryOf } from '../../cluster/dictionary.ts';
import type { PlacementTable } from '../../cluster/placements.ts';
import { emptyClusterState, type ClusterStateData, type StackRecord } from '../../cluster/state.ts';
import type { RolloutRecord, StackVersionRecord } from '../../cluster/rollout-records.ts';
import type { StateStore } from '../../seams/state-store.ts';
import { callPeer, PeerRpcError } from '../peer-rpc.ts';

/** What a manager answers a worker's API read: the cluster as that manager's API shows it. */
export interface WorkerReadAnswer {
  readonly appliedIndex: number;
  readonly stacks: Readonly<Record<string, StackRecord>>;
  readonly nodes: Readonly<Record<string, NodeRecord>>;
  readonly placements: Readonly<PlacementTable>;
  /** Rolling updates: what `GET /v1/stacks/:name/rollout` and `/history` answer (absent from older managers). */
  readonly history?: Readonly<Record<string, StackVersionRecord[]>>;
  readonly rollouts?: Readonly<Record<string, RolloutRecord>>;
  readonly containers: readonly ContainerView[];
  readonly services: readonly ServiceStatus[];
  /** The nodes as `GET /v1/nodes` shows them (liveness from the leader's board). */
  readonly nodeViews: readonly NodeView[];
}

export interface WorkerSubmitAnswer {
  readonly result: CommandResult;
  readonly appliedIndex: number;
}

export interface WorkerApiClientOptions {
  readonly nodeId: string;
  readonly key: string;
  /** Managers' addresses, the connected one first. */
  readonly managers: () => readonly string[];
}

/**
 * The REST API on a worker. A worker holds only its own assignments, so the API reads the cluster
 * from a manager: before each request the facade fetches the manager's view (`refresh`), and the
 * routes then read it synchronously as they read a manager's state. Writes are forwarded to a
 * manager, which submits them to the leader; the facade then reads again from a manager that has
 * applied the write, so a user reads back what they wrote on the node they wrote to.
 */
export class WorkerApiClient {
  private snapshot: { state: ClusterStateData; containers: readonly ContainerView[]; services: readonly ServiceStatus[]; nodes: readonly NodeView[] } = {
    state: emptyClusterState(),
    containers: [],
    services: [],
    nodes: [],
  };
  /** The log index of this worker's last forwarded write: reads wait until a manager applied it. */
  private minIndex = 0;

  constructor(private readonly options: WorkerApiClientOptions) {}

  readonly store: Pick<StateStore, 'current' | 'submit'> = {
    current: () => this.snapshot.state,
    submit: async (request: ClientRequest): Promise<CommandResult> => {
      const answer = await this.call<WorkerSubmitAnswer>('/cluster/worker-submit', { request }, 60_000);
      this.minIndex = Math.max(this.minIndex, answer.appliedIndex);
      await this.refresh();
      return answer.result;
    },
  };

  readonly agent: AgentView = {
    containers: () => this.snapshot.containers,
    services: () => this.snapshot.services,
  };

  readonly cluster: ClusterApi = {
    nodes: () => [...this.snapshot.nodes],
    tokens: () => {
      // A worker never holds a join token: a compromised worker must not be able to make itself a manager.
      throw new PeerRpcError('tokens_on_managers_only', 'join tokens are kept by managers: ask the API of a manager', 503);
    },
    rotateToken: () => Promise.reject(new PeerRpcError('tokens_on_managers_only', 'join tokens are kept by managers: rotate them through the API of a manager', 503)),
    // Roles change only through a manager's API: a worker must not be a path to making itself a manager.
    setRole: () => Promise.reject(new PeerRpcError('roles_on_managers_only', 'promote and demote through the API of a manager', 409)),
    removeNode: async (id: string) => {
      const answer = await this.call<{ appliedIndex: number }>('/cluster/worker-remove-node', { nodeId: id }, 60_000);
      this.minIndex = Math.max(this.minIndex, answer.appliedIndex);
      await this.refresh();
    },
  };

  /** Fetches the cluster's view from a manager (the connected one first). */
  async refresh(): Promise<void> {
    const answer = await this.call<WorkerReadAnswer>('/cluster/worker-read', { minIndex: this.minIndex }, 15_000);
    this.snapshot = {
      state: {
        ...emptyClusterState(),
        appliedIndex: answer.appliedIndex,
        stacks: dictionaryOf(answer.stacks),
        nodes: dictionaryOf(answer.nodes),
        placements: dictionaryOf(answer.placements, (services) => dictionaryOf(services)),
        history: dictionaryOf(answer.history),
        rollouts: dictionaryOf(answer.rollouts, (record) => ({ ...record, services: dictionaryOf(record.services) })),
      },
      containers: answer.containers,
      services: answer.services,
      nodes: answer.nodeViews,
    };
  }

  private async call<T>(path: string, body: unknown, timeoutMs: number): Promise<T> {
    let lastError: Error = new PeerRpcError('no_manager', 'this worker knows no manager', 503);
    for (const address of this.options.managers()) {
      try {
        return await callPeer<T>(address, path, body, { secret: this.options.key, nodeId: this.options.nodeId }, timeoutMs);
      } catch (error) {
        // Only an unreachable manager is skipped: a refusal is the answer.
        if (!(error instanceof PeerRpcError) || error.code !== 'peer_unreachable') throw error;
        lastError = error;
      }
    }
    throw new PeerRpcError('no_manager', `no manager answered: ${lastError.message}`, 503);
  }
}
