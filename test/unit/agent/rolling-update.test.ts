import { afterEach, describe, expect, it } from 'vitest';
import { serviceSpecHash } from '../../../src/agent/spec-hash.ts';
import { LABEL_SPEC_HASH } from '../../../src/agent/labels.ts';
import type { ServiceSpec } from '../../../src/compose/types.ts';
import type { UpdateConfigSpec } from '../../../src/compose/types.ts';
import { type Harness, startHarness } from './agent-harness.ts';
import { service, stack } from './fixtures.ts';

/**
 * Rolling updates on the simulated engine and the virtual clock: the single node's rollout
 * reconciler (started with the agent) moves slots through the store batch by batch. The real
 * engine has its own tests (test/docker/rolling-update.test.ts).
 */

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const good = 'constellation-test/busybox:1';
const missing = 'constellation-test/busybox:missing';

function web(version: string, update: Partial<UpdateConfigSpec> = {}, image = good): ServiceSpec {
  const base = service('web', { replicas: 4, image, environment: { VERSION: version } });
  const updateConfig = { ...base.deploy.updateConfig, monitorMs: 5000, ...update };
  return { ...base, deploy: { ...base.deploy, updateConfig, rollbackConfig: { ...updateConfig, failureAction: 'pause' } } };
}

const running = (harness: Harness, hash?: string) => harness.runtime.snapshot().filter((c) => c.state === 'running' && (hash === undefined || c.labels[LABEL_SPEC_HASH] === hash));

/** Runs virtual time to `predicate`, checking `invariant` at every step. */
async function untilWatching(harness: Harness, predicate: () => boolean, invariant: () => void, what: string): Promise<void> {
  await harness.until(() => {
    invariant();
    return predicate();
  }, what, 600_000);
}

describe('rolling update on one node (simulated engine)', () => {
  it('replaces one slot at a time and keeps replicas − parallelism running throughout; the new version becomes stable', async () => {
    // Starts take a while, so a moment with a slot down is there to be seen.
    h = await startHarness({ images: [good], startLatencyMs: 300 });
    const v1 = web('1');
    await h.store.deploy(stack('app', [v1]));
    await h.until(() => running(h!, serviceSpecHash(v1)).length === 4, 'v1 running', 600_000);
    await h.until(() => h!.store.current().history.app?.[0]?.stable === true, 'v1 stable', 600_000);

    const v2 = web('2');
    const v2Hash = serviceSpecHash(v2);
    await h.store.deploy(stack('app', [v2]));
    let fewest = 4;
    await untilWatching(h, () => h!.store.current().rollouts.app?.services.web?.progress?.phase === 'completed', () => {
      fewest = Math.min(fewest, running(h!).length);
    }, 'rollout completed');
    expect(fewest).toBe(3);
    expect(running(h, v2Hash).map((c) => c.name).sort()).toEqual(['/app_web_1', '/app_web_2', '/app_web_3', '/app_web_4']);
    // One at a time, in slot order: each create comes after the previous slot's replacement.
    const creates = h.runtime.calls.filter((call) => call.startsWith('create')).slice(4);
    expect(creates).toEqual(['create app_web_1', 'create app_web_2', 'create app_web_3', 'create app_web_4']);
    await h.until(() => h!.store.current().history.app?.find((e) => e.version === 2)?.stable === true, 'v2 stable', 600_000);
  });

  it('start-first starts each new replica beside the old one: never fewer than 4 running, at most one extra', async () => {
    h = await startHarness({ images: [good], startLatencyMs: 300 });
    const v1 = web('1');
    await h.store.deploy(stack('app', [v1]));
    await h.until(() => h!.store.current().history.app?.[0]?.stable === true, 'v1 stable', 600_000);
    const v2 = web('2', { order: 'start-first' });
    await h.store.deploy(stack('app', [v2]));
    let fewest = 4;
    let most = 4;
    await untilWatching(h, () => h!.store.current().rollouts.app?.services.web?.progress?.phase === 'completed' && running(h!).length === 4, () => {
      fewest = Math.min(fewest, running(h!).length);
      most = Math.max(most, running(h!).length);
    }, 'start-first rollout completed');
    expect(fewest).toBe(4);
    expect(most).toBe(5);
    const names = running(h, serviceSpecHash(v2)).map((c) => c.name).sort();
    const suffix = serviceSpecHash(v2).slice(0, 8);
    expect(names).toEqual([1, 2, 3, 4].map((slot) => `/app_web_${slot}-${suffix}`));
    expect(h.agent.services()[0]).toMatchObject({ running: 4, removing: 0, converged: true });
    // The next stop-first update goes back to the plain names once the slot is free.
    const v3 = web('3');
    await h.store.deploy(stack('app', [v3]));
    await h.until(() => h!.store.current().rollouts.app?.services.web?.progress?.phase === 'completed' && running(h!, serviceSpecHash(v3)).length === 4, 'v3', 600_000);
    expect(running(h).map((c) => c.name).sort()).toEqual(['/app_web_1', '/app_web_2', '/app_web_3', '/app_web_4']);
  });

  it('a restarted agent adopts a start-first replica under its own name instead of removing it', async () => {
    h = await startHarness({ images: [good] });
    await h.store.deploy(stack('app', [web('1')]));
    await h.until(() => h!.store.current().history.app?.[0]?.stable === true, 'v1 stable', 600_000);
    const v2 = web('2', { order: 'start-first', monitorMs: 60_000 });
    await h.store.deploy(stack('app', [v2]));
    await h.until(() => h!.store.current().rollouts.app?.services.web?.progress?.step === 'monitoring', 'first batch monitoring', 600_000);
    const surged = h.runtime.snapshot().find((c) => c.name.endsWith(serviceSpecHash(v2).slice(0, 8)))!;
    await h.restartAgent();
    await h.until(() => h!.store.current().rollouts.app?.services.web?.progress?.phase === 'completed', 'completed', 600_000);
    expect(h.runtime.snapshot().some((c) => c.id === surged.id && c.state === 'running')).toBe(true);
  });

  it('a version that never runs rolls back automatically (failure_action rollback): v1 again, as a new version', async () => {
    h = await startHarness({ images: [good] });
    const v1 = web('1');
    await h.store.deploy(stack('app', [v1]));
    await h.until(() => h!.store.current().history.app?.[0]?.stable === true, 'v1 stable', 600_000);
    const bad = web('2', { failureAction: 'rollback' }, missing);
    await h.store.deploy(stack('app', [bad]));
    let fewest = 4;
    await untilWatching(h, () => h!.store.current().stacks.app?.version === 3 && running(h!, serviceSpecHash(v1)).length === 4, () => {
      fewest = Math.min(fewest, running(h!).length);
    }, 'rolled back to v1');
    expect(fewest).toBeGreaterThanOrEqual(3);
    const state = h.store.current();
    expect(state.rollouts.app?.services.web).toMatchObject({ revertedBy: 3, progress: { phase: 'rolled-back', reason: expect.stringMatching(/slot 1 failed/) } });
    expect(state.history.app?.map((entry) => [entry.version, entry.kind, entry.restores])).toEqual([[1, 'deploy', undefined], [2, 'deploy', undefined], [3, 'rollback', 1]]);
    expect(serviceSpecHash(state.stacks.app!.spec.services[0]!)).toBe(serviceSpecHash(v1));
    // Only slot 1 ever tried the bad version.
    expect(h.runtime.calls.filter((call) => call.startsWith('create')).slice(4).every((call) => call === 'create app_web_1')).toBe(true);
  });

  it('failure_action pause leaves it paused, and a new deploy of a good version resumes from there', async () => {
    h = await startHarness({ images: [good] });
    await h.store.deploy(stack('app', [web('1')]));
    await h.until(() => h!.store.current().history.app?.[0]?.stable === true, 'v1 stable', 600_000);
    await h.store.deploy(stack('app', [web('2', {}, missing)]));
    await h.until(() => h!.store.current().rollouts.app?.services.web?.progress?.phase === 'paused', 'paused', 600_000);
    await h.clock.advance(60_000);
    expect(h.store.current().rollouts.app?.services.web?.progress?.phase).toBe('paused');
    expect(running(h).length).toBe(3);
    const v3 = web('3');
    await h.store.deploy(stack('app', [v3]));
    await h.until(() => h!.store.current().rollouts.app?.services.web?.progress?.phase === 'completed', 'v3 completed', 600_000);
    expect(running(h, serviceSpecHash(v3)).length).toBe(4);
  });

  it('a rollback by hand rolls out with rollback_config and ends on the restored spec', async () => {
    h = await startHarness({ images: [good] });
    const withRollback = (spec: ServiceSpec): ServiceSpec => ({ ...spec, deploy: { ...spec.deploy, rollbackConfig: { ...spec.deploy.rollbackConfig, parallelism: 0 } } });
    const v1 = withRollback(web('1'));
    await h.store.deploy(stack('app', [v1]));
    await h.until(() => h!.store.current().history.app?.[0]?.stable === true, 'v1 stable', 600_000);
    await h.store.deploy(stack('app', [withRollback(web('2'))]));
    await h.until(() => h!.store.current().history.app?.find((e) => e.version === 2)?.stable === true, 'v2 stable', 600_000);
    const result = await h.store.submit({ clientId: 'hand', seq: 1, command: { type: 'rollback-stack', name: 'app', atMs: 0 } });
    expect(result).toEqual({ ok: true, version: 3 });
    await h.until(() => h!.store.current().rollouts.app?.services.web?.progress?.phase === 'completed' && running(h!, serviceSpecHash(v1)).length === 4, 'rolled back by hand', 600_000);
    expect(h.store.current().rollouts.app).toMatchObject({ id: 3, kind: 'rollback', services: { web: { progress: { batches: [[1, 2, 3, 4]] } } } });
  });

  it('a restarted leader resumes the rollout where it stood: moved slots are not replaced again', async () => {
    h = await startHarness({ images: [good] });
    await h.store.deploy(stack('app', [web('1')]));
    await h.until(() => h!.store.current().history.app?.[0]?.stable === true, 'v1 stable', 600_000);
    const v2 = web('2', { monitorMs: 30_000 });
    await h.store.deploy(stack('app', [v2]));
    await h.until(() => (h!.store.current().rollouts.app?.services.web?.progress?.batch ?? 0) === 1, 'second batch', 600_000);
    const slot1 = h.runtime.byName('app_web_1')!.id;
    await h.restartAgent();
    expect(h.store.current().rollouts.app?.services.web?.progress?.batch).toBe(1);
    await h.until(() => h!.store.current().rollouts.app?.services.web?.progress?.phase === 'completed', 'completed after restart', 600_000);
    expect(h.runtime.byName('app_web_1')!.id).toBe(slot1);
    expect(h.runtime.calls.filter((call) => call === 'create app_web_1')).toHaveLength(2);
  });
});
