import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { toCreateContainerRequest } from '../../../src/agent/container-request.ts';
import { stopAtMostOnceBeforeSync } from '../../../src/fencing/fence-before-sync.ts';
import { SimRuntime } from '../../../src/sim/sim-runtime.ts';
import { VirtualClock } from '../../../src/sim/virtual-clock.ts';
import { service } from '../scheduler/scheduler-harness.ts';

const logger = pino({ level: 'silent' });

async function run(runtime: SimRuntime, request: ReturnType<typeof toCreateContainerRequest>): Promise<void> {
  await runtime.start(await runtime.create(request));
}

describe('fencing a restarted daemon before it syncs', () => {
  it('stops only this node\'s running at-most-once replicas, named by their label', async () => {
    const runtime = new SimRuntime({ clock: new VirtualClock() });
    const db = { ...service('db', { replicas: 1 }), volumes: [{ type: 'volume' as const, source: 'data', target: '/data', readOnly: false }] };
    const web = service('web', { replicas: 2 });
    await run(runtime, toCreateContainerRequest({ stack: 'app', service: 'db', slot: 1 }, db, 'h1', 'n1'));
    await run(runtime, toCreateContainerRequest({ stack: 'app', service: 'web', slot: 1 }, web, 'h2', 'n1'));
    // Another node's singleton on a shared engine is not ours to stop.
    await run(runtime, toCreateContainerRequest({ stack: 'other', service: 'db', slot: 1 }, db, 'h3', 'n2'));
    expect(await stopAtMostOnceBeforeSync(runtime, 'n1', logger)).toEqual(['app_db_1']);
    const states = Object.fromEntries(runtime.snapshot().map((c) => [c.name.slice(1), c.state]));
    expect(states).toEqual({ app_db_1: 'exited', app_web_1: 'running', other_db_1: 'running' });
  });

  it('an engine that cannot list leaves the start going', async () => {
    const runtime = new SimRuntime({ clock: new VirtualClock() });
    runtime.goDown();
    expect(await stopAtMostOnceBeforeSync(runtime, 'n1', logger)).toEqual([]);
  });
});
