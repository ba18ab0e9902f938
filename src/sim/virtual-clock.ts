import type { Clock } from '../seams/clock.ts';

/** A pending timer: fires at `dueMs`; `seq` breaks ties so equal deadlines fire in scheduling order. */
interface Timer {
  readonly dueMs: number;
  readonly seq: number;
  readonly callback: () => void;
  cancelled: boolean;
}

export class VirtualClockError extends Error {
  constructor(
    readonly code: 'sim_time_limit' | 'sim_invalid_delay' | 'sim_reentrant_advance',
    message: string,
  ) {
    super(message);
    this.name = 'VirtualClockError';
  }
}

/**
 * Lets everything queued on the microtask queue run before the next timer fires, so async code
 * (a storage sync resolving, a promise chain inside the Raft node) completes "at" the virtual
 * instant it was started, exactly as it would between two real timer callbacks. setImmediate runs
 * only after the microtask queue is empty, and nothing real is pending in a simulation, so the
 * order is still fully determined by the timer queue.
 */
export function drainMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * The simulator's Clock: time moves only when the test says so, and timers fire strictly in
 * (due time, scheduling order) order. Same shape as XState's clock, so one instance drives both
 * `createActor(..., { clock })` delays and our own timers.
 */
export class VirtualClock implements Clock {
  private now = 0;
  private nextSeq = 0;
  private readonly heap: Timer[] = [];
  private running = false;
  /** Called after every fired timer (and its microtasks) — the simulator checks invariants here. */
  private afterEachStep: (() => void) | undefined;
  private firedCount = 0;

  constructor(startMs = 0) {
    this.now = startMs;
  }

  nowMs(): number {
    return this.now;
  }

  setTimeout(callback: () => void, delayMs: number): unknown {
    // Real timers clamp negative/NaN delays to "as soon as possible"; keep that, but refuse
    // Infinity which would silently never fire and hide a bug.
    const delay = Number.isFinite(delayMs) ? Math.max(0, delayMs) : Number.isNaN(delayMs) ? 0 : -1;
    if (delay < 0) throw new VirtualClockError('sim_invalid_delay', `setTimeout delay must be finite, got ${delayMs}`);
    const timer: Timer = { dueMs: this.now + delay, seq: this.nextSeq++, callback, cancelled: false };
    this.push(timer);
    return timer;
  }

  clearTimeout(handle: unknown): void {
    if (handle && typeof handle === 'object' && 'cancelled' in handle) (handle as Timer).cancelled = true;
  }

  /** Number of timers that are scheduled and not cancelled. */
  pendingCount(): number {
    let count = 0;
    for (const timer of this.heap) if (!timer.cancelled) count++;
    return count;
  }

  /** Due time of the next live timer, or undefined when nothing is scheduled. */
  nextDueMs(): number | undefined {
    this.dropCancelledHead();
    return this.heap[0]?.dueMs;
  }

  /** How many timers have fired since construction (a cheap progress measure for budgets). */
  stepsFired(): number {
    return this.firedCount;
  }

  onStep(hook: (() => void) | undefined): void {
    this.afterEachStep = hook;
  }

  /** Fires every timer due within the next `ms` (in order), then leaves the clock at now + ms. */
  async advance(ms: number): Promise<void> {
    const target = this.now + ms;
    await this.run(() => false, target);
    this.now = Math.max(this.now, target);
  }

  /**
   * Fires timers in order until `predicate()` holds (checked before each timer and after the
   * last) or virtual time would pass now + limitMs. Returns whether the predicate held.
   */
  async runUntil(predicate: () => boolean, limitMs: number): Promise<boolean> {
    const deadline = this.now + limitMs;
    await drainMicrotasks();
    const held = await this.run(predicate, deadline);
    if (!held) this.now = Math.max(this.now, deadline);
    return held;
  }

  private async run(predicate: () => boolean, deadlineMs: number): Promise<boolean> {
    if (this.running) throw new VirtualClockError('sim_reentrant_advance', 'advance/runUntil called while the clock is already running (await the first call)');
    this.running = true;
    try {
      while (true) {
        if (predicate()) return true;
        this.dropCancelledHead();
        const timer = this.heap[0];
        if (!timer || timer.dueMs > deadlineMs) return false;
        this.pop();
        this.now = timer.dueMs;
        timer.cancelled = true;
        this.firedCount++;
        timer.callback();
        await drainMicrotasks();
        this.afterEachStep?.();
      }
    } finally {
      this.running = false;
    }
  }

  private dropCancelledHead(): void {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.pop();
  }

  // A binary min-heap on (dueMs, seq): O(log n) per timer, enough for millions of events.
  private static before(a: Timer, b: Timer): boolean {
    return a.dueMs < b.dueMs || (a.dueMs === b.dueMs && a.seq < b.seq);
  }

  private push(timer: Timer): void {
    const heap = this.heap;
    heap.push(timer);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!VirtualClock.before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  private pop(): Timer | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last) {
      heap[0] = last;
      let i = 0;
      while (true) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < heap.length && VirtualClock.before(heap[left]!, heap[smallest]!)) smallest = left;
        if (right < heap.length && VirtualClock.before(heap[right]!, heap[smallest]!)) smallest = right;
        if (smallest === i) break;
        [heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!];
        i = smallest;
      }
    }
    return top;
  }
}

/** A timer handed out by a ClockScope; the underlying clock timer changes when a pause defers it. */
interface ScopedTimer {
  inner: unknown;
  cancelled: boolean;
}

/**
 * One member's view of a VirtualClock: its own rate (clock drift), process pauses, and a kill switch.
 *
 * - Drift: the member's clock runs `rate` times as fast as true time, so its timers fire after
 *   delay / rate of true time and its nowMs() advances `rate` ms per true ms. Real clocks drift and
 *   stall; anything that trusts timing across members (leases) must survive it.
 * - Pause: between now and `pausedUntilMs` the process is frozen (GC pause, VM stall, SIGSTOP):
 *   timers due meanwhile fire when it resumes. The network and disk consult `pausedUntilMs()` too.
 * - Kill: a crashed incarnation never fires a timer again, whether or not its stop() cleared them.
 */
export class ClockScope implements Clock {
  private readonly live = new Set<ScopedTimer>();
  private dead = false;
  private pausedUntil = 0;
  private readonly anchorTrueMs: number;
  private readonly anchorLocalMs: number;

  constructor(
    private readonly clock: VirtualClock,
    private readonly rate = 1,
  ) {
    if (!(rate > 0)) throw new RangeError(`clock rate must be positive, got ${rate}`);
    this.anchorTrueMs = clock.nowMs();
    this.anchorLocalMs = clock.nowMs();
  }

  nowMs(): number {
    return this.anchorLocalMs + (this.clock.nowMs() - this.anchorTrueMs) * this.rate;
  }

  setTimeout(callback: () => void, delayMs: number): unknown {
    const timer: ScopedTimer = { inner: undefined, cancelled: false };
    if (this.dead) return timer;
    const fire = (): void => {
      if (timer.cancelled || this.dead) return;
      const now = this.clock.nowMs();
      if (now < this.pausedUntil) {
        timer.inner = this.clock.setTimeout(fire, this.pausedUntil - now);
        return;
      }
      this.live.delete(timer);
      callback();
    };
    const trueDelayMs = Number.isFinite(delayMs) ? Math.max(0, delayMs) / this.rate : delayMs;
    timer.inner = this.clock.setTimeout(fire, trueDelayMs);
    this.live.add(timer);
    return timer;
  }

  clearTimeout(handle: unknown): void {
    const timer = handle as ScopedTimer | undefined;
    if (!timer || typeof timer !== 'object' || !('inner' in timer)) return;
    timer.cancelled = true;
    this.live.delete(timer);
    this.clock.clearTimeout(timer.inner);
  }

  /** Freezes the process for `ms` of true time from now. */
  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.clock.nowMs() + ms);
  }

  /** True time at which a pause in progress ends (in the past when running). */
  pausedUntilMs(): number {
    return this.pausedUntil;
  }

  kill(): void {
    this.dead = true;
    for (const timer of this.live) {
      timer.cancelled = true;
      this.clock.clearTimeout(timer.inner);
    }
    this.live.clear();
  }
}
