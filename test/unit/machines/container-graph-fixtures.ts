// Inputs and events for the container machine's graph tests (every event it can receive).
import type { ContainerMachineInput } from '../../../src/machines/container-types.ts';

const request = { name: 'app_web_1', image: 'img', env: {}, labels: {}, ports: [], mounts: [], capAdd: [], capDrop: [], devices: [] };
export const input: ContainerMachineInput = {
  name: 'app_web_1',
  request,
  restartPolicy: { condition: 'on-failure', delayMs: 10, maxAttempts: 1, windowMs: 0 },
  hasHealthcheck: true,
  stopGracePeriodMs: 1000,
};

const ok = (value: unknown) => ({ ok: true, value, atMs: 5 });
const fail = (code: string) => ({ ok: false, code, message: code, atMs: 5 });

// Every event the machine can see, including what its invoked effects and delays produce.
export const events = [
  { type: 'START' },
  { type: 'ADOPT', containerId: 'c1', state: 'running', health: 'healthy', atMs: 1 },
  { type: 'ADOPT', containerId: 'c1', state: 'created', health: 'none', atMs: 1 },
  { type: 'ADOPT', containerId: 'c1', state: 'exited', health: 'none', exitCode: 1, atMs: 1 },
  { type: 'EXITED', exitCode: 1, atMs: 2 },
  { type: 'EXITED', exitCode: 0, atMs: 2 },
  { type: 'HEALTH', health: 'healthy' },
  { type: 'HEALTH', health: 'unhealthy' },
  { type: 'HEALTH', health: 'starting' },
  { type: 'HEALTH', health: 'none' },
  { type: 'GONE' },
  { type: 'REMOVE' },
  { type: 'xstate.done.actor.create', output: ok('c1') },
  { type: 'xstate.done.actor.create', output: fail('image_not_found') },
  { type: 'xstate.done.actor.create', output: fail('pull_failed') },
  { type: 'xstate.done.actor.create', output: fail('engine_unavailable') },
  { type: 'xstate.error.actor.create', error: new Error('boom') },
  { type: 'xstate.done.actor.start', output: ok({ state: 'running', health: 'starting' }) },
  { type: 'xstate.done.actor.start', output: ok({ state: 'exited', health: 'none', exitCode: 3 }) },
  { type: 'xstate.done.actor.start', output: fail('engine_unavailable') },
  { type: 'xstate.done.actor.start', output: fail('not_found') },
  { type: 'xstate.done.actor.start', output: fail('engine_error') },
  { type: 'xstate.error.actor.start', error: new Error('boom') },
  { type: 'xstate.done.actor.stop', output: ok(undefined) },
  { type: 'xstate.error.actor.stop', error: new Error('boom') },
  { type: 'xstate.done.actor.stop-unhealthy', output: ok(undefined) },
  { type: 'xstate.done.actor.stop-unhealthy', output: fail('engine_unavailable') },
  { type: 'xstate.error.actor.stop-unhealthy', error: new Error('boom') },
  { type: 'xstate.done.actor.remove', output: ok(undefined) },
  { type: 'xstate.done.actor.remove', output: fail('not_found') },
  { type: 'xstate.done.actor.remove', output: fail('engine_error') },
  { type: 'xstate.error.actor.remove', error: new Error('boom') },
  { type: 'xstate.after.restartDelay.container.backoff' },
  { type: 'xstate.after.engineRetryDelay.container.engine-backoff' },
  { type: 'xstate.after.engineRetryDelay.container.remove-backoff' },
] as any[];

export const allLeafStates = [
  'pending', 'creating', 'starting', 'running.none', 'running.starting', 'running.healthy', 'running.unhealthy',
  'exited', 'backoff', 'engine-backoff', 'failed', 'stopping', 'removing', 'remove-backoff', 'removed',
];

export function stateKey(value: unknown): string {
  if (typeof value === 'string') return value;
  const [parent, child] = Object.entries(value as Record<string, string>)[0]!;
  return `${parent}.${child}`;
}


/** The restart history grows without bound; the shape of the state is what we enumerate. */
export const serializeState = (snapshot: { value: unknown; context: { containerId?: string; restartTimesMs: number[]; exitCode?: number } }) =>
  JSON.stringify([snapshot.value, snapshot.context.containerId !== undefined, snapshot.context.restartTimesMs.length, snapshot.context.exitCode]);
