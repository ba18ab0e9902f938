import { Counter, Histogram, type Registry } from 'prom-client';

/** Results a rollout ends in (paused counts too: it waits for a human). */
export const rolloutResults = ['completed', 'rolled-back', 'failed', 'paused'] as const;
export type RolloutResult = (typeof rolloutResults)[number];

export interface RolloutMetrics {
  /** A service's rollout reached `result`, `seconds` after it began. */
  ended(result: RolloutResult, seconds: number): void;
}

/**
 * Issue 8's metrics. Counted by the daemon that leads the rollout (a single node, or the cluster's
 * leader), once per service rollout and result, so a cluster's sum over daemons is not inflated.
 */
export function registerRolloutMetrics(registry: Registry): RolloutMetrics {
  const total = new Counter({
    name: 'constellation_rollouts_total',
    help: 'Service rollouts that ended (or paused), by result.',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  for (const result of rolloutResults) total.inc({ result }, 0);
  const duration = new Histogram({
    name: 'constellation_rollout_duration_seconds',
    help: 'From a changed deploy to its service rollout ending (completed, rolled back, failed or paused).',
    buckets: [1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1800],
    registers: [registry],
  });
  return {
    ended: (result, seconds) => {
      total.inc({ result });
      duration.observe(Math.max(0, seconds));
    },
  };
}
