import type { NetnsCluster } from '../../../test/support/netns-cluster.ts';

export type ClusterContenderId = 'constellation' | 'swarm';

export interface ClusterContenderContext {
  /** Fresh netns nodes (own dockerd each, test image imported), used by this contender alone. */
  readonly cluster: NetnsCluster;
  readonly replicas: number;
  readonly timeoutMs: number;
  readonly log: (line: string) => void;
}

/** A cluster formed and idle (untimed); only deploy() is timed. */
export interface PreparedClusterContender {
  /** Deploys the stack and resolves once the engines together run every replica; returns how many each engine runs. */
  deploy(): Promise<{ readonly perEngine: readonly number[] }>;
  /** Untimed check afterwards (e.g. our API agrees with the engines); throws if it fails. */
  verify?(): Promise<void>;
}

export interface ClusterContender {
  readonly id: ClusterContenderId;
  readonly title: string;
  prepare(context: ClusterContenderContext): Promise<PreparedClusterContender>;
}
