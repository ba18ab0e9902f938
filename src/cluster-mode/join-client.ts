import type { Logger } from 'pino';
import { cryptoRandom } from '../adapters/crypto-random.ts';
import { DiscoveryError } from '../discovery/discovery-error.ts';
import { formatAddress, parseSeeds } from '../discovery/seeds.ts';
import { JoinError } from '../join/join-error.ts';
import { checkManagerProof, newJoinNonce, openClusterSecret, proveToken } from '../join/join-proof.ts';
import { parseToken } from '../join/join-token.ts';
import type { Clock } from '../seams/clock.ts';
import type { ClusterIdentity } from './cluster-identity.ts';
import type { JoinAnswer, JoinRequest } from './join-server.ts';
import { callPeer, PeerRpcError } from './peer-rpc.ts';
import { ClusterStartError, type NodeDescription } from './start-cluster-node.ts';

/** Discovery answers no retry can fix (tailscaled answered, but not with its status shape). */
const FINAL_DISCOVERY = new Set(['discovery_malformed', 'discovery_too_large']);
/** Refusals no retry can fix: the daemon stops with the reason instead of trying again. */
const FINAL = new Set(['token_malformed', 'token_checksum_mismatch', 'token_wrong_cluster', 'token_wrong_role', 'token_rotated', 'token_invalid', 'join_proof_invalid', 'seal_invalid', 'seal_malformed', 'node_id_taken', 'too_many_managers']);

export interface JoinOptions {
  readonly nodeId: string;
  readonly token: string;
  /** `cluster.seeds` (and `--join`): tried in the order given. */
  readonly seeds: readonly string[];
  /**
   * Peers found by discovery (Tailscale), asked again on every round so a manager that comes
   * online while this node waits is found; dialled after the static seeds.
   */
  readonly discover?: () => Promise<readonly string[]>;
  readonly advertise: string;
  readonly describe: () => NodeDescription;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Give up after this long of unreachable seeds. Default 120 s. */
  readonly timeoutMs?: number;
}

/**
 * Joins through the first seed that answers: proves the token (it never crosses the wire),
 * checks the manager's proof back (a node never joins an impostor), and opens the sealed cluster
 * secret. The caller saves the identity and starts its Raft member as a learner.
 */
export async function joinCluster(options: JoinOptions): Promise<ClusterIdentity> {
  let token;
  try {
    token = parseToken(options.token);
  } catch (error) {
    throw new ClusterStartError((error as JoinError).code, `cluster.token: ${(error as Error).message}`);
  }
  let seeds: string[];
  try {
    seeds = parseSeeds(options.seeds).map(formatAddress);
  } catch (error) {
    throw new ClusterStartError((error as DiscoveryError).code, (error as Error).message);
  }
  if (seeds.length === 0 && !options.discover) throw new ClusterStartError('no_seeds', 'joining needs a manager to contact: set cluster.seeds (--join host:port) or enable Tailscale discovery');
  const deadline = options.clock.nowMs() + (options.timeoutMs ?? 120_000);
  let delayMs = 250;
  let lastError: Error | undefined;
  let tried: string[] = seeds;
  while (options.clock.nowMs() < deadline) {
    const candidates = [...seeds];
    if (options.discover) {
      try {
        for (const address of await options.discover()) if (!candidates.includes(address)) candidates.push(address);
      } catch (error) {
        // A reply that is not tailscaled's shape will not fix itself: stop and say where it is wrong.
        if (error instanceof DiscoveryError && FINAL_DISCOVERY.has(error.code)) throw new ClusterStartError(error.code, error.message);
        lastError = error as Error;
        options.logger.warn({ err: error }, 'discovery failed; trying the static seeds and asking again');
      }
    }
    if (candidates.length > 0) tried = candidates;
    for (const seed of candidates) {
      try {
        const { serverNonce } = await callPeer<{ serverNonce: string }>(seed, '/cluster/join-challenge', {}, {});
        const claim = proveToken(token, serverNonce, newJoinNonce(cryptoRandom), options.nodeId);
        const request: JoinRequest = { serverNonce, claim, node: { address: options.advertise, ...options.describe() } };
        const answer = await callPeer<JoinAnswer>(seed, '/cluster/join', request, {}, 30_000);
        checkManagerProof(token, serverNonce, claim, answer.proof);
        const secret = openClusterSecret(token, serverNonce, claim, answer.sealed);
        options.logger.info({ seed, clusterId: token.clusterId, role: token.role }, `joined the cluster as a ${token.role}`);
        if (token.role === 'worker') {
          // A worker's `secret` is its own node key; its peers are the managers it opens sessions to.
          return { version: 1, clusterId: token.clusterId, nodeId: options.nodeId, role: 'worker', secret, bootstrapVoters: [], peers: { ...answer.peers } };
        }
        return { version: 1, clusterId: token.clusterId, nodeId: options.nodeId, role: 'manager', secret, bootstrapVoters: answer.bootstrapVoters, peers: { ...answer.peers, [options.nodeId]: options.advertise } };
      } catch (error) {
        const code = error instanceof PeerRpcError || error instanceof JoinError ? error.code : undefined;
        if (code !== undefined && FINAL.has(code)) throw new ClusterStartError(code, `joining through ${seed} was refused: ${(error as Error).message}`);
        lastError = error as Error;
        options.logger.warn({ seed, err: error }, 'join attempt failed; trying the next seed');
      }
    }
    await new Promise<void>((resolve) => options.clock.setTimeout(resolve, delayMs));
    delayMs = Math.min(delayMs * 2, 5000);
  }
  throw new ClusterStartError('join_timeout', `could not join through ${tried.length > 0 ? tried.join(', ') : 'any peer (no seeds, and discovery found none)'}: ${lastError?.message ?? 'no answer'}`);
}
