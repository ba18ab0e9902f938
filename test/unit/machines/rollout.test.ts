import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import { rolloutMachine } from '../../../src/machines/rollout.ts';
import type { RolloutChange, RolloutMachineInput, RolloutProgress, RolloutSettings, SlotObservation } from '../../../src/machines/rollout-types.ts';
import { batchesOf } from '../../../src/machines/rollout-progress.ts';

const swarmDefaults: RolloutSettings = { parallelism: 1, delayMs: 0, order: 'stop-first', failureAction: 'pause', monitorMs: 5000, maxFailureRatio: 0 };

/** Steps to each due timer in turn (SimulatedClock.increment would start cascaded timers late). */
function advance(clock: SimulatedClock, ms: number): void {
  const target = clock.now() + ms;
  const timeouts = (clock as unknown as { timeouts: Map<number, { start: number; timeout: number }> }).timeouts;
  while (true) {
    const due = Math.min(...[...timeouts.values()].map((t) => t.start + t.timeout));
    if (!(due <= target)) break;
    clock.set(Math.max(due, clock.now()));
  }
  clock.set(target);
}

interface Setup {
  slots?: number[];
  update?: Partial<RolloutSettings>;
  rollback?: Partial<RolloutSettings>;
  kind?: RolloutMachineInput['kind'];
  progressDeadlineMs?: number;
  progress?: RolloutProgress;
  clock?: SimulatedClock;
}

function start(setup: Setup = {}) {
  const clock = setup.clock ?? new SimulatedClock();
  const input: RolloutMachineInput = {
    stack: 'shop',
    service: 'web',
    kind: setup.kind ?? 'update',
    slots: setup.slots ?? [1, 2, 3],
    update: { ...swarmDefaults, ...setup.update },
    rollback: { ...swarmDefaults, ...setup.rollback },
    progressDeadlineMs: setup.progressDeadlineMs ?? 600_000,
    ...(setup.progress ? { progress: setup.progress } : {}),
  };
  const actor = createActor(rolloutMachine, { input, clock });
  const changes: RolloutChange[] = [];
  actor.on('rollout.change', (change) => changes.push(change));
  actor.start();
  const progress = () => actor.getSnapshot().context.progress;
  const where = () => {
    const p = progress();
    return p.step ? `${p.phase}.${p.step}` : p.phase;
  };
  const observe = (target: Record<number, SlotObservation['health']>, previous: Record<number, SlotObservation['health']> = {}) => {
    const wrap = (map: Record<number, SlotObservation['health']>) => Object.fromEntries(Object.entries(map).map(([slot, health]) => [slot, { health, ...(health === 'failed' ? { message: 'exited with code 1' } : {}) }]));
    actor.send({ type: 'OBSERVE', target: wrap(target), previous: wrap(previous) });
  };
  return { actor, clock, changes, progress, where, observe };
}

/** Healthy target replicas for every switched slot (what a good version does). */
function healthySwitched(r: ReturnType<typeof start>): Record<number, 'healthy'> {
  const p = r.progress();
  return Object.fromEntries([...p.switched, ...p.surge].map((slot) => [slot, 'healthy' as const]));
}

describe('rollout machine: batches', () => {
  it('splits slots by parallelism, 0 meaning all at once', () => {
    expect(batchesOf([3, 1, 2, 4], 1)).toEqual([[1], [2], [3], [4]]);
    expect(batchesOf([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(batchesOf([1, 2, 3], 0)).toEqual([[1, 2, 3]]);
    expect(batchesOf([], 1)).toEqual([]);
  });

  it('stays pending until START, then completes at once when no slot needs a new version', () => {
    const r = start({ slots: [] });
    expect(r.where()).toBe('pending');
    r.actor.send({ type: 'START' });
    expect(r.where()).toBe('completed');
    expect(r.actor.getSnapshot().status).toBe('done');
  });
});

describe('rollout machine: stop-first (Swarm defaults)', () => {
  it('switches one slot at a time, waits for it healthy, monitors 5 s, then takes the next', () => {
    const r = start();
    r.actor.send({ type: 'START' });
    expect(r.where()).toBe('updating.starting');
    expect(r.progress().switched).toEqual([1]);
    r.observe({ 1: 'starting' });
    expect(r.where()).toBe('updating.starting');
    r.observe({ 1: 'healthy' });
    expect(r.where()).toBe('updating.monitoring');
    advance(r.clock, 4999);
    expect(r.where()).toBe('updating.monitoring');
    advance(r.clock, 1);
    expect(r.where()).toBe('updating.starting');
    expect(r.progress()).toMatchObject({ batch: 1, switched: [1, 2] });
    r.observe({ 1: 'healthy', 2: 'healthy' });
    advance(r.clock, 5000);
    r.observe({ 1: 'healthy', 2: 'healthy', 3: 'healthy' });
    advance(r.clock, 5000);
    expect(r.where()).toBe('completed');
    expect(r.progress().switched).toEqual([1, 2, 3]);
    expect(r.changes.map((c) => `${c.progress.phase}${c.progress.step ? `.${c.progress.step}` : ''}:${c.progress.batch}`)).toEqual([
      'pending:0', 'updating.starting:0', 'updating.monitoring:0', 'updating.starting:1', 'updating.monitoring:1', 'updating.starting:2', 'updating.monitoring:2', 'completed:2',
    ]);
  });

  it('with parallelism 2 switches two slots per batch', () => {
    const r = start({ slots: [1, 2, 3, 4], update: { parallelism: 2 } });
    r.actor.send({ type: 'START' });
    expect(r.progress().switched).toEqual([1, 2]);
    r.observe({ 1: 'healthy' });
    expect(r.where()).toBe('updating.starting');
    r.observe({ 1: 'healthy', 2: 'healthy' });
    advance(r.clock, 5000);
    expect(r.progress().switched).toEqual([1, 2, 3, 4]);
    r.observe(healthySwitched(r));
    advance(r.clock, 5000);
    expect(r.where()).toBe('completed');
  });

  it('waits `delay` between batches, not after the last', () => {
    const r = start({ slots: [1, 2], update: { delayMs: 10_000, monitorMs: 1000 } });
    r.actor.send({ type: 'START' });
    r.observe({ 1: 'healthy' });
    advance(r.clock, 1000);
    expect(r.where()).toBe('updating.delaying');
    expect(r.progress().switched).toEqual([1]);
    advance(r.clock, 9999);
    expect(r.where()).toBe('updating.delaying');
    advance(r.clock, 1);
    expect(r.progress().switched).toEqual([1, 2]);
    r.observe({ 1: 'healthy', 2: 'healthy' });
    advance(r.clock, 1000);
    expect(r.where()).toBe('completed');
  });
});

describe('rollout machine: start-first', () => {
  it('starts the new replica beside the old, switches once it is healthy, then monitors', () => {
    const r = start({ slots: [1, 2], update: { order: 'start-first' } });
    r.actor.send({ type: 'START' });
    expect(r.progress()).toMatchObject({ surge: [1], switched: [] });
    r.observe({ 1: 'starting' });
    expect(r.progress()).toMatchObject({ surge: [1], switched: [] });
    r.observe({ 1: 'healthy' });
    expect(r.where()).toBe('updating.monitoring');
    expect(r.progress()).toMatchObject({ surge: [], switched: [1] });
    advance(r.clock, 5000);
    expect(r.progress()).toMatchObject({ surge: [2], switched: [1] });
    r.observe({ 1: 'healthy', 2: 'healthy' });
    advance(r.clock, 5000);
    expect(r.where()).toBe('completed');
    expect(r.progress().switched).toEqual([1, 2]);
  });

  it('a start-first batch that fails rolls back by dropping the surge: the old replica never stopped', () => {
    const r = start({ slots: [1, 2], update: { order: 'start-first', failureAction: 'rollback' } });
    r.actor.send({ type: 'START' });
    r.observe({ 1: 'failed' });
    expect(r.where()).toBe('rolled-back');
    expect(r.progress()).toMatchObject({ surge: [], switched: [], failed: [1] });
    expect(r.progress().reason).toBe('the new replica of shop/web slot 1 failed: exited with code 1');
  });
});

describe('rollout machine: failure actions', () => {
  it('pause: stops where the failure happened and RESUME retries that batch', () => {
    const r = start();
    r.actor.send({ type: 'START' });
    r.observe({ 1: 'healthy' });
    advance(r.clock, 5000);
    r.observe({ 1: 'healthy', 2: 'failed' });
    expect(r.where()).toBe('paused');
    expect(r.progress()).toMatchObject({ batch: 1, switched: [1, 2], failed: [2], pausedFrom: 'updating' });
    expect(r.progress().reason).toMatch(/slot 2 failed: exited with code 1/);
    // Paused means paused: no timer moves it.
    advance(r.clock, 3_600_000);
    expect(r.where()).toBe('paused');
    r.actor.send({ type: 'RESUME' });
    expect(r.where()).toBe('updating.starting');
    expect(r.progress()).toMatchObject({ batch: 1, failed: [] });
    r.observe({ 1: 'healthy', 2: 'healthy' });
    advance(r.clock, 5000);
    r.observe({ 1: 'healthy', 2: 'healthy', 3: 'healthy' });
    advance(r.clock, 5000);
    expect(r.where()).toBe('completed');
  });

  it('pause: a replica of an earlier batch that fails while later batches run pauses too', () => {
    const r = start();
    r.actor.send({ type: 'START' });
    r.observe({ 1: 'healthy' });
    advance(r.clock, 5000);
    r.observe({ 1: 'failed', 2: 'starting' });
    expect(r.where()).toBe('paused');
    expect(r.progress().failed).toEqual([1]);
  });

  it('rollback: sends every switched slot back, batch by batch with rollback_config, and ends rolled-back', () => {
    const r = start({ slots: [1, 2, 3], update: { failureAction: 'rollback' }, rollback: { monitorMs: 2000 } });
    r.actor.send({ type: 'START' });
    r.observe({ 1: 'healthy' });
    advance(r.clock, 5000);
    r.observe({ 1: 'healthy', 2: 'failed' });
    expect(r.where()).toBe('rolling-back.starting');
    expect(r.progress()).toMatchObject({ rollbackBatches: [[1], [2]], rollbackBatch: 0, switched: [2] });
    r.observe({}, { 1: 'healthy' });
    expect(r.where()).toBe('rolling-back.monitoring');
    advance(r.clock, 2000);
    expect(r.progress()).toMatchObject({ rollbackBatch: 1, switched: [] });
    r.observe({}, { 1: 'healthy', 2: 'healthy' });
    advance(r.clock, 2000);
    expect(r.where()).toBe('rolled-back');
    expect(r.actor.getSnapshot().output).toMatchObject({ phase: 'rolled-back', switched: [], reason: expect.stringMatching(/slot 2 failed/) });
  });

  it('continue: counts the failure and goes on; the rollout completes with the failed slots named', () => {
    const r = start({ update: { failureAction: 'continue' } });
    r.actor.send({ type: 'START' });
    r.observe({ 1: 'failed' });
    expect(r.where()).toBe('updating.monitoring');
    advance(r.clock, 5000);
    r.observe({ 1: 'failed', 2: 'healthy' });
    advance(r.clock, 5000);
    r.observe({ 1: 'failed', 2: 'healthy', 3: 'healthy' });
    advance(r.clock, 5000);
    expect(r.where()).toBe('completed');
    expect(r.progress().failed).toEqual([1]);
  });

  it('max_failure_ratio tolerates failures up to the ratio and acts on the first beyond it', () => {
    const r = start({ slots: [1, 2, 3, 4], update: { maxFailureRatio: 0.25 } });
    r.actor.send({ type: 'START' });
    r.observe({ 1: 'failed' });
    expect(r.where()).toBe('updating.monitoring');
    advance(r.clock, 5000);
    r.observe({ 1: 'failed', 2: 'failed' });
    expect(r.where()).toBe('paused');
    expect(r.progress().failed).toEqual([1, 2]);
  });
});

describe('rollout machine: progress deadline on the virtual clock', () => {
  it('pause: a batch that never turns healthy pauses when the deadline passes', () => {
    const r = start({ progressDeadlineMs: 60_000 });
    r.actor.send({ type: 'START' });
    r.observe({ 1: 'starting' });
    advance(r.clock, 59_999);
    expect(r.where()).toBe('updating.starting');
    advance(r.clock, 1);
    expect(r.where()).toBe('paused');
    expect(r.progress().reason).toBe('progress deadline: shop/web slot(s) 1 not healthy within 60 s');
  });

  it('rollback: the deadline runs the failure action', () => {
    const r = start({ progressDeadlineMs: 60_000, update: { failureAction: 'rollback' } });
    r.actor.send({ type: 'START' });
    advance(r.clock, 60_000);
    expect(r.where()).toBe('rolling-back.starting');
    r.observe({}, { 1: 'healthy' });
    advance(r.clock, 5000);
    expect(r.where()).toBe('rolled-back');
    expect(r.progress().reason).toMatch(/^progress deadline/);
  });

  it('continue: a stuck rollout fails', () => {
    const r = start({ progressDeadlineMs: 60_000, update: { failureAction: 'continue' } });
    r.actor.send({ type: 'START' });
    advance(r.clock, 60_000);
    expect(r.where()).toBe('failed');
    expect(r.actor.getSnapshot().status).toBe('done');
  });

  it('counts per batch: each batch gets the whole deadline', () => {
    const r = start({ slots: [1, 2], progressDeadlineMs: 10_000, update: { monitorMs: 1000 } });
    r.actor.send({ type: 'START' });
    advance(r.clock, 9000);
    r.observe({ 1: 'healthy' });
    advance(r.clock, 1000);
    expect(r.where()).toBe('updating.starting');
    advance(r.clock, 9999);
    expect(r.where()).toBe('updating.starting');
    advance(r.clock, 1);
    expect(r.where()).toBe('paused');
  });

  it('a stuck rollback pauses', () => {
    const r = start({ progressDeadlineMs: 10_000, update: { failureAction: 'rollback' } });
    r.actor.send({ type: 'START' });
    r.observe({ 1: 'healthy' });
    advance(r.clock, 5000);
    r.observe({ 2: 'failed' });
    expect(r.where()).toBe('rolling-back.starting');
    advance(r.clock, 10_000);
    expect(r.where()).toBe('paused');
    expect(r.progress()).toMatchObject({ pausedFrom: 'rolling-back', reason: expect.stringMatching(/^rollback paused: progress deadline/) });
  });
});

describe('rollout machine: a rollback never rolls back', () => {
  it('a rollback rollout whose update failure action is rollback pauses instead', () => {
    const r = start({ kind: 'rollback', update: { failureAction: 'rollback' } });
    r.actor.send({ type: 'START' });
    r.observe({ 1: 'failed' });
    expect(r.where()).toBe('paused');
    expect(r.progress().reason).toBe('paused instead of rolling back a rollback: the new replica of shop/web slot 1 failed: exited with code 1');
  });

  it('a failure while rolling back pauses, and RESUME retries that rollback batch', () => {
    const r = start({ update: { failureAction: 'rollback' } });
    r.actor.send({ type: 'START' });
    r.observe({ 1: 'healthy' });
    advance(r.clock, 5000);
    r.observe({ 2: 'failed' });
    r.observe({}, { 1: 'failed' });
    expect(r.where()).toBe('paused');
    expect(r.progress()).toMatchObject({ pausedFrom: 'rolling-back', rollbackBatch: 0, reason: expect.stringMatching(/^rollback paused: the rollback's replica of shop\/web slot 1 failed/) });
    r.actor.send({ type: 'RESUME' });
    expect(r.where()).toBe('rolling-back.starting');
    r.observe({}, { 1: 'healthy' });
    expect(r.where()).toBe('rolling-back.monitoring');
  });

  it('rollback_config failure_action continue goes on through a failed rollback replica', () => {
    const r = start({ slots: [1, 2], update: { failureAction: 'rollback', parallelism: 0 }, rollback: { failureAction: 'continue', parallelism: 1 } });
    r.actor.send({ type: 'START' });
    r.observe({ 1: 'healthy', 2: 'failed' });
    expect(r.where()).toBe('rolling-back.starting');
    r.observe({}, { 1: 'failed' });
    expect(r.where()).toBe('rolling-back.monitoring');
    advance(r.clock, 5000);
    r.observe({}, { 1: 'failed', 2: 'healthy' });
    advance(r.clock, 5000);
    expect(r.where()).toBe('rolled-back');
    expect(r.progress().rollbackFailed).toEqual([1]);
  });
});

describe('rollout machine: resume after a leader change', () => {
  it('a new actor restored from the committed progress goes on from the same batch and step', () => {
    const old = start({ slots: [1, 2, 3] });
    old.actor.send({ type: 'START' });
    old.observe({ 1: 'healthy' });
    advance(old.clock, 5000);
    old.observe({ 1: 'healthy', 2: 'healthy' });
    expect(old.where()).toBe('updating.monitoring');
    // What the old leader committed last, through JSON as the log stores it; then it is gone.
    const committed = JSON.parse(JSON.stringify(old.progress())) as RolloutProgress;
    old.actor.stop();

    const next = start({ slots: [1, 2, 3], progress: committed, clock: new SimulatedClock() });
    expect(next.where()).toBe('updating.monitoring');
    expect(next.progress()).toMatchObject({ batch: 1, switched: [1, 2] });
    // The monitor window starts again in full on the new leader's clock.
    advance(next.clock, 4999);
    expect(next.where()).toBe('updating.monitoring');
    advance(next.clock, 1);
    expect(next.progress()).toMatchObject({ batch: 2, switched: [1, 2, 3] });
    next.observe({ 1: 'healthy', 2: 'healthy', 3: 'healthy' });
    advance(next.clock, 5000);
    expect(next.where()).toBe('completed');
  });

  it('restores paused, rolling-back and finished rollouts where they stood', () => {
    const base: RolloutProgress = { phase: 'paused', batches: [[1], [2]], batch: 1, switched: [1, 2], surge: [], failed: [2], rollbackBatches: [], rollbackBatch: 0, rollbackFailed: [], pausedFrom: 'updating', reason: 'x' };
    expect(start({ slots: [1, 2], progress: base }).where()).toBe('paused');
    const back = start({ slots: [1, 2], progress: { ...base, phase: 'rolling-back', step: 'starting', rollbackBatches: [[1], [2]], rollbackBatch: 1, switched: [2] } });
    expect(back.where()).toBe('rolling-back.starting');
    back.observe({}, { 2: 'healthy' });
    advance(back.clock, 5000);
    expect(back.where()).toBe('rolled-back');
    expect(start({ slots: [1, 2], progress: { ...base, phase: 'completed' } }).actor.getSnapshot().status).toBe('done');
  });
});
