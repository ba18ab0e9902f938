import { describe, expect, it } from 'vitest';
import { EngineLimiter } from '../../../src/actors/engine-limiter.ts';

describe('EngineLimiter', () => {
  it('never runs more than the bound at once and runs everything', async () => {
    const limiter = new EngineLimiter(3);
    let active = 0;
    let peak = 0;
    const release: (() => void)[] = [];
    const tasks = Array.from({ length: 10 }, (_, i) =>
      limiter.run(async () => {
        active++;
        peak = Math.max(peak, active);
        await new Promise<void>((r) => release.push(r));
        active--;
        return i;
      }),
    );
    while (release.length > 0 || active > 0) {
      await new Promise((r) => setImmediate(r));
      release.shift()?.();
    }
    expect(await Promise.all(tasks)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(peak).toBe(3);
  });

  it('frees the slot when a task fails', async () => {
    const limiter = new EngineLimiter(1);
    await expect(limiter.run(() => Promise.reject(new Error('x')))).rejects.toThrow('x');
    expect(await limiter.run(async () => 'ok')).toBe('ok');
  });

  it('refuses a nonsensical bound', () => {
    expect(() => new EngineLimiter(0)).toThrow(RangeError);
  });
});

describe('EngineLimiter priorities', () => {
  it('lets urgent calls overtake queued normal ones', async () => {
    const limiter = new EngineLimiter(1);
    const order: string[] = [];
    let releaseFirst!: () => void;
    const first = limiter.run(() => new Promise<void>((r) => (releaseFirst = r)));
    const queued = [
      limiter.run(async () => void order.push('create 1')),
      limiter.run(async () => void order.push('create 2')),
      limiter.run(async () => void order.push('start 1'), 'urgent'),
    ];
    releaseFirst();
    await Promise.all([first, ...queued]);
    expect(order).toEqual(['start 1', 'create 1', 'create 2']);
  });
});
