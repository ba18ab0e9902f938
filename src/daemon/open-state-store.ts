import type { RaftTelemetry } from '../metrics/raft-metrics.ts';
import { existsSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { arch, cpus, hostname, platform, totalmem } from 'node:os';
import type { Logger } from 'pino';
import { FileStateStore, STATE_FILE_NAME } from '../adapters/file-state-store.ts';
import { identityPath, loadClusterIdentity, saveClusterIdentity, type ClusterIdentity } from '../cluster-mode/cluster-identity.ts';
import { joinCluster } from '../cluster-mode/join-client.ts';
import { advertisedAddress, startClusterNode, type ClusterNode, type NodeDescription } from '../cluster-mode/start-cluster-node.ts';
import { startWorkerNode, type WorkerNode } from '../cluster-mode/worker/start-worker-node.ts';
import { parseToken } from '../join/join-token.ts';
import { formatAddress } from '../discovery/seeds.ts';
import { discoverTailscalePeers } from '../discovery/tailscale.ts';
import type { Config } from '../config/config-schema.ts';
import type { Clock } from '../seams/clock.ts';
import type { StateStore } from '../seams/state-store.ts';
import { join as pathJoin } from 'node:path';

export interface OpenedStore {
  readonly store: StateStore;
  /** Present in cluster mode on a manager. */
  readonly cluster?: ClusterNode;
  /** Present on a worker: `store` then holds its assignments only. */
  readonly worker?: WorkerNode;
  close(): Promise<void>;
}

/** The role a join token is for; undefined when there is none or it does not parse (the join says why). */
function tokenRole(token: string): 'manager' | 'worker' | undefined {
  if (token === '') return undefined;
  try {
    return parseToken(token).role;
  } catch {
    return undefined;
  }
}

/** Whether this daemon runs as a cluster member (else: the single-node file store). */
export function isClusterMode(config: Config, dataDir: string): boolean {
  const { cluster } = config;
  return cluster.bootstrap || cluster.seeds.length > 0 || cluster.discovery.tailscale.enabled || existsSync(identityPath(dataDir));
}

/** Docker's names for the architecture, which Swarm-style constraints use (`node.platform.arch == x86_64`). */
const dockerArch: Readonly<Record<string, string>> = { x64: 'x86_64', arm64: 'aarch64', arm: 'armv7l', ia32: 'i386' };

export function describeThisNode(config: Config): NodeDescription {
  return {
    hostname: hostname(),
    labels: config.node.labels,
    platform: { os: platform(), arch: dockerArch[arch()] ?? arch() },
    capacity: { nanoCpus: cpus().length * 1e9, memoryBytes: totalmem() },
  };
}

/**
 * Opens where desired state lives: the file store on a single node, the Raft member in a cluster.
 * A single node that bootstraps a cluster carries its deployed stacks into the log, so it grows
 * into a cluster without a redeploy (the old file is kept as state.json.migrated).
 */
export async function openStateStore(config: Config, dataDir: string, clock: Clock, logger: Logger, telemetry?: RaftTelemetry): Promise<OpenedStore> {
  if (!isClusterMode(config, dataDir)) {
    const store = new FileStateStore(dataDir);
    await store.open();
    return { store, close: () => store.close() };
  }
  const describe = (): NodeDescription => describeThisNode(config);
  const join = (advertise: string): Promise<ClusterIdentity> => joinCluster({
    nodeId: config.node.id, token: config.cluster.token, seeds: config.cluster.seeds, advertise, describe, clock, logger,
    ...(config.cluster.discovery.tailscale.enabled ? { discover: tailscaleSeeds(config, logger) } : {}),
  });
  // A worker is not a Raft member: it joins (or comes back) with its own identity and a session.
  const saved = await loadClusterIdentity(dataDir, config.node.id);
  if (saved?.role === 'worker' || (!saved && !config.cluster.bootstrap && tokenRole(config.cluster.token) === 'worker')) {
    let identity = saved;
    if (!identity) {
      identity = await join(advertisedAddress(config));
      await saveClusterIdentity(dataDir, identity);
    } else if (config.cluster.bootstrap) {
      logger.info({ clusterId: identity.clusterId }, 'this node is a worker of a cluster: cluster.bootstrap ignored');
    }
    const worker = await startWorkerNode({ identity, dataDir, heartbeatIntervalMs: config.cluster.heartbeatIntervalMs, clock, logger });
    return { store: worker.store, worker, close: () => worker.stop() };
  }
  const legacyFile = pathJoin(dataDir, STATE_FILE_NAME);
  const legacy = config.cluster.bootstrap && existsSync(legacyFile) ? new FileStateStore(dataDir) : undefined;
  await legacy?.open();
  const cluster = await startClusterNode({ config: { ...config, node: { ...config.node, dataDir } }, logger, clock, describe, join, ...(telemetry ? { telemetry } : {}) });
  if (legacy) await migrateSingleNodeState(legacy, cluster, legacyFile, logger);
  return { store: cluster.store, cluster, close: () => cluster.stop() };
}

/**
 * Managers to dial from the tailnet: online peers carrying `cluster.discovery.tailscale.tag`, at
 * their Tailscale IP and this node's cluster port (a cluster uses one cluster port everywhere,
 * as Swarm uses 2377). Tailscale's Online only picks whom to dial; liveness is our heartbeats.
 */
function tailscaleSeeds(config: Config, logger: Logger): () => Promise<string[]> {
  const { socket, tag } = config.cluster.discovery.tailscale;
  const port = config.cluster.listen.port;
  return async () => {
    const found = await discoverTailscalePeers({ socketPath: socket, tag });
    const seeds = found.peers.map((peer) => formatAddress({ host: peer.address, port }));
    logger.info({ tag, peers: found.peers.map((peer) => `${peer.dnsName || peer.hostName} ${peer.address}`) }, `tailscale discovery: ${seeds.length} peer(s) with ${tag}`);
    return seeds;
  };
}

async function migrateSingleNodeState(legacy: FileStateStore, cluster: ClusterNode, legacyFile: string, logger: Logger): Promise<void> {
  const stacks = Object.values(legacy.current().stacks);
  for (const stack of stacks) {
    const result = await cluster.submit({ type: 'deploy-stack', stack: stack.spec, specHash: stack.specHash, atMs: stack.updatedAtMs });
    if (!result.ok) throw new Error(`could not carry stack ${stack.name} into the cluster: ${result.message}`);
  }
  await legacy.close();
  await rename(legacyFile, `${legacyFile}.migrated`);
  logger.info({ stacks: stacks.length }, 'carried the single-node stacks into the cluster log');
}
