/**
 * This node's lease on running at-most-once replicas (issue 7 item 3; timing in
 * src/orchestrator/failover/failover-timing.ts). A leader's answer to a heartbeat renews it until
 * `sent + leaseMs` — counted from when the heartbeat was *sent*, which is no later than when the
 * leader received it, so the lease always ends before the leader's bound on it.
 *
 * Once the lease has run out, a fresh answer is not enough: the node's own copy of the state must
 * also have caught up with what the leader had applied when it answered. After a partition heals,
 * the first answer arrives before the log does, and the stale state would otherwise restart a
 * singleton the leader has already placed elsewhere.
 */
import type { Clock } from '../seams/clock.ts';

export interface NodeLeaseOptions {
  readonly clock: Clock;
  readonly leaseMs: number;
  /** What this node's copy of the cluster state has applied. */
  readonly appliedIndex: () => number;
}

export class NodeLease {
  private expiresAtMs = Number.NEGATIVE_INFINITY;
  private requiredIndex = 0;
  private confirmed = false;
  private timer: unknown;
  private readonly listeners = new Set<() => void>();
  private wasValid = false;

  constructor(private readonly options: NodeLeaseOptions) {}

  /** A leader answered the heartbeat sent at `sentAtMs` (this clock), having applied `leaderIndex`. */
  renew(sentAtMs: number, leaderIndex: number): void {
    const expires = sentAtMs + this.options.leaseMs;
    if (expires <= this.options.clock.nowMs()) return;
    if (!this.valid()) this.requiredIndex = Math.max(this.requiredIndex, leaderIndex);
    this.expiresAtMs = Math.max(this.expiresAtMs, expires);
    this.armExpiry();
    this.changed();
  }

  /**
   * Wakes at the expiry. A timer may fire before `nowMs()` reaches it (Node counts a timeout from
   * the event loop's cached time, which lags the clock by whatever ran since), and a lease still
   * valid at that wake would then never be told it ran out: so re-arm until it really has.
   */
  private armExpiry(): void {
    this.options.clock.clearTimeout(this.timer);
    const remainingMs = this.expiresAtMs - this.options.clock.nowMs();
    this.timer = this.options.clock.setTimeout(() => {
      if (this.options.clock.nowMs() < this.expiresAtMs) this.armExpiry();
      else this.changed();
    }, Math.max(1, Math.ceil(remainingMs)));
  }

  /** Call when this node applied more of the log: a pending confirmation may now hold. */
  applied(): void {
    if (!this.confirmed) this.changed();
  }

  /** May this node run its at-most-once replicas now? */
  valid(): boolean {
    if (this.options.clock.nowMs() >= this.expiresAtMs) {
      this.confirmed = false;
      return false;
    }
    if (!this.confirmed && this.options.appliedIndex() >= this.requiredIndex) this.confirmed = true;
    return this.confirmed;
  }

  /** When the lease runs out (this clock); -Infinity before the first answer. */
  expiresAt(): number {
    return this.expiresAtMs;
  }

  /** Told whenever `valid()` flips. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stop(): void {
    this.options.clock.clearTimeout(this.timer);
    this.listeners.clear();
  }

  private changed(): void {
    const now = this.valid();
    if (now === this.wasValid) return;
    this.wasValid = now;
    for (const listener of this.listeners) listener();
  }
}
