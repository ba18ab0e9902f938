import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { realService, startRealAgent, type RealAgent } from './agent-harness.ts';
import { LABEL_SPEC_HASH, nodeSelector } from '../../src/agent/labels.ts';
import { serviceSpecHash } from '../../src/agent/spec-hash.ts';
import type { HealthcheckSpec, ServiceSpec, UpdateConfigSpec } from '../../src/compose/types.ts';
import { eventually } from '../support/eventually.ts';

/**
 * Rolling updates on a real engine (issue 8): a 4-replica busybox httpd with a healthcheck,
 * updated through the store as `constellation deploy` does; the single node's rollout reconciler
 * moves slots. A poller reads the engine itself (not the agent) every 100 ms to find the moment
 * with the fewest healthy replicas.
 */

let a: RealAgent;
const image = inject('testImage');

beforeAll(async () => {
  a = await startRealAgent(inject('dockerSocket'), `rollout-${process.pid}`);
});
afterAll(async () => {
  await a?.dispose();
});

/** Healthy once httpd answers; the bad version checks a port nothing listens on. */
function httpd(version: string, update: Partial<UpdateConfigSpec>, healthy = true): ServiceSpec {
  const healthcheck: HealthcheckSpec = {
    test: ['CMD-SHELL', `wget -q -O /dev/null http://127.0.0.1:${healthy ? 80 : 81}/ || exit 1`],
    // Three failures in a row before unhealthy, 2 s each: a loaded CI machine must not make a good
    // replica flap (that would be a rollout failure, rightly).
    intervalMs: 500, timeoutMs: 2000, retries: 3, startPeriodMs: 0, disable: false,
  };
  const base = realService('web', image, {
    replicas: 4,
    command: ['sh', '-c', `echo ${version} > /tmp/index.html; trap "exit 0" TERM; httpd -f -p 80 -h /tmp & wait`],
    environment: { VERSION: version },
    healthcheck,
  });
  // Monitor = the healthcheck's window (interval × retries), as the loader would raise it.
  const updateConfig: UpdateConfigSpec = { ...base.deploy.updateConfig, monitorMs: 1500, ...update };
  return { ...base, deploy: { ...base.deploy, updateConfig, rollbackConfig: { ...updateConfig, failureAction: 'pause', parallelism: 1 } } };
}

/** Polls the engine; `stop()` resolves with the fewest healthy replicas seen. */
function watchEngine(stack: string) {
  let fewest = Number.POSITIVE_INFINITY;
  let polls = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const listed = await a.runtime.list(nodeSelector(a.nodeId));
      const healthy = listed.filter((c) => c.labels['constellation.stack'] === stack && c.state === 'running' && c.health === 'healthy').length;
      fewest = Math.min(fewest, healthy);
      polls += 1;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { fewest, polls };
    },
  };
}

const part = (stack: string) => a.store.current().rollouts[stack]?.services.web;

async function engineHashes(stack: string): Promise<{ hash: string; health: string }[]> {
  const listed = await a.runtime.list(nodeSelector(a.nodeId));
  return listed.filter((c) => c.labels['constellation.stack'] === stack && c.state === 'running').map((c) => ({ hash: c.labels[LABEL_SPEC_HASH]!, health: c.health }));
}

async function deployStable(stack: string, spec: ServiceSpec): Promise<void> {
  await a.deploy({ name: stack, services: [spec] });
  await eventually(async () => {
    const running = await engineHashes(stack);
    return running.length === 4 && running.every((c) => c.hash === serviceSpecHash(spec) && c.health === 'healthy') && a.store.current().history[stack]?.at(-1)?.stable === true;
  }, { timeoutMs: 60_000, what: `${stack} v1 healthy and stable` });
}

describe('rolling updates on a real engine', () => {
  it('a version that never turns healthy rolls back on its own; replicas − parallelism stay healthy throughout', async () => {
    const v1 = httpd('1', { failureAction: 'rollback' });
    await deployStable('roll', v1);
    const watch = watchEngine('roll');
    await a.deploy({ name: 'roll', services: [httpd('2', { failureAction: 'rollback' }, false)] });
    await eventually(async () => {
      const running = await engineHashes('roll');
      return a.store.current().stacks.roll?.version === 3 && running.length === 4 && running.every((c) => c.hash === serviceSpecHash(v1) && c.health === 'healthy');
    }, { timeoutMs: 90_000, what: 'rolled back to v1, every replica healthy' });
    const { fewest, polls } = await watch.stop();
    expect(polls).toBeGreaterThan(10);
    expect(fewest).toBeGreaterThanOrEqual(3);
    expect(part('roll')).toMatchObject({ revertedBy: 3, progress: { phase: 'rolled-back', reason: expect.stringMatching(/slot 1 failed: roll_web_1 is unhealthy/) } });
    const history = a.store.current().history.roll!;
    expect(history.map((entry) => [entry.version, entry.kind, entry.restores ?? null])).toEqual([[1, 'deploy', null], [2, 'deploy', null], [3, 'rollback', 1]]);
    // The restored version turns stable again: it is what `rollback` would go back to next.
    await eventually(() => a.store.current().history.roll?.at(-1)?.stable === true, { timeoutMs: 30_000, what: 'v3 stable' });
    expect(history.find((entry) => entry.version === 2)?.stable).toBe(false);
  });

  it('stop-first with parallelism 2 replaces two slots per batch and keeps 2 healthy', async () => {
    await deployStable('pair', httpd('1', { parallelism: 2 }));
    const v2 = httpd('2', { parallelism: 2 });
    const watch = watchEngine('pair');
    await a.deploy({ name: 'pair', services: [v2] });
    await eventually(() => part('pair')?.progress?.phase === 'completed', { timeoutMs: 90_000, what: 'rollout completed' });
    const { fewest } = await watch.stop();
    expect(part('pair')?.progress?.batches).toEqual([[1, 2], [3, 4]]);
    expect(fewest).toBeGreaterThanOrEqual(2);
    // Two at once really happened: never more than 2 healthy replicas missing, and at least once 2.
    expect(fewest).toBeLessThanOrEqual(3);
    const running = await engineHashes('pair');
    expect(running.map((c) => c.hash)).toEqual(Array(4).fill(serviceSpecHash(v2)));
  });

  it('start-first starts each new replica beside the old one: all 4 stay healthy throughout', async () => {
    await deployStable('surge', httpd('1', { order: 'start-first' }));
    const v2 = httpd('2', { order: 'start-first' });
    const watch = watchEngine('surge');
    await a.deploy({ name: 'surge', services: [v2] });
    await eventually(async () => part('surge')?.progress?.phase === 'completed' && (await engineHashes('surge')).length === 4, { timeoutMs: 90_000, what: 'rollout completed' });
    const { fewest, polls } = await watch.stop();
    expect(polls).toBeGreaterThan(10);
    expect(fewest).toBe(4);
    const running = await engineHashes('surge');
    expect(running.every((c) => c.hash === serviceSpecHash(v2) && c.health === 'healthy')).toBe(true);
  });

  it('failure_action pause leaves the rollout paused, and a new deploy resumes it to completion', async () => {
    const v1 = httpd('1', {});
    await deployStable('hold', v1);
    await a.deploy({ name: 'hold', services: [httpd('2', {}, false)] });
    await eventually(() => part('hold')?.progress?.phase === 'paused', { timeoutMs: 60_000, what: 'paused' });
    expect(part('hold')?.progress?.reason).toMatch(/slot 1 failed/);
    // Paused stays paused: slots 2–4 keep v1 and nothing more is replaced.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(part('hold')?.progress?.phase).toBe('paused');
    const during = await engineHashes('hold');
    expect(during.filter((c) => c.hash === serviceSpecHash(v1) && c.health === 'healthy')).toHaveLength(3);
    const v3 = httpd('3', {});
    await a.deploy({ name: 'hold', services: [v3] });
    await eventually(async () => {
      const running = await engineHashes('hold');
      return part('hold')?.progress?.phase === 'completed' && running.length === 4 && running.every((c) => c.hash === serviceSpecHash(v3) && c.health === 'healthy');
    }, { timeoutMs: 90_000, what: 'v3 rolled out' });
  });
});
