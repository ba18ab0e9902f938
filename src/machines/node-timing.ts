/**
 * Heartbeat timing of cluster nodes. The defaults aim at seconds-fast detection (issue 6 item 4;
 * failover in issue 7 wants replicas elsewhere within 3 s of a cut): a worker heartbeats every
 * 500 ms, is suspect after 2 missed heartbeats (1 s of silence) and down after a 2 s grace.
 * Swarm waits 3 × 5 s and Nomad ≥ 10 s; the price of ours is more heartbeats at the leader,
 * which bench/heartbeats.ts measures.
 *
 * The lead's config keys map onto these: `cluster.heartbeatIntervalMs` and `cluster.nodeDownAfterMs`.
 */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 500;
export const DEFAULT_NODE_DOWN_AFTER_MS = 2000;
/** Heartbeats a node may miss before it is suspect (not yet down: nothing is rescheduled). */
export const SUSPECT_AFTER_MISSED_HEARTBEATS = 2;

/** What one node machine needs: both measured from the last heartbeat heard. */
export interface NodeTiming {
  readonly suspectAfterMs: number;
  /** The grace: silence after which the node is down and its work may be replaced. */
  readonly downAfterMs: number;
}

export class NodeTimingError extends Error {
  readonly code = 'node_timing_invalid';
  constructor(message: string) {
    super(message);
    this.name = 'NodeTimingError';
  }
}

/**
 * Timing from the two config values. Refuses settings under which a healthy node would flap:
 * the grace must cover more than the suspicion window, so at least one heartbeat can arrive while
 * the node is suspect.
 */
export function nodeTimingFrom(heartbeatIntervalMs = DEFAULT_HEARTBEAT_INTERVAL_MS, nodeDownAfterMs = DEFAULT_NODE_DOWN_AFTER_MS): NodeTiming {
  if (!Number.isFinite(heartbeatIntervalMs) || heartbeatIntervalMs <= 0) {
    throw new NodeTimingError(`cluster.heartbeatIntervalMs must be a positive number of milliseconds, got ${heartbeatIntervalMs}`);
  }
  const suspectAfterMs = heartbeatIntervalMs * SUSPECT_AFTER_MISSED_HEARTBEATS;
  if (!Number.isFinite(nodeDownAfterMs) || nodeDownAfterMs <= suspectAfterMs) {
    throw new NodeTimingError(
      `cluster.nodeDownAfterMs (${nodeDownAfterMs}) must be greater than ${SUSPECT_AFTER_MISSED_HEARTBEATS} heartbeat intervals (${suspectAfterMs} ms), or a node with one late heartbeat is declared down`,
    );
  }
  return { suspectAfterMs, downAfterMs: nodeDownAfterMs };
}

export const DEFAULT_NODE_TIMING: NodeTiming = nodeTimingFrom();
