import type { ClusterEvent, ClusterEventBody } from './cluster-event-types.ts';

/** What a reader resuming at `since` gets: the events it missed that are still held, and any gap. */
export interface ResumeResult {
  readonly events: readonly ClusterEvent[];
  /** Indexes that were dropped from the bounded history before the reader came back. */
  readonly gap?: { readonly from: number; readonly to: number };
  /** `since` is beyond the last index: the reader saw another run of the daemon (indexes restart). */
  readonly ahead?: boolean;
}

/**
 * The cluster event log of this daemon: indexes 1, 2, 3, … in the order events were seen, the
 * last `capacity` (up to twice that between trims) kept for readers that resume with `?since=INDEX`. Indexes are not persisted: a
 * restarted daemon starts again at 1 with a new `streamId`, which readers compare.
 */
export class EventLog {
  private readonly ring: ClusterEvent[] = [];
  private nextIndex = 1;
  private readonly listeners = new Set<(event: ClusterEvent) => void>();

  constructor(private readonly capacity: number, readonly streamId: string, private readonly wallClockMs: () => number) {}

  append(body: ClusterEventBody): ClusterEvent {
    const event = { ...body, index: this.nextIndex++, atMs: this.wallClockMs() } as ClusterEvent;
    this.ring.push(event);
    // Trimmed in halves, not one by one: an append stays O(1) amortized at any capacity.
    if (this.ring.length >= 2 * this.capacity) this.ring.splice(0, this.ring.length - this.capacity);
    for (const listener of [...this.listeners]) listener(event);
    return event;
  }

  /** Index of the newest event (0 when none yet). */
  lastIndex(): number {
    return this.nextIndex - 1;
  }

  /** Index of the oldest event still held (lastIndex() + 1 when none is). */
  firstIndex(): number {
    return this.ring[0]?.index ?? this.nextIndex;
  }

  since(index: number): ResumeResult {
    if (index > this.lastIndex()) return { events: [], ahead: true };
    const first = this.firstIndex();
    // Indexes in the ring are contiguous.
    const events = this.ring.slice(Math.max(0, index + 1 - first));
    return index + 1 < first ? { events, gap: { from: index + 1, to: first - 1 } } : { events };
  }

  subscribe(listener: (event: ClusterEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
