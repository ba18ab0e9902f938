import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { cryptoRandom } from '../adapters/crypto-random.ts';
import { FileRaftStorage } from '../adapters/raft-wal/file-raft-storage.ts';
import { preloadedStorage } from '../adapters/raft-wal/preloaded-storage.ts';
import { startRaftWsTransport } from '../adapters/ws-transport/raft-ws-transport.ts';
import type { WsTransport } from '../adapters/ws-transport/ws-transport.ts';
import { systemClock } from '../adapters/system-clock.ts';
import type { RaftMessage } from '../raft/messages.ts';
import { createRaftNode, type RaftNode } from '../raft/raft-node.ts';
import { createKvHttpServer } from './kv-http-api.ts';
import type { RaftMemberConfig } from './parse-args.ts';

export interface RaftMember {
  readonly node: RaftNode;
  readonly transport: WsTransport<RaftMessage>;
  readonly storage: FileRaftStorage;
  readonly http: Server;
  stop(): Promise<void>;
}

/**
 * The composition root of a stand-alone Raft member: file storage, ws transport, system clock and
 * crypto randomness wired into createRaftNode, with the KV client API in front. Whatever started
 * before a failure is closed again before the error propagates.
 */
export async function startRaftMember(config: RaftMemberConfig, logger: Logger): Promise<RaftMember> {
  const raftAddress = config.peers[config.id]!;
  const colon = raftAddress.lastIndexOf(':');
  // Load (and check) the WAL before binding any port: a damaged log refuses to start with no side effect.
  const storage = new FileRaftStorage({ dir: config.dataDir });
  const persisted = await storage.load();
  const transport = await startRaftWsTransport({
    self: config.id,
    listenHost: raftAddress.slice(0, colon).replace(/^\[|\]$/g, ''),
    listenPort: Number(raftAddress.slice(colon + 1)),
    peers: config.peers,
    secret: config.secret,
    random: cryptoRandom,
    logger: logger.child({ component: 'transport' }),
  });
  let node: RaftNode | undefined;
  try {
    node = createRaftNode({
      id: config.id,
      ...(config.join ? {} : { initialMembership: { voters: Object.keys(config.peers).sort(), learners: [] } }),
      storage: preloadedStorage(storage, persisted),
      transport,
      clock: systemClock,
      random: cryptoRandom,
      electionTimeoutMs: config.electionTimeoutMs,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      ...(config.snapshotEveryEntries ? { snapshotEveryEntries: config.snapshotEveryEntries } : {}),
    });
    await node.start();
    if (storage.loadReport?.tornTail) logger.warn({ tornTail: storage.loadReport.tornTail }, 'truncated a torn WAL tail left by a crash');
    const started = node;
    const http = createKvHttpServer({
      node: started,
      clientPeers: config.clientPeers,
      defaultClientId: `${config.id}-${randomUUID()}`,
      requestTimeoutMs: Math.max(5000, config.electionTimeoutMs * 5),
      extraStatus: () => ({ transport: transport.counters, connectedPeers: transport.connectedPeers(), walFsyncs: storage.fsyncCount }),
      logger,
    });
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(config.clientPort, config.clientHost, () => {
        http.off('error', reject);
        resolve();
      });
    });
    http.keepAliveTimeout = 60_000;
    return {
      node: started,
      transport,
      storage,
      http,
      async stop() {
        http.closeAllConnections();
        await new Promise<void>((resolve) => http.close(() => resolve()));
        await started.stop();
        await transport.close();
        await storage.close();
      },
    };
  } catch (error) {
    await node?.stop().catch(() => undefined);
    await transport.close();
    await storage.close().catch(() => undefined);
    throw error;
  }
}
