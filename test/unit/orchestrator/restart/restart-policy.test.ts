import { describe, expect, it } from 'vitest';
import { attemptsInWindow, decideRestart, MAX_RESTART_DELAY_MS, MIN_RESTART_DELAY_MS, restartDelayMs } from '../../../../src/orchestrator/restart/restart-policy.ts';

describe('restart policy', () => {
  it('never restarts with condition none', () => {
    expect(decideRestart({ condition: 'none', delayMs: 0, windowMs: 0 }, 1, [], 0)).toEqual({ restart: false, reason: 'condition-none' });
  });
  it('on-failure restarts non-zero exits and failed starts only', () => {
    const p = { condition: 'on-failure', delayMs: 0, windowMs: 0 } as const;
    expect(decideRestart(p, 0, [], 0)).toEqual({ restart: false, reason: 'exited-successfully' });
    expect(decideRestart(p, 1, [], 0).restart).toBe(true);
    expect(decideRestart(p, undefined, [], 0).restart).toBe(true);
  });
  it('any restarts a clean exit too', () => {
    expect(decideRestart({ condition: 'any', delayMs: 0, windowMs: 0 }, 0, [], 0).restart).toBe(true);
  });
  it('stops at max attempts; maxAttempts 0 means never', () => {
    const p = { condition: 'any', delayMs: 0, maxAttempts: 2, windowMs: 0 } as const;
    expect(decideRestart(p, 1, [1], 10)).toMatchObject({ restart: true, attempt: 2 });
    expect(decideRestart(p, 1, [1, 2], 10)).toEqual({ restart: false, reason: 'max-attempts' });
    expect(decideRestart({ ...p, maxAttempts: 0 }, 1, [], 10)).toEqual({ restart: false, reason: 'max-attempts' });
  });
  it('counts only attempts inside the window (boundary excluded)', () => {
    const p = { condition: 'any', delayMs: 0, maxAttempts: 1, windowMs: 1000 } as const;
    expect(attemptsInWindow(p, [0, 500, 999], 1000)).toEqual([500, 999]);
    expect(decideRestart(p, 1, [0], 999).restart).toBe(false);
    expect(decideRestart(p, 1, [0], 1000).restart).toBe(true);
  });
  it('backs off exponentially from the configured delay, with a floor and a cap', () => {
    const p = { condition: 'any', delayMs: 500, windowMs: 0 } as const;
    expect([0, 1, 2, 3].map((n) => restartDelayMs(p, n))).toEqual([500, 1000, 2000, 4000]);
    expect(restartDelayMs(p, 100)).toBe(MAX_RESTART_DELAY_MS);
    expect(restartDelayMs({ ...p, delayMs: 0 }, 0)).toBe(MIN_RESTART_DELAY_MS);
    // A configured delay above the cap is honoured as is, never shortened.
    expect(restartDelayMs({ ...p, delayMs: 120_000 }, 3)).toBe(120_000);
  });
});
