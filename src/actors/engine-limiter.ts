/**
 * Bounds how many heavy engine calls (create, start, stop, remove) run at once. A deploy of a
 * hundred replicas would otherwise fire a hundred creates together, and the engine serializes
 * much of that work internally anyway; a small bound keeps it busy without queueing inside it.
 *
 * Urgent calls (start, stop, remove) go ahead of queued creates, so replicas come up one after
 * another during a big deploy instead of all at the very end, and dependants unblock sooner.
 */
export type EnginePriority = 'urgent' | 'normal';

export class EngineLimiter {
  private active = 0;
  private readonly urgent: (() => void)[] = [];
  private readonly normal: (() => void)[] = [];

  constructor(readonly maxConcurrent: number) {
    if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) throw new RangeError(`maxConcurrent must be a positive integer, got ${maxConcurrent}`);
  }

  async run<T>(task: () => Promise<T>, priority: EnginePriority = 'normal'): Promise<T> {
    if (this.active >= this.maxConcurrent) await new Promise<void>((resolve) => (priority === 'urgent' ? this.urgent : this.normal).push(resolve));
    else this.active += 1;
    try {
      return await task();
    } finally {
      const next = this.urgent.shift() ?? this.normal.shift();
      // Hand the slot straight to the next waiter, so `active` never over-counts.
      if (next) next();
      else this.active -= 1;
    }
  }
}
