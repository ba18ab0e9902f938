import { describe, expect, it } from 'vitest';
import { ClusterState } from '../../../src/cluster/state.ts';
import type { ClusterCommand } from '../../../src/cluster/commands.ts';
import { stableHash } from '../../../src/cluster/stable-hash.ts';
import { slotVersion } from '../../../src/cluster/slot-versions.ts';
import type { StackSpec } from '../../../src/compose/types.ts';
import type { RolloutProgress } from '../../../src/machines/rollout-types.ts';
import { service, stack } from '../agent/fixtures.ts';

function harness() {
  const state = new ClusterState();
  let seq = 0;
  const run = (command: ClusterCommand) => state.apply(state.appliedIndex + 1, { clientId: 'c', seq: ++seq, command });
  const deploy = (spec: StackSpec) => run({ type: 'deploy-stack', stack: spec, specHash: stableHash(spec), atMs: seq });
  return { state, run, deploy, view: () => state.view() };
}

const app = (version: string, replicas = 3) => stack('app', [service('web', { replicas, environment: { V: version } }), service('db')]);
const progress = (switched: number[], phase: RolloutProgress['phase'] = 'updating'): RolloutProgress => ({
  phase, step: 'starting', batches: [[1], [2], [3]], batch: switched.length - 1, switched, surge: [], failed: [], rollbackBatches: [], rollbackBatch: 0, rollbackFailed: [],
});

describe('stack versions and rollouts in the store', () => {
  it('a changed deploy lists the slots running another spec; slots move only as committed progress says', () => {
    const h = harness();
    h.deploy(app('1'));
    expect(h.view().rollouts.app).toBeUndefined();
    h.deploy(app('2'));
    const rollout = h.view().rollouts.app!;
    expect(rollout).toMatchObject({ id: 2, kind: 'update', fromVersion: 1 });
    // db did not change: not part of it.
    expect(Object.keys(rollout.services)).toEqual(['web']);
    expect(rollout.services.web!.from).toEqual({ 1: 1, 2: 1, 3: 1 });
    expect([1, 2, 3].map((slot) => slotVersion(h.view(), 'app', 'web', slot))).toEqual([1, 1, 1]);
    expect(h.run({ type: 'rollout-progress', stack: 'app', rolloutId: 2, service: 'web', progress: progress([1]), atMs: 5 })).toEqual({ ok: true, version: 2 });
    expect([1, 2, 3].map((slot) => slotVersion(h.view(), 'app', 'web', slot))).toEqual([2, 1, 1]);
    expect(slotVersion(h.view(), 'app', 'db', 1)).toBe(2);
  });

  it('a deploy in the middle of a rollout starts a new one from what each slot runs; the old one is refused as stale', () => {
    const h = harness();
    h.deploy(app('1'));
    h.deploy(app('2'));
    h.run({ type: 'rollout-progress', stack: 'app', rolloutId: 2, service: 'web', progress: progress([1]), atMs: 5 });
    h.deploy(app('3'));
    expect(h.view().rollouts.app!.services.web!.from).toEqual({ 1: 2, 2: 1, 3: 1 });
    expect(h.run({ type: 'rollout-progress', stack: 'app', rolloutId: 2, service: 'web', progress: progress([1, 2]), atMs: 6 })).toMatchObject({ ok: false, code: 'stale_rollout' });
  });

  it('a scale-down keeps only the slots that remain; a deploy back to what runs needs no rollout', () => {
    const h = harness();
    h.deploy(app('1', 3));
    h.deploy(app('2', 2));
    expect(h.view().rollouts.app!.services.web!.from).toEqual({ 1: 1, 2: 1 });
    h.deploy(app('1', 2));
    expect(h.view().rollouts.app).toBeUndefined();
  });

  it('keeps the last 5 versions, each marked stable once told', () => {
    const h = harness();
    for (let v = 1; v <= 7; v += 1) h.deploy(app(String(v)));
    expect(h.view().history.app!.map((entry) => entry.version)).toEqual([3, 4, 5, 6, 7]);
    expect(h.run({ type: 'mark-stable', stack: 'app', version: 5 })).toEqual({ ok: true, version: 5 });
    expect(h.view().history.app!.filter((entry) => entry.stable).map((entry) => entry.version)).toEqual([5]);
    expect(h.run({ type: 'mark-stable', stack: 'app', version: 1 })).toMatchObject({ ok: false, code: 'version_not_found' });
  });

  it('rollback by hand goes to the previous stable version, as a new version, and rolls out as a rollback', () => {
    const h = harness();
    h.deploy(app('1'));
    expect(h.run({ type: 'rollback-stack', name: 'app', atMs: 1 })).toMatchObject({ ok: false, code: 'no_stable_version' });
    h.run({ type: 'mark-stable', stack: 'app', version: 1 });
    h.deploy(app('2'));
    h.deploy(app('3'));
    h.run({ type: 'rollout-progress', stack: 'app', rolloutId: 3, service: 'web', progress: { ...progress([1, 2, 3]), phase: 'completed' }, atMs: 8 });
    expect(h.run({ type: 'rollback-stack', name: 'app', atMs: 9 })).toEqual({ ok: true, version: 4 });
    const state = h.view();
    expect(state.stacks.app!.spec).toEqual(app('1'));
    expect(state.history.app!.at(-1)).toMatchObject({ version: 4, kind: 'rollback', restores: 1, stable: false });
    expect(state.rollouts.app).toMatchObject({ id: 4, kind: 'rollback', fromVersion: 3 });
    expect(h.run({ type: 'rollback-stack', name: 'app', toVersion: 9, atMs: 9 })).toMatchObject({ ok: false, code: 'version_not_found' });
    expect(h.run({ type: 'rollback-stack', name: 'nope', atMs: 9 })).toMatchObject({ ok: false, code: 'stack_not_found' });
  });

  it('rollback of one service restores only that service', () => {
    const h = harness();
    const v1 = stack('app', [service('web', { environment: { V: '1' } }), service('db', { environment: { V: '1' } })]);
    h.deploy(v1);
    h.run({ type: 'mark-stable', stack: 'app', version: 1 });
    const v2 = stack('app', [service('web', { environment: { V: '2' } }), service('db', { environment: { V: '2' } })]);
    h.deploy(v2);
    expect(h.run({ type: 'rollback-stack', name: 'app', service: 'web', atMs: 3 })).toEqual({ ok: true, version: 3 });
    expect(h.view().stacks.app!.spec.services.map((s) => s.environment.V)).toEqual(['1', '2']);
    expect(h.view().history.app!.at(-1)).toMatchObject({ kind: 'rollback', restores: 1, service: 'web' });
  });

  it('an automatic revert needs a rolled-back rollout and keeps the rollout record going', () => {
    const h = harness();
    h.deploy(app('1'));
    h.deploy(app('2'));
    const auto: ClusterCommand = { type: 'rollback-stack', name: 'app', service: 'web', auto: { rolloutId: 2 }, reason: 'slot 1 failed', atMs: 4 };
    expect(h.run(auto)).toMatchObject({ ok: false, code: 'stale_rollout' });
    h.run({ type: 'rollout-progress', stack: 'app', rolloutId: 2, service: 'web', progress: { ...progress([]), phase: 'rolled-back' }, atMs: 5 });
    expect(h.run(auto)).toEqual({ ok: true, version: 3 });
    // Once reverted it is not reverted again.
    expect(h.run(auto)).toMatchObject({ ok: false, code: 'stale_rollout' });
    expect(h.view().rollouts.app).toMatchObject({ id: 2, services: { web: { revertedBy: 3 } } });
    expect(h.view().history.app!.at(-1)).toMatchObject({ version: 3, kind: 'rollback', restores: 1, service: 'web', reason: 'slot 1 failed' });
    expect([1, 2, 3].map((slot) => slotVersion(h.view(), 'app', 'web', slot))).toEqual([3, 3, 3]);
  });

  it('removing a stack forgets its history and rollout; state round-trips through a snapshot', () => {
    const h = harness();
    h.deploy(app('1'));
    h.deploy(app('2'));
    const restored = ClusterState.restore(h.state.snapshot());
    expect(restored.view()).toEqual(h.view());
    h.run({ type: 'remove-stack', name: 'app', atMs: 3 });
    expect(h.view().history.app).toBeUndefined();
    expect(h.view().rollouts.app).toBeUndefined();
  });
});
