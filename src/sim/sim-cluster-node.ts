/**
 * A manager's ClusterNode (what start-cluster-node.ts gives the daemon) around a simulated Raft
 * member: the same RaftStateStore, forwarding and leader routing, with the cluster port carried
 * by SimPeerLinks instead of HTTP and WebSockets. The daemon's cluster services run on it as is.
 */
import type { WsTransport } from '../adapters/ws-transport/ws-transport.ts';
import type { ClusterIdentity } from '../cluster-mode/cluster-identity.ts';
import { PeerRpcError } from '../cluster-mode/peer-rpc.ts';
import { RaftStateStore, type ForwardedResult } from '../cluster-mode/raft-state-store.ts';
import type { ClusterNode } from '../cluster-mode/start-cluster-node.ts';
import type { ClientRequest } from '../cluster/commands.ts';
import type { RaftMessage } from '../raft/messages.ts';
import type { RaftNode } from '../raft/raft-node.ts';
import type { Clock } from '../seams/clock.ts';
import type { SimPeerLinks } from './sim-peer-links.ts';

export function simAddress(id: string): string {
  return `${id}:7421`;
}

export interface SimClusterNodeOptions {
  readonly id: string;
  readonly raft: RaftNode;
  readonly clock: Clock;
  readonly links: SimPeerLinks;
  readonly founders: readonly string[];
  /** Distinguishes this incarnation's client session from the last one's. */
  readonly incarnation: number;
}

export function simClusterNode(options: SimClusterNodeOptions): ClusterNode {
  const { id, raft, clock, links } = options;
  const server = links.serve(id);
  // Created once the member started, as start-cluster-node reads it right after raft.start().
  const lastLogIndexAtStart = raft.status().lastLogIndex;
  const peers = Object.fromEntries(options.founders.map((founder) => [founder, simAddress(founder)]));
  const identity: ClusterIdentity = { version: 1, clusterId: 'sim', nodeId: id, role: 'manager', secret: 'sim', bootstrapVoters: [...options.founders], peers };
  const addressOf = (nodeId: string): string | undefined => raft.state().view().nodes[nodeId]?.address ?? peers[nodeId];
  const forward = (leaderId: string, request: ClientRequest): Promise<ForwardedResult> => {
    const address = addressOf(leaderId);
    if (!address) return Promise.reject(new PeerRpcError('peer_unreachable', `no address known for leader ${leaderId}`, 503));
    return links.call<ForwardedResult>(id, address, '/cluster/submit', { request });
  };
  const store = new RaftStateStore({ node: raft, clock, forward });
  const leaderHandlers = new Map<string, (body: unknown) => Promise<unknown>>();
  const clientId = `node:${id}:${options.incarnation}`;
  let seq = 0;
  const node: ClusterNode = {
    identity,
    raft,
    store,
    // The sim's Raft mesh routes by node id: there is no address book to keep.
    transport: { setPeer: () => undefined } as unknown as WsTransport<RaftMessage>,
    advertise: simAddress(id),
    synced: () => store.synced(lastLogIndexAtStart),
    submit: (command) => store.submit({ clientId, seq: ++seq, command }),
    isLeader: () => raft.status().role === 'leader',
    addressOf,
    callPeer: (address, path, body, timeoutMs) => links.call(id, address, path, body, timeoutMs),
    addRoute: (path, route) => {
      server.routes.set(path, route);
    },
    addSessionRoute: (path, admit) => {
      server.sessions.set(path, admit);
    },
    addLeaderRoute: (path, handle) => {
      leaderHandlers.set(path, handle);
      server.routes.set(path, {
        auth: 'cluster-secret',
        handle: (body) => (node.isLeader() ? handle(body) : Promise.reject(new PeerRpcError('not_leader', `${id} is not the leader`, 503))),
      });
    },
    onLeader: async <T>(path: string, body: unknown): Promise<T> => {
      if (node.isLeader()) return (await leaderHandlers.get(path)!(body)) as T;
      const leaderId = raft.status().leaderId;
      const address = leaderId === undefined ? undefined : addressOf(leaderId);
      if (!address) throw new PeerRpcError('no_leader', 'the cluster has no leader right now; retry shortly', 503);
      return links.call<T>(id, address, path, body);
    },
    stop: async () => {
      await store.close();
    },
  };
  server.routes.set('/cluster/submit', {
    auth: 'cluster-secret',
    handle: async (body) => {
      const request = (body as { request: ClientRequest }).request;
      if (!node.isLeader()) throw new PeerRpcError('not_leader', `${id} is not the leader`, 503);
      const result = await raft.propose(request);
      return { result, appliedIndex: raft.status().appliedIndex } satisfies ForwardedResult;
    },
  });
  return node;
}
