import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness, type LogLine } from './agent-harness.ts';
import { service, stack } from './fixtures.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const WARN = 40;
const ERROR = 50;

/** Lines at warn or above, reduced to what an operator reads: level, message, where. */
function loud(logs: readonly LogLine[]) {
  return logs.filter((line) => line.level >= WARN).map((line) => ({ level: line.level, msg: line.msg, stack: line.stack, service: line.service, slot: line.slot }));
}

describe('the agent logs what an operator must hear about, with stack, service and slot', () => {
  it('a crash (non-zero exit) at warn, a clean run at nothing louder than info', async () => {
    h = await startHarness();
    await h.store.deploy(stack('app', [service('web', { replicas: 2 })]));
    await h.until(() => h!.agent.services()[0]?.converged === true, 'running');
    expect(loud(h.logs)).toEqual([]);
    h.runtime.kill(h.runtime.byName('app_web_2')!.id, 3);
    await h.until(() => h!.agent.containers()[1]?.state === 'backoff', 'restart scheduled');
    expect(loud(h.logs)).toEqual([{ level: WARN, msg: 'replica exited with code 3', stack: 'app', service: 'web', slot: 2 }]);
    expect(h.logs.find((line) => line.msg === 'restart scheduled')).toMatchObject({ level: 30, slot: 2, reason: expect.stringMatching(/^exited with code 3; restart 1 in /) });
  });

  it('a failed pull at warn with the pull error', async () => {
    h = await startHarness({ images: ['constellation-test/busybox:1'] });
    await h.store.deploy(stack('app', [service('web', { image: 'nope:1' })]));
    await h.until(() => h!.agent.containers()[0]?.state === 'backoff', 'retry scheduled');
    expect(loud(h.logs)).toEqual([{ level: WARN, msg: 'image pull failed', stack: 'app', service: 'web', slot: 1 }]);
    expect(h.logs.find((line) => line.msg === 'image pull failed')!.reason).toBe('image pull failed: image nope:1 not found');
  });

  it('an unhealthy replica at warn', async () => {
    h = await startHarness();
    const healthcheck = { test: ['CMD', 'true'], intervalMs: 1000, timeoutMs: 1000, retries: 3, startPeriodMs: 0, disable: false };
    await h.store.deploy(stack('app', [service('db', { healthcheck })]));
    await h.until(() => h!.runtime.byName('app_db_1')?.state === 'running', 'running');
    h.runtime.setHealth(h.runtime.byName('app_db_1')!.id, 'unhealthy');
    await h.until(() => h!.agent.containers()[0]?.state === 'backoff', 'replaced');
    expect(loud(h.logs)[0]).toEqual({ level: WARN, msg: 'replica unhealthy: its healthcheck failed; stopping it so the restart policy replaces it', stack: 'app', service: 'db', slot: 1 });
  });

  it('a failed service at error, once', async () => {
    h = await startHarness();
    await h.store.deploy(stack('app', [service('job', { restartPolicy: { condition: 'none', delayMs: 0, windowMs: 0 } })]));
    await h.until(() => h!.agent.services()[0]?.converged === true, 'running');
    h.runtime.kill(h.runtime.byName('app_job_1')!.id, 1);
    await h.until(() => h!.agent.services()[0]?.failed === true, 'failed');
    await h.clock.advance(20_000); // resyncs must not say it again
    expect(loud(h.logs)).toEqual([
      { level: WARN, msg: 'replica exited with code 1', stack: 'app', service: 'job', slot: 1 },
      { level: ERROR, msg: 'service failed', stack: 'app', service: 'job', slot: 1 },
    ]);
  });

  it('a replica that gives up (max_attempts) at error', async () => {
    h = await startHarness();
    await h.store.deploy(stack('app', [service('web', { restartPolicy: { condition: 'on-failure', delayMs: 0, windowMs: 0, maxAttempts: 1 } })]));
    await h.until(() => h!.agent.services()[0]?.converged === true, 'running');
    h.runtime.kill(h.runtime.byName('app_web_1')!.id, 1);
    await h.until(() => h!.agent.containers()[0]?.restarts === 1 && h!.agent.containers()[0]?.state === 'running', 'restarted once');
    h.runtime.kill(h.runtime.byName('app_web_1')!.id, 1);
    await h.until(() => h!.agent.services()[0]?.failed === true, 'gave up');
    expect(loud(h.logs).filter((line) => line.level === ERROR).map((line) => line.msg)).toEqual(['service failed', 'replica failed and will not be restarted']);
  });
});
