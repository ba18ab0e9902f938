import { describe, expect, it } from 'vitest';
import { adjacencyMapToArray, getAdjacencyMap } from 'xstate/graph';
import { rolloutMachine } from '../../../src/machines/rollout.ts';
import type { RolloutMachineInput, RolloutSettings } from '../../../src/machines/rollout-types.ts';

// Every event the rollout machine can see, its own delays included, over two slots: replicas of
// the target or the previous version healthy or failed, all at once or only slot 1.
const ok = { health: 'healthy' } as const;
const bad = { health: 'failed', message: 'exited' } as const;
const events = [
  { type: 'START' },
  { type: 'RESUME' },
  { type: 'OBSERVE', target: { 1: ok, 2: ok }, previous: {} },
  { type: 'OBSERVE', target: { 1: bad, 2: bad }, previous: {} },
  { type: 'OBSERVE', target: {}, previous: { 1: ok, 2: ok } },
  { type: 'OBSERVE', target: {}, previous: { 1: bad, 2: bad } },
  ...['updating.starting', 'rollingBack.starting'].map((state) => ({ type: `xstate.after.deadline.rollout.${state}` })),
  { type: 'xstate.after.updateMonitor.rollout.updating.monitoring' },
  { type: 'xstate.after.updateDelay.rollout.updating.delaying' },
  { type: 'xstate.after.rollbackMonitor.rollout.rollingBack.monitoring' },
  { type: 'xstate.after.rollbackDelay.rollout.rollingBack.delaying' },
] as any[];

const settings: RolloutSettings = { parallelism: 1, delayMs: 1000, order: 'stop-first', failureAction: 'pause', monitorMs: 1000, maxFailureRatio: 0 };

function phase(value: unknown): string {
  if (typeof value === 'string') return value;
  const [parent, child] = Object.entries(value as Record<string, string>)[0]!;
  return `${parent}.${child}`;
}

/** Every change of state the machine makes under every event, from every reachable state. */
function edges(input: RolloutMachineInput): Set<string> {
  const serializeState = (state: any) => JSON.stringify([state.value, state.context.progress]);
  const steps = adjacencyMapToArray(getAdjacencyMap(rolloutMachine as any, { input, events, serializeState } as any));
  return new Set(steps.map((s) => [phase((s.state as any).value), phase((s.nextState as any).value)]).filter(([a, b]) => a !== b).map(([a, b]) => `${a} -> ${b}`));
}

describe('rollout machine graph', () => {
  it('takes exactly the transitions of the diagram, over every failure action, order and kind', () => {
    const all = new Set<string>();
    for (const failureAction of ['pause', 'continue', 'rollback'] as const) {
      for (const order of ['stop-first', 'start-first'] as const) {
        for (const kind of ['update', 'rollback'] as const) {
          const input: RolloutMachineInput = { stack: 's', service: 'web', kind, slots: [1, 2], update: { ...settings, failureAction, order }, rollback: { ...settings, order }, progressDeadlineMs: 60_000 };
          for (const edge of edges(input)) all.add(edge);
        }
      }
    }
    expect([...all].sort()).toEqual([
      'paused -> rollingBack.starting',
      'paused -> updating.starting',
      'pending -> updating.starting',
      'rollingBack.delaying -> paused',
      'rollingBack.delaying -> rollingBack.starting',
      'rollingBack.monitoring -> paused',
      'rollingBack.monitoring -> rolledBack',
      'rollingBack.monitoring -> rollingBack.delaying',
      'rollingBack.starting -> paused',
      'rollingBack.starting -> rollingBack.monitoring',
      'updating.delaying -> paused',
      'updating.delaying -> rollingBack.starting',
      'updating.delaying -> updating.starting',
      'updating.monitoring -> completed',
      'updating.monitoring -> paused',
      'updating.monitoring -> rollingBack.starting',
      'updating.monitoring -> updating.delaying',
      'updating.starting -> failed',
      'updating.starting -> paused',
      'updating.starting -> rolledBack',
      'updating.starting -> rollingBack.starting',
      'updating.starting -> updating.monitoring',
    ]);
  });
});
