import type { Logger } from 'pino';
import { cryptoRandom } from '../adapters/crypto-random.ts';
import type { NodeRecord, NodeRole } from '../cluster/commands.ts';
import { JoinError } from '../join/join-error.ts';
import { managerProof, newJoinNonce, sealClusterSecret, verifyClaim, type JoinClaim, type Sealed } from '../join/join-proof.ts';
import { generateTokenSet } from '../join/join-token.ts';
import type { Clock } from '../seams/clock.ts';
import { currentTokenSet, encodeTokenSet, JOIN_TOKENS_KEY } from './join-tokens-store.ts';
import { RaftError } from '../raft/errors.ts';
import { PeerRpcError } from './peer-rpc.ts';
import type { ClusterNode, NodeDescription } from './start-cluster-node.ts';
import { workerKey } from './worker/worker-key.ts';

/** Raft voters: more managers add latency and no safety (Swarm and Nomad advise 3 or 5). */
export const MAX_MANAGERS = 5;
const CHALLENGE_TTL_MS = 30_000;
const MAX_OPEN_CHALLENGES = 1024;

export interface JoinRequest {
  readonly serverNonce: string;
  readonly claim: JoinClaim;
  readonly node: NodeDescription & { readonly address: string };
}

export interface JoinAnswer {
  readonly proof: string;
  readonly sealed: Sealed;
  readonly bootstrapVoters: readonly string[];
  readonly peers: Readonly<Record<string, string>>;
}

const joinStatus: Record<string, number> = { node_id_taken: 409, too_many_managers: 409 };

/**
 * The manager's side of joining (src/join has the proofs): a one-time challenge, then a claim
 * that proves the token without sending it. Every check runs before anything is written; then the
 * leader commits the node's record and adds it as a Raft learner (promoted once it caught up).
 */
export function installJoinRoutes(cluster: ClusterNode, clock: Clock, logger: Logger): void {
  const challenges = new Map<string, number>();
  cluster.addRoute('/cluster/join-challenge', {
    auth: 'none',
    handle: () => {
      const now = clock.nowMs();
      for (const [nonce, expiresMs] of challenges) if (expiresMs <= now) challenges.delete(nonce);
      if (challenges.size >= MAX_OPEN_CHALLENGES) return Promise.reject(new PeerRpcError('too_many_joins', 'too many joins under way; retry shortly', 503));
      const serverNonce = newJoinNonce(cryptoRandom);
      challenges.set(serverNonce, now + CHALLENGE_TTL_MS);
      return Promise.resolve({ serverNonce, clusterId: cluster.identity.clusterId });
    },
  });
  cluster.addRoute('/cluster/join', {
    auth: 'none',
    handle: async (body) => {
      const request = body as Partial<JoinRequest>;
      const serverNonce = typeof request.serverNonce === 'string' ? request.serverNonce : '';
      const expiresMs = challenges.get(serverNonce);
      if (expiresMs === undefined || expiresMs <= clock.nowMs()) throw new PeerRpcError('join_challenge_unknown', 'join: unknown or expired challenge; ask for a new one', 400);
      challenges.delete(serverNonce);
      const tokens = currentTokenSet(cluster.store.current());
      if (!tokens) throw new PeerRpcError('join_not_ready', 'this cluster has not issued join tokens yet; retry shortly', 503);
      let claim: JoinClaim;
      let token;
      try {
        ({ claim, token } = verifyClaim(request.claim, serverNonce, { clusterId: cluster.identity.clusterId, current: tokens }));
      } catch (error) {
        if (error instanceof JoinError) throw new PeerRpcError(error.code, error.message, 401);
        throw error;
      }
      const node = request.node;
      if (typeof node !== 'object' || node === null || typeof node.address !== 'string' || typeof node.hostname !== 'string') {
        throw new PeerRpcError('invalid_request', 'join: node must describe {address, hostname, labels, platform, capacity}', 400);
      }
      const answer = await cluster.onLeader<JoinAnswer>('/cluster/admit', { nodeId: claim.nodeId, node, role: token.role });
      // What is sealed is what the role needs and no more: a manager gets the cluster secret (the
      // Raft mesh and every manager RPC), a worker only the key derived for its own node id.
      const secret = token.role === 'manager' ? cluster.identity.secret : workerKey(cluster.identity.secret, claim.nodeId);
      return { ...answer, proof: managerProof(token, serverNonce, claim), sealed: sealClusterSecret(cryptoRandom, token, serverNonce, claim, secret) };
    },
  });
  cluster.addLeaderRoute('/cluster/admit', async (body) => {
    const { nodeId, node, role: asked } = body as { nodeId: string; node: JoinRequest['node']; role?: NodeRole };
    const role: NodeRole = asked === 'worker' ? 'worker' : 'manager';
    const state = cluster.store.current();
    const existing = Object.hasOwn(state.nodes, nodeId) ? state.nodes[nodeId] : undefined;
    // A join retried after its record was committed (the answer was lost, or adding the Raft
    // learner failed) comes from the same address for the same role: it resumes, not a duplicate.
    const resumed = existing !== undefined && existing.address === node.address && (existing.role ?? 'manager') === role;
    if (existing && !resumed) {
      throw new PeerRpcError('node_id_taken', `join: a node with id "${nodeId}" is already a member; pick another node.id, or \`constellation node rm ${nodeId}\` first`, joinStatus.node_id_taken);
    }
    const managers = Object.values(state.nodes).filter((record) => (record.role ?? 'manager') === 'manager');
    if (!resumed && role === 'manager' && managers.length >= MAX_MANAGERS) {
      throw new PeerRpcError('too_many_managers', `join: the cluster already has ${managers.length} managers, the most it takes; join further nodes with the worker token`, joinStatus.too_many_managers);
    }
    if (!resumed) {
      const record: NodeRecord = {
        id: nodeId, address: node.address, hostname: node.hostname, labels: node.labels ?? {}, role, availability: 'active',
        platform: node.platform, capacity: node.capacity, joinedAtMs: clock.nowMs(),
      };
      const registered = await cluster.submit({ type: 'register-node', node: record });
      if (!registered.ok) throw new PeerRpcError(registered.code, registered.message, 409);
    }
    if (role === 'worker') {
      // Not a Raft member: no mesh peer, no learner. It learns the managers to open its session to.
      logger.info({ nodeId, address: node.address }, 'node joined as a worker');
      const addresses: Record<string, string> = {};
      for (const manager of managers) addresses[manager.id] = manager.address;
      return { bootstrapVoters: [], peers: addresses } satisfies Omit<JoinAnswer, 'proof' | 'sealed'>;
    }
    cluster.transport.setPeer(nodeId, node.address);
    await addLearnerInTurn(cluster, clock, nodeId, resumed);
    logger.info({ nodeId, address: node.address }, 'node joined as a learner; promoted to voter once caught up');
    const peers: Record<string, string> = {};
    for (const member of Object.values(cluster.store.current().nodes)) if ((member.role ?? 'manager') === 'manager') peers[member.id] = member.address;
    return { bootstrapVoters: cluster.identity.bootstrapVoters, peers } satisfies Omit<JoinAnswer, 'proof' | 'sealed'>;
  });
}

/**
 * Raft takes one membership change at a time: a join that arrives while another node's change
 * (its join or its promotion) is being applied waits its turn, up to 10 s, instead of failing
 * after its record was committed. A resumed join whose learner was already added is done.
 */
async function addLearnerInTurn(cluster: ClusterNode, clock: Clock, nodeId: string, resumed: boolean): Promise<void> {
  const deadline = clock.nowMs() + 10_000;
  for (;;) {
    try {
      await cluster.raft.addLearner(nodeId);
      return;
    } catch (error) {
      const code = error instanceof RaftError ? error.code : undefined;
      if (resumed && code === 'invalid_membership_change' && /already a member/.test((error as Error).message)) return;
      if (code !== 'config_change_pending' || clock.nowMs() >= deadline) throw error;
      await new Promise<void>((resolve) => clock.setTimeout(resolve, 100));
    }
  }
}

/** The bootstrap leader issues the first tokens once; afterwards they only change by rotation. */
export async function ensureJoinTokens(cluster: ClusterNode): Promise<void> {
  if (currentTokenSet(cluster.store.current())) return;
  const set = generateTokenSet(cryptoRandom, cluster.identity.clusterId);
  await cluster.submit({ type: 'put', key: JOIN_TOKENS_KEY, value: encodeTokenSet(set) });
}
