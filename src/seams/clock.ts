/**
 * Time as a seam: production passes the system clock, the simulator a virtual one.
 * XState actors take the same clock through `createActor(logic, { clock })`, so `after`
 * delays and these timers advance together.
 */
export interface TimerHandle {
  readonly id: unknown;
}

export interface Clock {
  /** Milliseconds since an arbitrary epoch; only differences are meaningful. */
  nowMs(): number;
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}
