/**
 * The clocks of failover, derived from the cluster's heartbeat settings so there is one knob less
 * to get wrong. All durations are measured on each daemon's own monotonic clock; the drift bound
 * is how far two such clocks may disagree in *rate* (not offset: no durations here ever compare
 * wall-clock times across machines).
 *
 * Fencing, at-most-once (DESIGN.md "Fencing"): a node runs an at-most-once replica only while its
 * lease holds — `leaseMs` after the *send* time of its last heartbeat that a leader answered. The
 * leader replaces such a replica only once that lease has surely run out and the copy is surely
 * stopped: `replaceDelayMs` after the last heartbeat it *received* from the node (received ≥
 * sent), stretched by the drift bound on both clocks:
 *
 *   replaceDelay ≥ (lease + stop grace + margin) · (1 + ρ) / (1 − ρ)
 *
 * A new leader did not see the heartbeats its predecessor answered. The old leader answers
 * heartbeats only while it is leader, and check-quorum deposes it within two election timeouts of
 * losing its majority (which happened before anyone else could be elected), so a new leader counts
 * every lease as granted as late as `leaderSince + handoverMs`.
 */
export interface FailoverTiming {
  /** Silence after which a node is down (cluster.nodeDownAfterMs). */
  readonly downAfterMs: number;
  /** How long a node keeps at-most-once replicas after its last answered heartbeat was sent. */
  readonly leaseMs: number;
  /** How long a deposed leader may still believe it leads (2 × raft.electionTimeoutMs, check-quorum). */
  readonly handoverMs: number;
  /** Rate drift bound between any two daemons' clocks. */
  readonly clockDrift: number;
  /** Time for a node to notice its lease ran out and ask its engine to stop (timer + one agent pass). */
  readonly noticeMs: number;
}

/**
 * 1 %: ten thousand times the worst crystal drift NTP-less PCs show (~100 ppm), so a VM whose
 * clock is stepped or slewed hard is still covered; it costs ~2 % on at-most-once failover time.
 */
export const CLOCK_DRIFT_BOUND = 0.01;

export function failoverTiming(options: { heartbeatIntervalMs: number; nodeDownAfterMs: number; electionTimeoutMs: number }): FailoverTiming {
  return {
    downAfterMs: options.nodeDownAfterMs,
    // Longer than the grace by one period: a blip the leader forgives never stops a singleton.
    leaseMs: options.nodeDownAfterMs + options.heartbeatIntervalMs,
    handoverMs: 2 * options.electionTimeoutMs,
    clockDrift: CLOCK_DRIFT_BOUND,
    noticeMs: 500,
  };
}

/** How long after the last heartbeat heard the leader waits before replacing an at-most-once replica. */
export function replaceDelayMs(timing: FailoverTiming, stopGracePeriodMs: number): number {
  const onNode = timing.leaseMs + timing.noticeMs + Math.max(0, stopGracePeriodMs);
  return Math.ceil((onNode * (1 + timing.clockDrift)) / (1 - timing.clockDrift));
}
