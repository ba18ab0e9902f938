/**
 * Time as a seam: production passes the system clock, the simulator a virtual one. The timer half
 * has the same shape as XState's `Clock`, so the very same object goes to
 * `createActor(logic, { clock })` and `after` delays advance with everything else.
 */
export interface Clock {
  /** Milliseconds since an arbitrary epoch; only differences are meaningful. */
  nowMs(): number;
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}
