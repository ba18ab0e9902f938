import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createActor, enqueueActions } from 'xstate';
import { toReport } from '../../../src/actors/container-actor.ts';
import type { ContainerPhase } from '../../../src/machines/container-types.ts';
import { createNodeAgentLogic } from '../../../src/actors/node-agent.ts';
import { noopTelemetry } from '../../../src/actors/agent-telemetry.ts';
import { SimRuntime } from '../../../src/sim/sim-runtime.ts';
import { drainMicrotasks, VirtualClock } from '../../../src/sim/virtual-clock.ts';
import { MemoryStateStore, service, stack } from './fixtures.ts';

describe('node agent children', () => {
  it('keeps only live children: finished listings and removed replicas do not pile up', async () => {
    const clock = new VirtualClock(0);
    const runtime = new SimRuntime({ clock });
    const store = new MemoryStateStore();
    const logic = createNodeAgentLogic({ nodeId: 'n1', runtime, store, clock, logger: pino({ level: 'silent' }), telemetry: noopTelemetry, resyncIntervalMs: 1000 });
    const actor = createActor(logic, { clock });
    actor.start();
    await store.deploy(stack('app', [service('web', { replicas: 3 })]));
    // The first listing (containers and networks) settles before time moves; advance only fires timers.
    await drainMicrotasks();
    await clock.advance(30_000); // ~30 resync listings
    const ids = () => Object.keys(actor.getSnapshot().children).sort();
    expect(ids().filter((id) => id.startsWith('container.'))).toHaveLength(3);
    expect(ids().filter((id) => id.startsWith('list.')).length).toBeLessThanOrEqual(1);
    await store.deploy(stack('app', [service('web', { replicas: 1 })]));
    await clock.advance(5000);
    expect(ids().filter((id) => id.startsWith('container.'))).toHaveLength(1);
    expect(ids()).toContain('engine-events');
    expect(ids()).toContain('store-watch');
    actor.stop();
  });
});

describe('node agent supervision', () => {
  it('a crashed replica actor is stopped, and after a back-off its container is adopted, not restarted', async () => {
    const clock = new VirtualClock(0);
    const runtime = new SimRuntime({ clock });
    const store = new MemoryStateStore();
    let crashesLeft = 1;
    const logic = createNodeAgentLogic({
      nodeId: 'n1', runtime, store, clock, logger: pino({ level: 'silent' }), telemetry: noopTelemetry, resyncIntervalMs: 5000,
      // A bug in the replica logic: throws the first time it reaches running.
      wrapContainerLogic: (base) => base.provide({
        actions: {
          report: enqueueActions(({ context, self, enqueue }, params: { phase: ContainerPhase }) => {
            if (params.phase === 'running' && crashesLeft-- > 0) throw new Error('injected bug');
            enqueue.sendParent(toReport(context, params.phase, self.id));
          }),
        },
      }),
    });
    const actor = createActor(logic, { clock });
    const crashed: string[] = [];
    actor.on('child-crashed', (e) => crashed.push(e.child));
    let rootError: unknown;
    actor.subscribe({ error: (e) => (rootError = e) });
    actor.start();
    await store.deploy(stack('app', [service('web')]));
    const replicaRunning = () => Object.values(actor.getSnapshot().context.children).some((c) => c.phase === 'running');
    expect(await clock.runUntil(() => crashed.length === 1, 10_000)).toBe(true);
    expect(Object.keys(actor.getSnapshot().context.children)).toEqual([]);
    expect(await clock.runUntil(replicaRunning, 10_000)).toBe(true);
    expect(rootError).toBeUndefined();
    expect(actor.getSnapshot().status).toBe('active');
    // The container was created and started once; the respawned actor adopted it.
    expect(runtime.calls).toEqual(['create app_web_1', 'start app_web_1']);
    expect(crashed[0]).toMatch(/^container\.app_web_1\./);
    actor.stop();
  });
});
