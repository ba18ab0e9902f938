import { describe, expect, it } from 'vitest';
import { createActor, fromPromise, SimulatedClock } from 'xstate';
import { containerMachine } from '../../../src/machines/container.ts';
import type { ContainerMachineInput, ContainerPhase } from '../../../src/machines/container-types.ts';
import type { RestartPolicySpec } from '../../../src/compose/types.ts';

const request = { name: 'app_web_1', image: 'img', env: {}, labels: {}, ports: [], mounts: [], capAdd: [], capDrop: [], devices: [] };

interface Script {
  createResults?: Array<{ ok: true; value: string } | { ok: false; code: string }>;
  startResults?: Array<{ ok: true; value: { state: string; health: string; exitCode?: number } } | { ok: false; code: string }>;
}

function run(policy: RestartPolicySpec, script: Script = {}, hasHealthcheck = false) {
  const clock = new SimulatedClock();
  const calls: string[] = [];
  const phases: ContainerPhase[] = [];
  const creates = [...(script.createResults ?? [])];
  const starts = [...(script.startResults ?? [])];
  const at = () => clock.now();
  const logic = containerMachine.provide({
    actors: {
      createContainer: fromPromise(async () => {
        calls.push('create');
        const r = creates.shift() ?? { ok: true, value: 'c1' };
        return r.ok ? { ...r, atMs: at() } : { ...r, message: r.code, atMs: at() };
      }) as any,
      startContainer: fromPromise(async ({ input }: { input: { containerId: string } }) => {
        calls.push(`start ${input.containerId}`);
        const r = starts.shift() ?? { ok: true, value: { state: 'running', health: hasHealthcheck ? 'starting' : 'none' } };
        return r.ok ? { ...r, atMs: at() } : { ...r, message: r.code, atMs: at() };
      }) as any,
      stopContainer: fromPromise(async ({ input }: { input: { containerId: string } }) => {
        calls.push(`stop ${input.containerId}`);
        return { ok: true, value: undefined, atMs: at() };
      }) as any,
      removeContainer: fromPromise(async ({ input }: { input: { containerId: string } }) => {
        calls.push(`remove ${input.containerId}`);
        return { ok: true, value: undefined, atMs: at() };
      }) as any,
    },
    actions: { report: (_: unknown, params: { phase: ContainerPhase }) => phases.push(params.phase) },
  });
  const input: ContainerMachineInput = { name: 'app_web_1', request, restartPolicy: policy, hasHealthcheck, stopGracePeriodMs: 500 };
  const actor = createActor(logic, { input, clock });
  actor.start();
  const state = () => actor.getSnapshot().value;
  return { actor, clock, calls, phases, state };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

async function settle() {
  for (let i = 0; i < 5; i++) await flush();
}

describe('container machine lifecycle', () => {
  it('creates, starts and runs, then stops and removes on REMOVE', async () => {
    const t = run({ condition: 'any', delayMs: 0, windowMs: 0 });
    t.actor.send({ type: 'START' });
    await settle();
    expect(t.state()).toEqual({ running: 'none' });
    t.actor.send({ type: 'REMOVE' });
    await settle();
    expect(t.state()).toBe('removed');
    expect(t.actor.getSnapshot().status).toBe('done');
    expect(t.calls).toEqual(['create', 'start c1', 'stop c1', 'remove c1']);
    expect(t.phases).toEqual(['pending', 'creating', 'starting', 'running', 'stopping', 'removing', 'removed']);
  });

  it('tracks health while running', async () => {
    const t = run({ condition: 'any', delayMs: 0, windowMs: 0 }, {}, true);
    t.actor.send({ type: 'START' });
    await settle();
    expect(t.state()).toEqual({ running: 'starting' });
    t.actor.send({ type: 'HEALTH', health: 'healthy' });
    expect(t.state()).toEqual({ running: 'healthy' });
    expect(t.actor.getSnapshot().context.health).toBe('healthy');
  });

  it('stops an unhealthy replica and restarts it per its policy, counting it as a failure', async () => {
    const t = run({ condition: 'on-failure', delayMs: 1000, windowMs: 0 }, {}, true);
    t.actor.send({ type: 'START' });
    await settle();
    t.actor.send({ type: 'HEALTH', health: 'unhealthy' });
    expect(t.state()).toEqual({ running: 'unhealthy' });
    // A late "healthy" does not cancel the replacement under way.
    t.actor.send({ type: 'HEALTH', health: 'healthy' });
    expect(t.state()).toEqual({ running: 'unhealthy' });
    await settle();
    // The stop has returned; the replica leaves `running` on the container's own exit, so that
    // exit cannot arrive later and be taken for a crash of the next life.
    expect(t.calls).toEqual(['create', 'start c1', 'stop c1']);
    expect(t.state()).toEqual({ running: 'unhealthy' });
    t.actor.send({ type: 'EXITED', exitCode: 143, atMs: t.clock.now() });
    expect(t.state()).toBe('backoff');
    expect(t.actor.getSnapshot().context.message).toMatch(/unhealthy/);
    expect(t.actor.getSnapshot().context.restartTimesMs).toHaveLength(1);
    t.clock.increment(1000);
    await settle();
    expect(t.state()).toEqual({ running: 'starting' });
    expect(t.calls).toEqual(['create', 'start c1', 'stop c1', 'start c1']);
    expect(t.phases).toEqual(['pending', 'creating', 'starting', 'running', 'running', 'exited', 'backoff', 'starting', 'running']);
  });

  it('an unhealthy replica that exits 0 when stopped still counts as failed under on-failure', async () => {
    const t = run({ condition: 'on-failure', delayMs: 0, windowMs: 0 }, {}, true);
    t.actor.send({ type: 'START' });
    await settle();
    t.actor.send({ type: 'HEALTH', health: 'unhealthy' });
    await settle();
    t.actor.send({ type: 'EXITED', exitCode: 0, atMs: t.clock.now() });
    expect(t.state()).toBe('backoff');
  });

  it('stops an unhealthy replica and leaves it down under condition none', async () => {
    const t = run({ condition: 'none', delayMs: 0, windowMs: 0 }, {}, true);
    t.actor.send({ type: 'START' });
    await settle();
    t.actor.send({ type: 'HEALTH', health: 'unhealthy' });
    await settle();
    t.actor.send({ type: 'EXITED', exitCode: 143, atMs: t.clock.now() });
    expect(t.state()).toBe('exited');
    t.clock.increment(60_000);
    await settle();
    expect(t.calls).toEqual(['create', 'start c1', 'stop c1']);
  });

  it('restarts after an exit with the policy delay, driven by the clock', async () => {
    const t = run({ condition: 'on-failure', delayMs: 1000, windowMs: 0 });
    t.actor.send({ type: 'START' });
    await settle();
    t.actor.send({ type: 'EXITED', exitCode: 2, atMs: t.clock.now() });
    expect(t.state()).toBe('backoff');
    t.clock.increment(999);
    await settle();
    expect(t.state()).toBe('backoff');
    t.clock.increment(1);
    await settle();
    expect(t.state()).toEqual({ running: 'none' });
    expect(t.calls).toEqual(['create', 'start c1', 'start c1']);
    expect(t.actor.getSnapshot().context.restartTimesMs).toHaveLength(1);
  });

  it('doubles the delay on repeated crashes', async () => {
    const t = run({ condition: 'any', delayMs: 100, windowMs: 0 });
    t.actor.send({ type: 'START' });
    await settle();
    t.actor.send({ type: 'EXITED', exitCode: 1, atMs: 0 });
    expect(t.actor.getSnapshot().context.restartDelayMs).toBe(100);
    t.clock.increment(100);
    await settle();
    t.actor.send({ type: 'EXITED', exitCode: 1, atMs: 100 });
    expect(t.actor.getSnapshot().context.restartDelayMs).toBe(200);
    t.clock.increment(199);
    await settle();
    expect(t.state()).toBe('backoff');
  });

  it('resets the back-off after a run of 10 s (window 0): a crash after a long run waits the base delay, not the cap', async () => {
    const t = run({ condition: 'any', delayMs: 100, windowMs: 0 });
    t.actor.send({ type: 'START' });
    await settle();
    const crashAfter = async (ranMs: number) => {
      t.clock.increment(ranMs);
      t.actor.send({ type: 'EXITED', exitCode: 1, atMs: t.clock.now() });
      const delay = t.actor.getSnapshot().context.restartDelayMs;
      t.clock.increment(delay);
      await settle();
      expect(t.state()).toEqual({ running: 'none' });
      return delay;
    };
    const loop: number[] = [];
    for (let i = 0; i < 11; i++) loop.push(await crashAfter(50));
    expect(loop.slice(-2)).toEqual([30_000, 30_000]);
    // 9.9 s is still the same crash loop; 10 s of uptime ends it, as Docker does.
    expect(await crashAfter(9_900)).toBe(30_000);
    expect(await crashAfter(10_000)).toBe(100);
    expect(await crashAfter(50)).toBe(200);
    expect(t.actor.getSnapshot().context.restartTimesMs).toHaveLength(14);
  });

  it('a failed start continues the crash loop (it never ran)', async () => {
    const t = run({ condition: 'any', delayMs: 100, windowMs: 0 }, { startResults: [{ ok: true, value: { state: 'running', health: 'none' } }, { ok: false, code: 'engine_error' }] });
    t.actor.send({ type: 'START' });
    await settle();
    t.clock.increment(20_000);
    t.actor.send({ type: 'EXITED', exitCode: 1, atMs: t.clock.now() });
    expect(t.actor.getSnapshot().context.restartDelayMs).toBe(100);
    t.clock.increment(100);
    await settle();
    expect(t.state()).toBe('backoff');
    expect(t.actor.getSnapshot().context.restartDelayMs).toBe(200);
  });

  it('does not restart with condition none', async () => {
    const t = run({ condition: 'none', delayMs: 0, windowMs: 0 });
    t.actor.send({ type: 'START' });
    await settle();
    t.actor.send({ type: 'EXITED', exitCode: 137, atMs: 0 });
    expect(t.state()).toBe('exited');
    t.clock.increment(60_000);
    await settle();
    expect(t.state()).toBe('exited');
    expect(t.calls).toEqual(['create', 'start c1']);
  });

  it('does not restart a successful exit under on-failure, but does under any', async () => {
    const a = run({ condition: 'on-failure', delayMs: 0, windowMs: 0 });
    a.actor.send({ type: 'START' });
    await settle();
    a.actor.send({ type: 'EXITED', exitCode: 0, atMs: 0 });
    expect(a.state()).toBe('exited');
    const b = run({ condition: 'any', delayMs: 0, windowMs: 0 });
    b.actor.send({ type: 'START' });
    await settle();
    b.actor.send({ type: 'EXITED', exitCode: 0, atMs: 0 });
    expect(b.state()).toBe('backoff');
  });

  it('gives up after max attempts and reports failed', async () => {
    const t = run({ condition: 'any', delayMs: 10, maxAttempts: 2, windowMs: 0 });
    t.actor.send({ type: 'START' });
    await settle();
    for (let i = 0; i < 2; i++) {
      t.actor.send({ type: 'EXITED', exitCode: 1, atMs: t.clock.now() });
      expect(t.state()).toBe('backoff');
      t.clock.increment(1000);
      await settle();
      expect(t.state()).toEqual({ running: 'none' });
    }
    t.actor.send({ type: 'EXITED', exitCode: 1, atMs: t.clock.now() });
    expect(t.state()).toBe('failed');
    expect(t.actor.getSnapshot().context.message).toMatch(/max_attempts/);
    expect(t.phases.at(-1)).toBe('failed');
  });

  it('counts attempts only inside the window', async () => {
    const t = run({ condition: 'any', delayMs: 10, maxAttempts: 1, windowMs: 5000 });
    t.actor.send({ type: 'START' });
    await settle();
    t.actor.send({ type: 'EXITED', exitCode: 1, atMs: 0 });
    t.clock.increment(1000);
    await settle();
    // Second crash after the window passed: the first restart no longer counts.
    t.actor.send({ type: 'EXITED', exitCode: 1, atMs: 6000 });
    expect(t.state()).toBe('backoff');
    t.clock.increment(1000);
    await settle();
    expect(t.state()).toEqual({ running: 'none' });
    t.actor.send({ type: 'EXITED', exitCode: 1, atMs: 6100 });
    expect(t.state()).toBe('failed');
  });

  it('fails permanently when the image does not exist', async () => {
    const t = run({ condition: 'any', delayMs: 0, windowMs: 0 }, { createResults: [{ ok: false, code: 'image_not_found' }] });
    t.actor.send({ type: 'START' });
    await settle();
    expect(t.state()).toBe('failed');
    t.actor.send({ type: 'REMOVE' });
    expect(t.state()).toBe('removed');
  });

  it('a failed pull goes through the restart policy: the default keeps retrying with its back-off', async () => {
    const t = run({ condition: 'any', delayMs: 1000, windowMs: 0 }, { createResults: [{ ok: false, code: 'pull_failed' }, { ok: false, code: 'pull_failed' }] });
    t.actor.send({ type: 'START' });
    await settle();
    expect(t.state()).toBe('backoff');
    expect(t.actor.getSnapshot().context.message).toBe('pull_failed');
    t.clock.increment(1000);
    await settle();
    expect(t.state()).toBe('backoff'); // the second pull failed too; the delay doubles
    expect(t.calls).toEqual(['create', 'create']);
    t.clock.increment(2000);
    await settle();
    expect(t.state()).toEqual({ running: 'none' });
    expect(t.calls).toEqual(['create', 'create', 'create', 'start c1']);
    expect(t.actor.getSnapshot().context.restartTimesMs).toHaveLength(2);
    expect(t.actor.getSnapshot().context.message).toBeUndefined();
  });

  it('a failed pull is not retried under restart_policy none, and gives up after max_attempts naming the pull error', async () => {
    const none = run({ condition: 'none', delayMs: 0, windowMs: 0 }, { createResults: [{ ok: false, code: 'pull_failed' }] });
    none.actor.send({ type: 'START' });
    await settle();
    expect(none.state()).toBe('exited');
    expect(none.calls).toEqual(['create']);
    const capped = run({ condition: 'on-failure', delayMs: 0, windowMs: 0, maxAttempts: 1 }, { createResults: [{ ok: false, code: 'pull_failed' }, { ok: false, code: 'pull_failed' }] });
    capped.actor.send({ type: 'START' });
    await settle();
    capped.clock.increment(100);
    await settle();
    expect(capped.state()).toBe('failed');
    expect(capped.actor.getSnapshot().context.message).toBe('gave up after 1 restarts (restart_policy.max_attempts); last: pull_failed');
  });

  it('retries engine outages with back-off without counting restarts', async () => {
    const t = run({ condition: 'none', delayMs: 0, windowMs: 0 }, {
      createResults: [{ ok: false, code: 'engine_unavailable' }, { ok: false, code: 'engine_unavailable' }],
    });
    t.actor.send({ type: 'START' });
    await settle();
    expect(t.state()).toBe('engine-backoff');
    t.clock.increment(500); // 250 * 2^1
    await settle();
    expect(t.state()).toBe('engine-backoff');
    t.clock.increment(1000); // 250 * 2^2
    await settle();
    expect(t.state()).toEqual({ running: 'none' });
    expect(t.calls).toEqual(['create', 'create', 'create', 'start c1']);
    expect(t.actor.getSnapshot().context.restartTimesMs).toEqual([]);
  });

  it('treats a refused start as a failure for the restart policy', async () => {
    const t = run({ condition: 'on-failure', delayMs: 10, maxAttempts: 1, windowMs: 0 }, {
      startResults: [{ ok: false, code: 'engine_error' }, { ok: false, code: 'engine_error' }],
    });
    t.actor.send({ type: 'START' });
    await settle();
    expect(t.state()).toBe('backoff');
    t.clock.increment(100); // the delay floor (MIN_RESTART_DELAY_MS)
    await settle();
    expect(t.state()).toBe('failed');
  });

  it('goes straight to exited when the process dies before the start is observed', async () => {
    const t = run({ condition: 'none', delayMs: 0, windowMs: 0 }, { startResults: [{ ok: true, value: { state: 'exited', health: 'none', exitCode: 4 } }] });
    t.actor.send({ type: 'START' });
    await settle();
    expect(t.state()).toBe('exited');
    expect(t.actor.getSnapshot().context.exitCode).toBe(4);
  });

  it('adopts a running container without creating or starting it', async () => {
    const t = run({ condition: 'any', delayMs: 0, windowMs: 0 }, {}, true);
    t.actor.send({ type: 'ADOPT', containerId: 'old', state: 'running', health: 'healthy', atMs: 0 });
    await settle();
    expect(t.state()).toEqual({ running: 'healthy' });
    expect(t.calls).toEqual([]);
  });

  it('starts an adopted container that was created but never started', async () => {
    const t = run({ condition: 'any', delayMs: 0, windowMs: 0 });
    t.actor.send({ type: 'ADOPT', containerId: 'old', state: 'created', health: 'none', atMs: 0 });
    await settle();
    expect(t.calls).toEqual(['start old']);
  });

  it('ends (removed) when the container disappears, so the supervisor can recreate the slot', async () => {
    const t = run({ condition: 'any', delayMs: 0, windowMs: 0 });
    t.actor.send({ type: 'START' });
    await settle();
    t.actor.send({ type: 'GONE' });
    expect(t.state()).toBe('removed');
    expect(t.actor.getSnapshot().output).toEqual({ name: 'app_web_1' });
  });

  it('removes an exited container without stopping it, and a never-created one without engine calls', async () => {
    const t = run({ condition: 'none', delayMs: 0, windowMs: 0 });
    t.actor.send({ type: 'START' });
    await settle();
    t.actor.send({ type: 'EXITED', exitCode: 1, atMs: 0 });
    t.actor.send({ type: 'REMOVE' });
    await settle();
    expect(t.calls).toEqual(['create', 'start c1', 'remove c1']);
    const u = run({ condition: 'none', delayMs: 0, windowMs: 0 });
    u.actor.send({ type: 'REMOVE' });
    expect(u.state()).toBe('removed');
    expect(u.calls).toEqual([]);
  });

  it('fails at once when started without a spec', () => {
    const actor = createActor(containerMachine, { input: { name: 'x_y_1', restartPolicy: { condition: 'any', delayMs: 0, windowMs: 0 }, hasHealthcheck: false, stopGracePeriodMs: 0 } });
    actor.start();
    actor.send({ type: 'START' });
    expect(actor.getSnapshot().value).toBe('failed');
  });
});
