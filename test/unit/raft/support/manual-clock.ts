import type { Clock } from '../../../../src/seams/clock.ts';

interface Timer {
  readonly dueMs: number;
  readonly seq: number;
  readonly callback: () => void;
}

/** Lets promise chains (storage syncs, the driver's flush loop) finish before time moves on. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A clock that moves only when the test advances it; timers fire in (due, scheduling) order. */
export class ManualClock implements Clock {
  private now = 0;
  private seq = 0;
  private timers: Timer[] = [];

  nowMs(): number {
    return this.now;
  }

  setTimeout(callback: () => void, delayMs: number): unknown {
    const timer = { dueMs: this.now + Math.max(0, delayMs), seq: this.seq++, callback };
    this.timers.push(timer);
    return timer;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((timer) => timer !== handle);
  }

  /** Fires every timer due within `ms`, letting async work settle after each one. */
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    await settle();
    while (true) {
      const next = this.timers.filter((timer) => timer.dueMs <= end).sort((a, b) => a.dueMs - b.dueMs || a.seq - b.seq)[0];
      if (!next) break;
      this.timers = this.timers.filter((timer) => timer !== next);
      this.now = next.dueMs;
      next.callback();
      await settle();
    }
    this.now = end;
  }

  /** Advances in small steps until `condition` holds or `maxMs` of virtual time passed. */
  async until(condition: () => boolean, maxMs: number, what: string, stepMs = 10): Promise<void> {
    const deadline = this.now + maxMs;
    while (!condition()) {
      if (this.now >= deadline) throw new Error(`timed out after ${maxMs} virtual ms waiting for ${what}`);
      await this.advance(stepMs);
    }
  }
}

/** Deterministic Random for tests (mulberry32). */
export function seededRandom(seed: number) {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (min: number, max: number) => min + Math.floor(next() * (max - min)) };
}
