import { describe, expect, it } from 'vitest';
import { createActor, createMachine } from 'xstate';
import { ClockScope, VirtualClock } from '../../../src/sim/virtual-clock.ts';

describe('VirtualClock', () => {
  it('fires timers in due-time order, ties in scheduling order, and only when advanced', async () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b@10'), 10);
    clock.setTimeout(() => fired.push('a@5'), 5);
    clock.setTimeout(() => fired.push('c@10'), 10);
    clock.setTimeout(() => fired.push('d@0'), 0);
    expect(fired).toEqual([]);
    await clock.advance(9);
    expect(fired).toEqual(['d@0', 'a@5']);
    expect(clock.nowMs()).toBe(9);
    await clock.advance(1);
    expect(fired).toEqual(['d@0', 'a@5', 'b@10', 'c@10']);
  });

  it('cancels timers and fires timers scheduled by timers at the right time', async () => {
    const clock = new VirtualClock();
    const fired: number[] = [];
    const handle = clock.setTimeout(() => fired.push(-1), 3);
    clock.setTimeout(() => {
      fired.push(clock.nowMs());
      clock.setTimeout(() => fired.push(clock.nowMs()), 4);
    }, 2);
    clock.clearTimeout(handle);
    await clock.advance(100);
    expect(fired).toEqual([2, 6]);
    expect(clock.nowMs()).toBe(100);
    expect(clock.pendingCount()).toBe(0);
  });

  it('lets promise chains started by a timer finish before the next timer fires', async () => {
    const clock = new VirtualClock();
    const order: string[] = [];
    clock.setTimeout(() => {
      void Promise.resolve()
        .then(() => Promise.resolve())
        .then(() => order.push('async work of timer 1'));
    }, 1);
    clock.setTimeout(() => order.push('timer 2'), 1);
    await clock.advance(1);
    expect(order).toEqual(['async work of timer 1', 'timer 2']);
  });

  it('runUntil stops as soon as the predicate holds, or at the limit', async () => {
    const clock = new VirtualClock();
    let count = 0;
    const tick = (): void => {
      count++;
      clock.setTimeout(tick, 10);
    };
    clock.setTimeout(tick, 10);
    expect(await clock.runUntil(() => count === 3, 1_000)).toBe(true);
    expect(clock.nowMs()).toBe(30);
    expect(await clock.runUntil(() => count === 1_000, 50)).toBe(false);
    expect(clock.nowMs()).toBe(80);
  });

  it('drives XState `after` delays when passed as the actor clock', async () => {
    const clock = new VirtualClock();
    const machine = createMachine({ initial: 'waiting', states: { waiting: { after: { 500: 'done' } }, done: {} } });
    const actor = createActor(machine, { clock });
    actor.start();
    await clock.advance(499);
    expect(actor.getSnapshot().value).toBe('waiting');
    await clock.advance(1);
    expect(actor.getSnapshot().value).toBe('done');
    actor.stop();
  });

  it('a killed scope never fires its timers again', async () => {
    const clock = new VirtualClock();
    const scope = new ClockScope(clock);
    const fired: string[] = [];
    scope.setTimeout(() => fired.push('scoped'), 5);
    clock.setTimeout(() => fired.push('global'), 5);
    scope.kill();
    scope.setTimeout(() => fired.push('after kill'), 1);
    await clock.advance(10);
    expect(fired).toEqual(['global']);
  });

  it('refuses an infinite delay and a nested advance', async () => {
    const clock = new VirtualClock();
    expect(() => clock.setTimeout(() => {}, Infinity)).toThrow(/finite/);
    clock.setTimeout(() => {}, 1);
    const first = clock.advance(5);
    await expect(clock.advance(1)).rejects.toThrow(/already running/);
    await first;
  });

  it('a scope with drift runs its timers and its nowMs at its own rate', async () => {
    const clock = new VirtualClock();
    const fast = new ClockScope(clock, 1.25);
    const fired: number[] = [];
    fast.setTimeout(() => fired.push(clock.nowMs()), 100);
    await clock.advance(100);
    expect(fired).toEqual([80]);
    expect(fast.nowMs()).toBe(125);
  });

  it('a paused scope fires the timers due during the pause when it resumes, in order', async () => {
    const clock = new VirtualClock();
    const scope = new ClockScope(clock);
    const fired: string[] = [];
    scope.setTimeout(() => fired.push(`a@${clock.nowMs()}`), 10);
    scope.setTimeout(() => fired.push(`b@${clock.nowMs()}`), 20);
    const cancelled = scope.setTimeout(() => fired.push('cancelled'), 30);
    scope.pause(50);
    await clock.advance(40);
    expect(fired).toEqual([]);
    scope.clearTimeout(cancelled);
    await clock.advance(20);
    expect(fired).toEqual(['a@50', 'b@50']);
  });
});
