import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * What makes this node a member of its cluster, kept in `<dataDir>/cluster/identity.json` (0600):
 * the cluster's id and secret (the ws mesh and peer RPCs authenticate with it), the join tokens
 * (managers only), the bootstrap voter set every manager starts its Raft member from, and the last
 * known peer addresses, so a restarted manager can reach the others before it has a leader.
 */
export interface ClusterIdentity {
  readonly version: 1;
  readonly clusterId: string;
  readonly nodeId: string;
  readonly role: 'manager' | 'worker';
  readonly secret: string;
  readonly bootstrapVoters: readonly string[];
  readonly peers: Readonly<Record<string, string>>;
}

export class ClusterIdentityError extends Error {
  constructor(readonly code: 'identity_corrupt' | 'identity_node_mismatch', message: string) {
    super(message);
    this.name = 'ClusterIdentityError';
  }
}

export function identityPath(dataDir: string): string {
  return join(dataDir, 'cluster', 'identity.json');
}

export async function loadClusterIdentity(dataDir: string, nodeId: string): Promise<ClusterIdentity | undefined> {
  const path = identityPath(dataDir);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let parsed: Partial<ClusterIdentity>;
  try {
    parsed = JSON.parse(text) as Partial<ClusterIdentity>;
  } catch {
    throw new ClusterIdentityError('identity_corrupt', `${path} is not valid JSON; restore it from a backup or remove the data directory to join afresh`);
  }
  if (parsed.version !== 1 || typeof parsed.clusterId !== 'string' || typeof parsed.secret !== 'string' || typeof parsed.nodeId !== 'string' || !Array.isArray(parsed.bootstrapVoters) || typeof parsed.peers !== 'object' || parsed.peers === null) {
    throw new ClusterIdentityError('identity_corrupt', `${path} is missing fields of a cluster identity`);
  }
  if (parsed.nodeId !== nodeId) {
    throw new ClusterIdentityError('identity_node_mismatch', `${path} belongs to node "${parsed.nodeId}", but this daemon is node "${nodeId}": a data directory belongs to one node id`);
  }
  return parsed as ClusterIdentity;
}

/** Atomic replace (tmp, fsync, rename, directory fsync): a crash leaves the old or the new file. */
export async function saveClusterIdentity(dataDir: string, identity: ClusterIdentity): Promise<void> {
  const path = identityPath(dataDir);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp`;
  const file = await open(tmp, 'w', 0o600);
  try {
    await file.writeFile(`${JSON.stringify(identity, null, 2)}\n`, 'utf8');
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmp, path);
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
