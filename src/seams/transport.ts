/**
 * Node-to-node messaging. Delivery is best effort: messages may be lost, delayed, duplicated
 * or reordered, and Raft tolerates all of it. The real implementation is a WebSocket mesh with
 * cluster authentication; the simulator's is an in-memory network with faults.
 */
export type NodeId = string;

export interface Transport<M> {
  readonly self: NodeId;
  /** Fire and forget; never throws for an unreachable peer. */
  send(to: NodeId, message: M): void;
  /** Registers the single receiver; returns an unsubscribe function. */
  onMessage(handler: (from: NodeId, message: M) => void): () => void;
  close(): Promise<void>;
}
