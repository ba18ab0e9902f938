import { describe, expect, it } from 'vitest';
import { clusterEventTypes } from '../../../src/observe/cluster-event-types.ts';
import { diffClusterViews, emptyClusterView, type ClusterViewSnapshot, type RolloutView } from '../../../src/observe/cluster-view-diff.ts';

const base: RolloutView = { stack: 'shop', service: 'web', version: 2, kind: 'update', phase: 'pending', batch: 1, batches: 3 };
const look = (rollout: Partial<RolloutView>): ClusterViewSnapshot => ({ ...emptyClusterView, rollouts: { 'shop/web': { ...base, ...rollout } } });

describe('rollout events', () => {
  it('a rollout starts, then each batch and each phase it enters is an event, once', () => {
    const steps: Partial<RolloutView>[] = [
      {},
      { phase: 'updating', step: 'starting' },
      { phase: 'updating', step: 'monitoring' },
      { phase: 'updating', step: 'starting', batch: 2 },
      { phase: 'rolling-back', step: 'starting', batch: 1, batches: 2, reason: 'slot 2 failed' },
      { phase: 'rolling-back', step: 'starting', batch: 1, batches: 2, reason: 'slot 2 failed' },
      { phase: 'rolled-back', batch: 2, batches: 2, reason: 'slot 2 failed' },
    ];
    const types: string[] = [];
    let before = emptyClusterView;
    for (const step of steps) {
      const after = look(step);
      types.push(...diffClusterViews(before, after).map((event) => event.type));
      before = after;
    }
    expect(types).toEqual(['rollout.started', 'rollout.batch', 'rollout.batch', 'rollout.rolling-back', 'rollout.rolled-back']);
    const [last] = diffClusterViews(look({ phase: 'rolling-back', step: 'starting' }), look({ phase: 'rolled-back', reason: 'slot 2 failed' }));
    expect(last).toMatchObject({ type: 'rollout.rolled-back', stack: 'shop', service: 'web', version: 2, kind: 'update', reason: 'slot 2 failed' });
  });

  it('a new rollout of the same service (a newer deploy) starts again; every rollout type is in the list filters accept', () => {
    expect(diffClusterViews(look({ phase: 'paused' }), look({ version: 3 })).map((event) => event.type)).toEqual(['rollout.started']);
    for (const type of ['rollout.started', 'rollout.batch', 'rollout.paused', 'rollout.rolling-back', 'rollout.completed', 'rollout.rolled-back', 'rollout.failed']) {
      expect(clusterEventTypes).toContain(type);
    }
  });
});
