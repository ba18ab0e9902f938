import { cryptoRandom } from '../adapters/crypto-random.ts';
import type { NodeRole } from '../cluster/commands.ts';
import { formatToken, rotateToken, type JoinRole } from '../join/join-token.ts';
import { isMember } from '../raft/quorum.ts';
import type { NodeStatus } from '../scheduler/types.ts';
import type { Clock } from '../seams/clock.ts';
import { MAX_MANAGERS } from './join-server.ts';
import { currentTokenSet, encodeTokenSet, JOIN_TOKENS_KEY } from './join-tokens-store.ts';
import { demoteProblem } from './manager-quorum.ts';
import { PeerRpcError } from './peer-rpc.ts';
import type { ClusterNode } from './start-cluster-node.ts';

export interface JoinTokens {
  readonly clusterId: string;
  readonly manager: string;
  readonly worker: string;
  /** Cluster ports ("host:port") of the managers (Raft voters): what a joining node dials. */
  readonly managers: readonly string[];
}

export interface NodeOperations {
  /** The current join tokens as this member has applied them. */
  tokens(): JoinTokens;
  /** A new token for `role` (the old one stops working at once); answers with the new set. */
  rotateToken(role: JoinRole): Promise<JoinTokens>;
  /** Promote (manager) or demote (worker) a node; resolves once the role is committed. */
  setRole(nodeId: string, role: NodeRole): Promise<{ readonly changed: boolean }>;
}

/**
 * Operator actions that must be checked against the current membership and committed in one
 * place: they run on the leader (a follower forwards them), one at a time, so two demotions can
 * never both pass a quorum check that only one of them would.
 */
export function installNodeOperations(options: { cluster: ClusterNode; clock: Clock; statusOf: (id: string) => NodeStatus; roleChanged: () => void }): NodeOperations {
  const { cluster, clock, statusOf } = options;
  let queue: Promise<unknown> = Promise.resolve();
  const serially = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work, work);
    queue = run.catch(() => undefined);
    return run;
  };
  const tokens = (): JoinTokens => {
    const set = currentTokenSet(cluster.store.current());
    if (!set) throw new PeerRpcError('join_not_ready', 'the cluster has not issued join tokens yet; retry shortly', 503);
    const managers = cluster.raft.status().membership.voters.map((id) => cluster.addressOf(id)).filter((address): address is string => address !== undefined);
    return { clusterId: cluster.identity.clusterId, manager: formatToken(set.manager), worker: formatToken(set.worker), managers };
  };

  cluster.addLeaderRoute('/cluster/rotate-token', (body) => serially(async () => {
    const role = (body as { role?: unknown }).role;
    if (role !== 'manager' && role !== 'worker') throw new PeerRpcError('invalid_request', 'rotate-token needs {role: "manager" | "worker"}', 400);
    const set = currentTokenSet(cluster.store.current());
    if (!set) throw new PeerRpcError('join_not_ready', 'the cluster has not issued join tokens yet; retry shortly', 503);
    const result = await cluster.submit({ type: 'put', key: JOIN_TOKENS_KEY, value: encodeTokenSet(rotateToken(cryptoRandom, set, role)) });
    if (!result.ok) throw new PeerRpcError(result.code, result.message, 409);
    return { tokens: tokens(), appliedIndex: cluster.raft.status().appliedIndex };
  }));

  cluster.addLeaderRoute('/cluster/set-role', (body) => serially(async () => {
    const { nodeId, role } = body as { nodeId?: unknown; role?: unknown };
    if (typeof nodeId !== 'string' || (role !== 'manager' && role !== 'worker')) throw new PeerRpcError('invalid_request', 'set-role needs {nodeId, role: "manager" | "worker"}', 400);
    const state = cluster.store.current();
    const record = state.nodes[nodeId];
    if (!record) throw new PeerRpcError('node_not_found', `no node with id "${nodeId}"; \`constellation node ls\` lists them`, 404);
    const current = record.role ?? 'manager';
    if (current === role) return { changed: false, appliedIndex: cluster.raft.status().appliedIndex };
    const membership = cluster.raft.status().membership;
    if (role === 'worker') {
      const problem = demoteProblem(membership.voters, nodeId, (id) => statusOf(id) === 'ready');
      if (problem) throw new PeerRpcError(problem.code, `cannot demote ${nodeId}: ${problem.message}`, 409);
    } else {
      const managers = Object.values(state.nodes).filter((node) => (node.role ?? 'manager') === 'manager').length;
      if (managers >= MAX_MANAGERS) throw new PeerRpcError('too_many_managers', `cannot promote ${nodeId}: the cluster already has ${managers} managers, the most it takes (demote one first)`, 409);
      if (!isMember(membership, nodeId)) {
        throw new PeerRpcError('promote_needs_raft_member', `cannot promote ${nodeId}: it runs no Raft member (a worker that joined with the worker token); promoting such a node is not supported yet: drain it, stop its daemon, \`constellation node rm ${nodeId}\`, and join it again with the manager token`, 409);
      }
      if (statusOf(nodeId) !== 'ready') throw new PeerRpcError('node_not_ready', `cannot promote ${nodeId}: it is ${statusOf(nodeId)}; a new voter must be up to catch up with the log`, 409);
    }
    const result = await cluster.submit({ type: 'update-node', nodeId, role });
    if (!result.ok) throw new PeerRpcError(result.code, result.message, result.code === 'node_not_found' ? 404 : 409);
    options.roleChanged();
    return { changed: true, appliedIndex: cluster.raft.status().appliedIndex };
  }));

  // Answered by the leader; read-your-writes here: wait until this member applied as far.
  const caughtUp = async <T extends { appliedIndex: number }>(answer: T): Promise<T> => {
    await cluster.store.appliedUpTo(answer.appliedIndex, clock.nowMs() + 10_000);
    return answer;
  };
  return {
    tokens,
    rotateToken: async (role) => (await caughtUp(await cluster.onLeader<{ tokens: JoinTokens; appliedIndex: number }>('/cluster/rotate-token', { role }))).tokens,
    setRole: async (nodeId, role) => ({ changed: (await caughtUp(await cluster.onLeader<{ changed: boolean; appliedIndex: number }>('/cluster/set-role', { nodeId, role }))).changed }),
  };
}
