import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Node statuses always exported, so a dashboard sees 0 rather than a missing series. */
const nodeStatuses = ['joining', 'ready', 'suspect', 'down', 'left'] as const;

export interface FailoverMetrics {
  /** One failover: replicas of a down node placed elsewhere, `seconds` since it was last heard. */
  failover(cause: string, seconds: number): void;
}

/**
 * Issue 7's metrics on the daemon's registry: failovers by cause, how long each took from the
 * last heartbeat heard to the committed replacement, and nodes by status as this daemon sees them
 * (read at scrape time, so it never lags).
 */
export function registerFailoverMetrics(registry: Registry, nodeStatuses_: () => readonly string[]): FailoverMetrics {
  const failovers = new Counter({ name: 'constellation_failovers_total', help: 'Replicas of a down node placed elsewhere, per node and service, by cause.', labelNames: ['cause'] as const, registers: [registry] });
  const duration = new Histogram({
    name: 'constellation_failover_duration_seconds',
    help: 'From the last heartbeat heard of a node to the committed placement of its replicas elsewhere.',
    buckets: [0.5, 1, 2, 2.5, 3, 4, 5, 7.5, 10, 15, 30, 60],
    registers: [registry],
  });
  new Gauge({
    name: 'constellation_nodes',
    help: 'Cluster nodes by status, as this daemon sees them (the leader from its node machines, a follower from the board it mirrors).',
    labelNames: ['status'] as const,
    registers: [registry],
    collect() {
      const counts = new Map<string, number>(nodeStatuses.map((status) => [status, 0]));
      for (const status of nodeStatuses_()) counts.set(status, (counts.get(status) ?? 0) + 1);
      for (const [status, value] of counts) this.set({ status }, value);
    },
  });
  return {
    failover: (cause, seconds) => {
      failovers.inc({ cause });
      duration.observe(seconds);
    },
  };
}
