import { createHmac } from 'node:crypto';

/**
 * A worker never holds the cluster secret: that secret opens the Raft mesh and every manager
 * RPC. It holds a key derived for its node id alone, which every manager can recompute from the
 * cluster secret, and which opens only the worker routes (its session, forwarded API calls) as
 * that node. A worker that is removed is refused by its record, not by its key.
 */
export function workerKey(clusterSecret: string, nodeId: string): string {
  return createHmac('sha256', clusterSecret).update(`constellation-worker-key/v1|${nodeId.length}:${nodeId}`).digest('base64url');
}
