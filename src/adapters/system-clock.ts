import type { Clock } from '../seams/clock.ts';

/** The real clock. Monotonic so that a wall-clock step does not fire or starve timers. */
export const systemClock: Clock = {
  nowMs: () => performance.now(),
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
