import { afterEach, describe, expect, it } from 'vitest';
import { runningNames, startHarness, type Harness } from './agent-harness.ts';
import { service, stack } from './fixtures.ts';
import { LABEL_NODE, LABEL_SERVICE, LABEL_SLOT, LABEL_SPEC_HASH, LABEL_STACK } from '../../../src/agent/labels.ts';
import { serviceSpecHash } from '../../../src/agent/spec-hash.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const converged = (harness: Harness) => harness.agent.services().length > 0 && harness.agent.services().every((s) => s.converged);

describe('node agent on the simulated engine', () => {
  it('deploys every replica with our labels and names', async () => {
    h = await startHarness();
    await h.store.deploy(stack('app', [service('web', { replicas: 3 })]));
    await h.until(() => converged(h!), 'web converged');
    expect(runningNames(h.runtime)).toEqual(['app_web_1', 'app_web_2', 'app_web_3']);
    const c = h.runtime.byName('app_web_2')!;
    expect(c.labels).toMatchObject({ [LABEL_STACK]: 'app', [LABEL_SERVICE]: 'web', [LABEL_SLOT]: '2', [LABEL_NODE]: 'n1', [LABEL_SPEC_HASH]: serviceSpecHash(service('web', { replicas: 3 })) });
    expect(h.agent.services()).toEqual([expect.objectContaining({ stack: 'app', service: 'web', desiredReplicas: 3, running: 3, healthy: 0, healthcheck: false, converged: true, failed: false })]);
    expect(h.agent.containers().map((v) => [v.name, v.state])).toEqual([['app_web_1', 'running'], ['app_web_2', 'running'], ['app_web_3', 'running']]);
  });

  it('scales down and up by redeploying', async () => {
    h = await startHarness();
    await h.store.deploy(stack('app', [service('web', { replicas: 3 })]));
    await h.until(() => converged(h!), 'three replicas');
    const firstId = h.runtime.byName('app_web_1')!.id;
    await h.store.deploy(stack('app', [service('web', { replicas: 1 })]));
    await h.until(() => h!.runtime.snapshot().length === 1 && converged(h!), 'scaled to one');
    expect(runningNames(h.runtime)).toEqual(['app_web_1']);
    await h.store.deploy(stack('app', [service('web', { replicas: 4 })]));
    await h.until(() => runningNames(h!.runtime).length === 4 && converged(h!), 'scaled to four');
    // The replica count is not part of a replica's spec hash: scaling never restarts a survivor.
    expect(h.runtime.byName('app_web_1')!.id).toBe(firstId);
    expect(h.runtime.calls.filter((c) => c === 'start app_web_1')).toHaveLength(1);
  });

  it('removes a stack and all its containers', async () => {
    h = await startHarness();
    await h.store.deploy(stack('app', [service('web', { replicas: 2 }), service('db')]));
    await h.store.deploy(stack('other', [service('x')]));
    await h.until(() => runningNames(h!.runtime).length === 4, 'four running');
    await h.store.removeStack('app');
    await h.until(() => h!.runtime.snapshot().length === 1, 'app containers removed');
    expect(runningNames(h.runtime)).toEqual(['other_x_1']);
    expect(h.agent.containers().map((c) => c.name)).toEqual(['other_x_1']);
  });

  it('restarts a killed container per its policy, in place', async () => {
    h = await startHarness();
    await h.store.deploy(stack('app', [service('web', { restartPolicy: { condition: 'on-failure', delayMs: 1000, windowMs: 0 } })]));
    await h.until(() => converged(h!), 'running');
    const before = h.runtime.byName('app_web_1')!;
    h.runtime.kill(before.id, 1);
    await h.until(() => h!.agent.containers()[0]?.state === 'backoff', 'backing off');
    await h.until(() => h!.runtime.byName('app_web_1')?.state === 'running', 'restarted');
    const after = h.runtime.byName('app_web_1')!;
    expect(after.id).toBe(before.id);
    expect(h.agent.containers()[0]!.restarts).toBe(1);
    // The policy's delay (1000 ms) passed on the injected clock between the crash and the restart.
    expect(after.startedAtMs! - before.startedAtMs!).toBeGreaterThanOrEqual(1000);
  });

  it('leaves a container exited when the condition is none, and says so', async () => {
    h = await startHarness();
    await h.store.deploy(stack('app', [service('job', { restartPolicy: { condition: 'none', delayMs: 0, windowMs: 0 } })]));
    await h.until(() => converged(h!), 'running');
    h.runtime.kill(h.runtime.byName('app_job_1')!.id, 3);
    await h.until(() => h!.agent.containers()[0]?.state === 'exited', 'exited');
    await h.clock.advance(30_000); // several resync passes: none may restart or recreate it
    expect(h.runtime.byName('app_job_1')!.state).toBe('exited');
    expect(h.runtime.calls.filter((c) => c.startsWith('start'))).toHaveLength(1);
    expect(h.agent.services()[0]).toMatchObject({ running: 0, converged: false, failed: true });
    expect(h.agent.services()[0]!.message).toMatch(/app_job_1 exited with code 3/);
  });

  it('counts a job that exited 0 without restart as completed (converged), and unblocks its dependants', async () => {
    h = await startHarness();
    const migrate = service('migrate', { restartPolicy: { condition: 'on-failure', delayMs: 0, windowMs: 0 } });
    const api = service('api', { dependsOn: { migrate: { condition: 'service_completed_successfully', required: true, restart: false } } });
    await h.store.deploy(stack('app', [migrate, api]));
    await h.until(() => h!.runtime.byName('app_migrate_1')?.state === 'running', 'migrate running');
    expect(h.runtime.byName('app_api_1')).toBeUndefined();
    h.runtime.kill(h.runtime.byName('app_migrate_1')!.id, 0);
    await h.until(() => converged(h!), 'both converged');
    expect(h.agent.services()).toEqual([
      expect.objectContaining({ service: 'migrate', running: 0, converged: true, failed: false }),
      expect.objectContaining({ service: 'api', running: 1, converged: true }),
    ]);
  });

  it('marks the service failed when max attempts are exhausted', async () => {
    h = await startHarness();
    await h.store.deploy(stack('app', [service('web', { restartPolicy: { condition: 'any', delayMs: 100, maxAttempts: 1, windowMs: 0 } })]));
    await h.until(() => converged(h!), 'running');
    h.runtime.kill(h.runtime.byName('app_web_1')!.id, 1);
    await h.until(() => h!.runtime.byName('app_web_1')?.state === 'running', 'restarted once');
    h.runtime.kill(h.runtime.byName('app_web_1')!.id, 1);
    await h.until(() => h!.agent.services()[0]!.failed, 'failed');
    expect(h.agent.services()[0]!.message).toMatch(/max_attempts/);
  });

  it('starts dependants only once their service_healthy dependency is healthy', async () => {
    h = await startHarness();
    const db = service('db', { healthcheck: { test: ['CMD', 'true'], intervalMs: 1000, timeoutMs: 1000, retries: 3, startPeriodMs: 0, disable: false } });
    const web = service('web', { dependsOn: { db: { condition: 'service_healthy', required: true, restart: false } } });
    await h.store.deploy(stack('app', [db, web]));
    await h.until(() => h!.runtime.byName('app_db_1')?.state === 'running', 'db running');
    await h.clock.advance(20_000);
    expect(h.runtime.byName('app_web_1')).toBeUndefined();
    expect(h.agent.services().find((s) => s.service === 'web')!.message).toMatch(/waiting for db: 0\/1 healthy/);
    expect(h.agent.services().find((s) => s.service === 'db')).toMatchObject({ running: 1, healthy: 0, healthcheck: true, converged: false });
    h.runtime.setHealth(h.runtime.byName('app_db_1')!.id, 'healthy');
    await h.until(() => converged(h!), 'both converged');
    // Healthy counts only what a healthcheck reported: db has one, web (running) has none.
    expect(h.agent.services().map((s) => [s.service, s.running, s.healthy, s.healthcheck])).toEqual([['db', 1, 1, true], ['web', 1, 0, false]]);
    expect(h.runtime.calls.filter((c) => c.startsWith('start'))).toEqual(['start app_db_1', 'start app_web_1']);
  });

  it('counts the replicas a scale-down is removing until they are gone', async () => {
    h = await startHarness();
    await h.store.deploy(stack('app', [service('web', { replicas: 3 })]));
    await h.until(() => converged(h!), 'three replicas');
    // The engine refuses the first removals: the two extra replicas stay on their way out a while.
    h.runtime.failNext('remove', 'engine_error', 4);
    await h.store.deploy(stack('app', [service('web', { replicas: 1 })]));
    await h.until(() => h!.agent.services()[0]?.removing === 2, 'two removing');
    expect(h.agent.services()[0]).toMatchObject({ running: 1, desiredReplicas: 1, removing: 2, converged: false });
    await h.until(() => converged(h!), 'scaled to one');
    expect(h.agent.services()[0]).toMatchObject({ running: 1, removing: 0 });
  });

  it('replaces containers whose spec changed, keeps the others', async () => {
    h = await startHarness();
    await h.store.deploy(stack('app', [service('web', { replicas: 2 }), service('db')]));
    await h.until(() => converged(h!), 'v1');
    const dbId = h.runtime.byName('app_db_1')!.id;
    const webIds = [h.runtime.byName('app_web_1')!.id, h.runtime.byName('app_web_2')!.id];
    const web2 = service('web', { replicas: 2, environment: { VERSION: '2' } });
    await h.store.deploy(stack('app', [web2, service('db')]));
    await h.until(() => converged(h!) && h!.runtime.byName('app_web_1')?.labels[LABEL_SPEC_HASH] === serviceSpecHash(web2) && h!.runtime.byName('app_web_2')?.labels[LABEL_SPEC_HASH] === serviceSpecHash(web2), 'v2');
    expect(h.runtime.byName('app_db_1')!.id).toBe(dbId);
    expect(webIds).not.toContain(h.runtime.byName('app_web_1')!.id);
    expect(webIds).not.toContain(h.runtime.byName('app_web_2')!.id);
  });

  it('removes orphans carrying our labels and leaves foreign containers alone', async () => {
    h = await startHarness();
    await h.runtime.create({ name: 'gone_svc_1', image: 'i', env: {}, ports: [], mounts: [], capAdd: [], capDrop: [], devices: [], labels: { [LABEL_STACK]: 'gone', [LABEL_SERVICE]: 'svc', [LABEL_SLOT]: '1', [LABEL_SPEC_HASH]: 'x', [LABEL_NODE]: 'n1' } });
    await h.runtime.create({ name: 'foreign', image: 'i', env: {}, ports: [], mounts: [], capAdd: [], capDrop: [], devices: [], labels: {} });
    await h.runtime.create({ name: 'othernode_svc_1', image: 'i', env: {}, ports: [], mounts: [], capAdd: [], capDrop: [], devices: [], labels: { [LABEL_STACK]: 'gone', [LABEL_SERVICE]: 'svc', [LABEL_SLOT]: '1', [LABEL_SPEC_HASH]: 'x', [LABEL_NODE]: 'n2' } });
    h.runtime.calls.length = 0;
    await h.agent.stop();
    await h.restartAgent();
    await h.until(() => h!.runtime.byName('gone_svc_1') === undefined, 'orphan removed');
    expect(h.runtime.snapshot().map((c) => c.name).sort()).toEqual(['/foreign', '/othernode_svc_1']);
  });

  it('adopts running containers after an agent restart without restarting them', async () => {
    h = await startHarness();
    await h.store.deploy(stack('app', [service('web', { replicas: 3 })]));
    await h.until(() => converged(h!), 'running');
    const before = h.runtime.snapshot();
    const callsBefore = h.runtime.calls.length;
    await h.restartAgent();
    await h.until(() => converged(h!), 'adopted');
    await h.clock.advance(15_000);
    expect(h.runtime.snapshot()).toEqual(before);
    expect(h.runtime.calls.slice(callsBefore)).toEqual([]);
  });

  it('recovers the event stream after the engine restarts and fixes what it missed', async () => {
    h = await startHarness();
    await h.store.deploy(stack('app', [service('web', { replicas: 2 })]));
    await h.until(() => converged(h!), 'running');
    h.runtime.goDown(); // containers die silently: no events reach the agent
    await h.until(() => h!.events.some((e) => e.type === 'engine-stream' && !e.connected), 'stream end noticed');
    await h.clock.advance(3000); // a few failed re-subscriptions
    expect(h.engineErrors.filter((op) => op === 'events').length).toBeGreaterThanOrEqual(2);
    h.runtime.comeBack();
    await h.until(() => h!.runtime.openStreams() === 1 && runningNames(h!.runtime).length === 2 && converged(h!), 'stream back and replicas restarted');
    // The stream works again: a kill is seen and handled.
    const id = h.runtime.byName('app_web_1')!.id;
    const restarts = h.agent.containers()[0]!.restarts;
    h.runtime.kill(id, 1);
    await h.until(() => h!.agent.containers()[0]!.restarts === restarts + 1 && h!.runtime.byName('app_web_1')?.state === 'running', 'restart after recovery');
  });

  it('a missed die event is fixed by the periodic resync', async () => {
    h = await startHarness();
    await h.store.deploy(stack('app', [service('web')]));
    await h.until(() => converged(h!), 'running');
    h.runtime.breakStreams();
    const id = h.runtime.byName('app_web_1')!.id;
    h.runtime.kill(id, 1); // no stream open: nobody hears it
    await h.until(() => h!.agent.containers()[0]!.restarts === 1 && h!.runtime.byName('app_web_1')?.state === 'running', 'restarted after resync');
  });

  it('retries engine errors on create, counts them, and converges', async () => {
    h = await startHarness();
    h.runtime.failNext('create', 'engine_unavailable', 3);
    await h.store.deploy(stack('app', [service('web')]));
    await h.until(() => converged(h!), 'running despite errors');
    expect(h.engineErrors.filter((op) => op === 'create')).toHaveLength(3);
  });

  it('a failed pull is retried as the restart policy says, and the replica says why and when', async () => {
    h = await startHarness({ images: ['constellation-test/busybox:1'] });
    await h.store.deploy(stack('app', [service('web', { image: 'nope:1', restartPolicy: { condition: 'any', delayMs: 5000, windowMs: 0 } })]));
    await h.until(() => h!.agent.containers()[0]?.state === 'backoff', 'waiting to retry the pull');
    // The pull's own error, not the create's "No such image", and when the next attempt is.
    expect(h.agent.containers()[0]!.message).toMatch(/^image pull failed: image nope:1 not found; restart 1 in 5\.0 s \(at \d\d:\d\d:\d\d UTC\)$/);
    expect(h.agent.services()[0]).toMatchObject({ failed: false, converged: false });
    await h.clock.advance(5000);
    await h.until(() => h!.agent.containers()[0]?.restarts === 2, 'pulled again, failed again');
    expect(h.agent.containers()[0]!.message).toMatch(/restart 2 in 10\.0 s/);
  });

  it('a failed pull under restart_policy none fails the service, naming the pull error', async () => {
    h = await startHarness({ images: ['constellation-test/busybox:1'] });
    await h.store.deploy(stack('app', [service('web', { image: 'nope:1', restartPolicy: { condition: 'none', delayMs: 0, windowMs: 0 } })]));
    await h.until(() => h!.agent.services()[0]?.failed === true, 'failed');
    expect(h.agent.services()[0]!.message).toBe('app_web_1: image pull failed: image nope:1 not found; its restart policy does not retry it');
  });

  it('recreates a container removed behind its back', async () => {
    h = await startHarness();
    await h.store.deploy(stack('app', [service('web')]));
    await h.until(() => converged(h!), 'running');
    const id = h.runtime.byName('app_web_1')!.id;
    h.runtime.destroy(id);
    await h.until(() => h!.runtime.byName('app_web_1') !== undefined && h!.runtime.byName('app_web_1')!.id !== id && converged(h!), 'recreated');
  });

  it('detaches an inspector', async () => {
    h = await startHarness();
    const seen: string[] = [];
    const detach = h.agent.attachInspector((e) => seen.push(e.type));
    await h.store.deploy(stack('app', [service('web')]));
    await h.until(() => converged(h!), 'running');
    expect(seen).toContain('@xstate.event');
    detach();
    const count = seen.length;
    await h.store.deploy(stack('app', [service('web', { replicas: 2 })]));
    await h.until(() => converged(h!) && h!.agent.containers().length === 2, 'scaled');
    expect(seen.length).toBe(count);
  });

  it('on a name conflict (a container the last listing missed) reuses ours and replaces a stale one', async () => {
    h = await startHarness();
    await h.until(() => h!.events.some((e) => e.type === 'engine-listed'), 'first listing');
    const web = service('web', { replicas: 2 });
    const labels = (slot: number, specHash: string) => ({ [LABEL_STACK]: 'app', [LABEL_SERVICE]: 'web', [LABEL_SLOT]: String(slot), [LABEL_SPEC_HASH]: specHash, [LABEL_NODE]: 'n1' });
    const base = { image: 'constellation-test/busybox:1', env: {}, ports: [], mounts: [], capAdd: [], capDrop: [], devices: [] };
    // Created behind the agent's back after its listing: it does not know these names are taken.
    const same = await h.runtime.create({ ...base, name: 'app_web_1', labels: labels(1, serviceSpecHash(web)) });
    await h.runtime.start(same);
    const stale = await h.runtime.create({ ...base, name: 'app_web_2', labels: labels(2, 'old') });
    await h.store.deploy(stack('app', [web]));
    await h.until(() => converged(h!), 'converged');
    expect(h.runtime.byName('app_web_1')!.id).toBe(same);
    expect(h.runtime.byName('app_web_2')!.id).not.toBe(stale);
    expect(h.runtime.byName('app_web_2')!.labels[LABEL_SPEC_HASH]).toBe(serviceSpecHash(web));
    expect(h.runtime.snapshot()).toHaveLength(2);
    // Both were found through the create conflict, not through a later listing.
    expect(h.engineErrors.filter((op) => op === 'create')).toHaveLength(2);
    expect(h.events.filter((e) => e.type === 'engine-listed')).toHaveLength(1);
  });
});
