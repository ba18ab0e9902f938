import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createDockerRuntime } from '../../src/adapters/docker/dockerode-runtime.ts';
import { eventually } from '../support/eventually.ts';
import type { CreateContainerRequest, RuntimeEvent, RuntimeEventSubscription } from '../../src/seams/container-runtime.ts';

const image = inject('testImage');
const runtime = createDockerRuntime(inject('dockerSocket'));
const testLabel = 'constellation-test.case';
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function request(caseId: string, overrides: Partial<CreateContainerRequest>): CreateContainerRequest {
  return {
    name: `ev-${caseId.slice(0, 12)}`,
    image,
    env: {},
    labels: { [testLabel]: caseId },
    ports: [],
    mounts: [],
    capAdd: [],
    capDrop: [],
    devices: [],
    ...overrides,
  };
}

/** Collects the events of one test's containers and lets the test await a specific one. */
function watchCase(caseId: string) {
  const seen: RuntimeEvent[] = [];
  const waiters: { match: (event: RuntimeEvent) => boolean; resolve: (event: RuntimeEvent) => void }[] = [];
  let ended: Error | undefined | 'no' = 'no';
  const subscription: RuntimeEventSubscription = runtime.events(
    (event) => {
      if (event.labels[testLabel] !== caseId) return;
      seen.push(event);
      for (const waiter of [...waiters]) {
        if (waiter.match(event)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(event);
        }
      }
    },
    (error) => {
      ended = error;
    },
  );
  cleanups.push(async () => {
    subscription.close();
    for (const container of await runtime.list({ [testLabel]: caseId })) await runtime.remove(container.id);
  });
  return {
    seen,
    streamEnded: () => ended !== 'no',
    next(match: (event: RuntimeEvent) => boolean): Promise<RuntimeEvent> {
      const already = seen.find(match);
      if (already !== undefined) return Promise.resolve(already);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
  };
}

/**
 * A subscription is live once it delivers an event; the engine gives no other signal. Create
 * throwaway containers until one of their events arrives (one created before the stream was
 * attached would be missed, hence more than one).
 */
async function untilSubscribed(caseId: string, watch: ReturnType<typeof watchCase>): Promise<void> {
  const probes: string[] = [];
  await eventually(
    async () => {
      if (watch.seen.some((event) => probes.includes(event.containerId))) return true;
      probes.push(await runtime.create(request(caseId, { name: `probe-${probes.length}-${caseId.slice(0, 12)}`, command: ['true'] })));
      return false;
    },
    { timeoutMs: 10_000, what: 'the event subscription to deliver a probe container event' },
  );
  for (const probe of probes) await runtime.remove(probe);
}

describe('dockerode runtime: events', () => {
  it('delivers start and die with the container labels and the exit code', async () => {
    const caseId = randomUUID();
    const watch = watchCase(caseId);
    await untilSubscribed(caseId, watch);
    const id = await runtime.create(request(caseId, { command: ['sh', '-c', 'exit 3'], labels: { [testLabel]: caseId, 'constellation.service': 'web' } }));
    await runtime.start(id);
    const start = await watch.next((event) => event.action === 'start' && event.containerId === id);
    const die = await watch.next((event) => event.action === 'die' && event.containerId === id);
    expect(start.labels).toEqual({ [testLabel]: caseId, 'constellation.service': 'web' });
    expect(die).toMatchObject({ action: 'die', containerId: id, exitCode: 3, labels: { 'constellation.service': 'web' } });
    expect(die.timeMs).toBeGreaterThanOrEqual(start.timeMs);
    expect(Math.abs(die.timeMs - Date.now())).toBeLessThan(60_000);
    await runtime.remove(id);
    await watch.next((event) => event.action === 'destroy' && event.containerId === id);
    expect(watch.seen.filter((event) => event.containerId === id).map((event) => event.action)).toEqual(['create', 'start', 'die', 'destroy']);
    expect(watch.streamEnded()).toBe(false);
  });

  it('reports a healthcheck reaching healthy', async () => {
    const caseId = randomUUID();
    const watch = watchCase(caseId);
    await untilSubscribed(caseId, watch);
    const id = await runtime.create(
      request(caseId, {
        command: ['httpd', '-f', '-p', '80', '-h', '/www'],
        healthcheck: { test: ['CMD', 'wget', '-q', '-O', '/dev/null', 'http://127.0.0.1/'], intervalMs: 300, timeoutMs: 2000, retries: 2 },
      }),
    );
    await runtime.start(id);
    expect((await runtime.inspect(id))?.health).toMatch(/starting|healthy/);
    const healthy = await watch.next((event) => event.action === 'health_status' && event.containerId === id);
    expect(healthy.health).toBe('healthy');
    expect((await runtime.inspect(id))?.health).toBe('healthy');
    expect((await runtime.list({ [testLabel]: caseId }))[0]?.health).toBe('healthy');
  });

  it('reports a healthcheck reaching unhealthy', async () => {
    const caseId = randomUUID();
    const watch = watchCase(caseId);
    await untilSubscribed(caseId, watch);
    const id = await runtime.create(
      request(caseId, {
        command: ['sleep', '600'],
        healthcheck: { test: ['CMD-SHELL', 'exit 1'], intervalMs: 200, timeoutMs: 1000, retries: 2 },
      }),
    );
    await runtime.start(id);
    const unhealthy = await watch.next((event) => event.action === 'health_status' && event.containerId === id);
    expect(unhealthy.health).toBe('unhealthy');
    expect((await runtime.inspect(id))?.health).toBe('unhealthy');
    expect((await runtime.list({ [testLabel]: caseId }))[0]?.health).toBe('unhealthy');
  });

  it('stops delivering after close() and does not call onEnd', async () => {
    const caseId = randomUUID();
    const watch = watchCase(caseId);
    await untilSubscribed(caseId, watch);
    let endCalls = 0;
    const delivered: RuntimeEvent[] = [];
    const subscription = runtime.events((event) => delivered.push(event), () => endCalls++);
    subscription.close();
    const id = await runtime.create(request(caseId, { command: ['true'] }));
    // The still-open watcher proves the event happened; the closed one must not have seen it.
    await watch.next((event) => event.action === 'create' && event.containerId === id);
    expect(delivered.filter((event) => event.containerId === id)).toEqual([]);
    expect(endCalls).toBe(0);
  });
});
