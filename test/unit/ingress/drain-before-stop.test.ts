import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { assign, createActor, setup } from 'xstate';
import { noopTelemetry } from '../../../src/actors/agent-telemetry.ts';
import { createContainerActorLogic, type ContainerReportMessage } from '../../../src/actors/container-actor.ts';
import type { ContainerMachineInput } from '../../../src/machines/container-types.ts';
import type { ContainerRuntime } from '../../../src/seams/container-runtime.ts';
import { drainMicrotasks, VirtualClock } from '../../../src/sim/virtual-clock.ts';
import { ingressDrainDelayMs, ingressDrainMs } from '../../../src/ingress/ingress-ports.ts';
import { service } from '../agent/fixtures.ts';

/** An engine that records when (on the virtual clock) each call arrived. */
function recordingRuntime(clock: VirtualClock, calls: string[]): ContainerRuntime {
  const at = (what: string) => calls.push(`${what}@${clock.nowMs()}`);
  return {
    ping: async () => {},
    list: async () => [],
    inspect: async () => undefined,
    ensureImage: async () => {},
    create: async () => {
      at('create');
      return 'c1';
    },
    start: async () => void at('start'),
    stop: async () => void at('stop'),
    pause: async () => void at('pause'),
    unpause: async () => void at('unpause'),
    remove: async () => void at('remove'),
    ensureNetwork: async () => { throw new Error('no networks here'); },
    listNetworks: async () => [],
    removeNetwork: async () => {},
    events: () => ({ close: () => {} }),
  };
}

/** A parent that hosts one replica actor and keeps its reports (the container actor reports with sendParent). */
function host(clock: VirtualClock, calls: string[], drainMs: number) {
  const logic = createContainerActorLogic({ runtime: recordingRuntime(clock, calls), clock, telemetry: noopTelemetry, logger: pino({ level: 'silent' }) });
  const input: ContainerMachineInput = {
    name: 'shop_web_1',
    request: { name: 'shop_web_1', image: 'x', env: {}, labels: {}, ports: [], mounts: [], capAdd: [], capDrop: [], devices: [] },
    restartPolicy: { condition: 'any', delayMs: 0, windowMs: 0 },
    hasHealthcheck: false,
    stopGracePeriodMs: 1000,
    drainMs,
  };
  const parent = setup({
    types: { context: {} as { reports: string[] } },
    actors: { replica: logic },
  }).createMachine({
    context: { reports: [] },
    invoke: { id: 'replica', src: 'replica', input },
    on: { 'container.report': { actions: assign({ reports: ({ context, event }) => [...context.reports, `${(event as unknown as ContainerReportMessage).phase}@${clock.nowMs()}`] }) } },
  });
  const actor = createActor(parent, { clock });
  actor.start();
  const child = () => actor.getSnapshot().children.replica!;
  return { actor, child, reports: () => actor.getSnapshot().context.reports };
}

describe('drain before stop', () => {
  it('a replica that publishes an ingress port is reported stopping, and only after the drain is the engine told to stop it', async () => {
    const clock = new VirtualClock(1000);
    const calls: string[] = [];
    const { child, reports } = host(clock, calls, ingressDrainDelayMs);
    child().send({ type: 'START' });
    await clock.runUntil(() => reports().some((r) => r.startsWith('running')), 10_000);
    child().send({ type: 'REMOVE' });
    await drainMicrotasks();
    const removeAt = clock.nowMs();
    expect(reports().at(-1)).toBe(`stopping@${removeAt}`);
    await clock.advance(ingressDrainDelayMs - 1);
    expect(calls.filter((c) => c.startsWith('stop'))).toEqual([]);
    await clock.runUntil(() => calls.some((c) => c.startsWith('remove')), 10_000);
    expect(calls.filter((c) => c.startsWith('stop') || c.startsWith('remove'))).toEqual([`stop@${removeAt + ingressDrainDelayMs}`, `remove@${removeAt + ingressDrainDelayMs}`]);
  });

  it('no ingress port, no drain: the stop follows at once', async () => {
    const clock = new VirtualClock(1000);
    const calls: string[] = [];
    const { child, reports } = host(clock, calls, 0);
    child().send({ type: 'START' });
    await clock.runUntil(() => reports().some((r) => r.startsWith('running')), 10_000);
    child().send({ type: 'REMOVE' });
    const removeAt = clock.nowMs();
    await clock.runUntil(() => calls.some((c) => c.startsWith('remove')), 10_000);
    expect(calls.find((c) => c.startsWith('stop'))).toBe(`stop@${removeAt}`);
  });

  it('only services with an ingress port drain', () => {
    expect(ingressDrainMs(service('a', { ports: [{ target: 80, published: 8080, protocol: 'tcp', mode: 'ingress' }] }))).toBe(ingressDrainDelayMs);
    expect(ingressDrainMs(service('b', { ports: [{ target: 80, published: 8080, protocol: 'tcp', mode: 'host' }, { target: 81, protocol: 'tcp', mode: 'ingress' }] }))).toBe(0);
    expect(ingressDrainMs(service('c'))).toBe(0);
  });
});
