import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** What the Raft gauges read at scrape time (a subset of RaftNode.status()). */
export interface RaftGaugeSource {
  readonly role: string;
  readonly term: number;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastLogIndex: number;
}

/** What the cluster node reports as it happens; cheap enough for every WAL sync and proposal. */
export interface RaftTelemetry {
  /** One WAL flush (`storage.sync()`: write batch made durable, fdatasync included) took `seconds`. */
  walSynced(seconds: number): void;
  /** A proposal on the leader, from `propose()` to committed by a quorum and applied here. */
  appended(seconds: number, outcome: 'committed' | 'failed'): void;
  /** The member saw `leaderId` as the leader (called on every role step; only changes count). */
  leaderSeen(leaderId: string | undefined): void;
}

export interface RaftMetrics extends RaftTelemetry {
  /** Set by the composition root in cluster mode; on a single node the gauges stay 0. */
  status: () => RaftGaugeSource | undefined;
}

const raftRoles = ['follower', 'preCandidate', 'candidate', 'leader'] as const;

/**
 * Issue 10's Raft metrics. Term and indexes are read from the member's status at scrape time (no
 * cost between scrapes); latencies are histograms observed where they happen; leader changes count
 * every time the known leader becomes a different node (a gap with no leader known is not one).
 */
export function registerRaftMetrics(registry: Registry): RaftMetrics {
  // Read by the gauges' collect(); the composition root replaces it in cluster mode.
  const source: { status: () => RaftGaugeSource | undefined } = { status: () => undefined };
  const gauge = (name: string, help: string, read: (status: RaftGaugeSource) => number) => new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      const status = source.status();
      this.set(status ? read(status) : 0);
    },
  });
  gauge('constellation_raft_term', 'Current Raft term of this member (0 on a single node).', (status) => status.term);
  gauge('constellation_raft_commit_index', 'Highest log index this member knows to be committed.', (status) => status.commitIndex);
  gauge('constellation_raft_applied_index', 'Highest log index applied to this member\'s cluster state.', (status) => status.appliedIndex);
  gauge('constellation_raft_last_log_index', 'Index of the last entry in this member\'s log (committed or not).', (status) => status.lastLogIndex);
  new Gauge({
    name: 'constellation_raft_role',
    help: 'This member\'s Raft role: 1 for the current one, 0 for the others.',
    labelNames: ['role'] as const,
    registers: [registry],
    collect() {
      const role = source.status()?.role;
      for (const candidate of raftRoles) this.set({ role: candidate }, candidate === role ? 1 : 0);
    },
  });
  const leaderChanges = new Counter({
    name: 'constellation_raft_leader_changes_total',
    help: 'Times this member saw the leader become a different node.',
    registers: [registry],
  });
  const append = new Histogram({
    name: 'constellation_raft_append_duration_seconds',
    help: 'On the leader: from a proposal to its entry committed by a quorum and applied, by outcome.',
    labelNames: ['outcome'] as const,
    // A quorum round trip plus one fsync on each side: sub-millisecond on loopback to seconds under load.
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  for (const outcome of ['committed', 'failed'] as const) append.zero({ outcome });
  const walSync = new Histogram({
    name: 'constellation_raft_wal_fsync_duration_seconds',
    help: 'One WAL flush: the batch written and fdatasync\'ed (group commit: one per batch, not per entry).',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  let lastLeader: string | undefined;
  return {
    get status() {
      return source.status;
    },
    set status(read) {
      source.status = read;
    },
    walSynced: (seconds) => walSync.observe(seconds),
    appended: (seconds, outcome) => append.observe({ outcome }, seconds),
    leaderSeen: (leaderId) => {
      if (leaderId === undefined || leaderId === lastLeader) return;
      if (lastLeader !== undefined) leaderChanges.inc();
      lastLeader = leaderId;
    },
  };
}

/** Seconds since `startNs` (from process.hrtime.bigint()). */
export function secondsSince(startNs: bigint): number {
  return Number(process.hrtime.bigint() - startNs) / 1e9;
}
