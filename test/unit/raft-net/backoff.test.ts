import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from '../../../src/adapters/ws-transport/backoff.ts';
import type { Random } from '../../../src/seams/random.ts';

/** A Random that always draws `value` and counts its draws. */
function fixed(value: number): Random & { draws: number } {
  const random = {
    draws: 0,
    next: () => {
      random.draws++;
      return value;
    },
    int: () => {
      throw new Error('backoff draws floats only');
    },
  };
  return random;
}

const options = { initialDelayMs: 50, maxDelayMs: 2000 };
const ceiling = (attempt: number): number => Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** attempt);

describe('backoffDelayMs', () => {
  it('doubles from the initial delay until it reaches the cap, then stays there', () => {
    // Drawing 0 gives the lower edge of the jitter window: half the ceiling.
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((attempt) => backoffDelayMs(attempt, options, fixed(0)))).toEqual([25, 50, 100, 200, 400, 800, 1000, 1000]);
    // Drawing 0.5 gives three quarters of the ceiling, so the growth factor is exactly 2 below the cap.
    expect([0, 1, 2, 3, 4, 5, 6].map((attempt) => backoffDelayMs(attempt, options, fixed(0.5)))).toEqual([37.5, 75, 150, 300, 600, 1200, 1500]);
  });

  it('stays capped and finite however many attempts have failed', () => {
    for (const attempt of [31, 1000, Number.MAX_SAFE_INTEGER]) {
      expect(backoffDelayMs(attempt, options, fixed(0))).toBe(options.maxDelayMs / 2);
      expect(backoffDelayMs(attempt, { initialDelayMs: 1, maxDelayMs: Number.MAX_SAFE_INTEGER }, fixed(0.5))).toBeLessThan(Number.POSITIVE_INFINITY);
    }
  });

  it('keeps the jitter between half and all of the ceiling, set by one draw from the injected Random', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 64 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, draw) => {
        const random = fixed(draw);
        const delay = backoffDelayMs(attempt, options, random);
        expect(random.draws).toBe(1);
        expect(delay).toBeGreaterThanOrEqual(ceiling(attempt) / 2);
        expect(delay).toBeLessThanOrEqual(ceiling(attempt)); // "all of": a draw just below 1 may round up to it
        expect(delay).toBeCloseTo(ceiling(attempt) / 2 + draw * (ceiling(attempt) / 2), 9);
      }),
    );
  });
});
