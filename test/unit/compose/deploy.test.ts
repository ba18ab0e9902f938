import { describe, expect, it } from 'vitest';
import { composeCodes } from '../../../src/compose/compose-codes.ts';
import { restartPolicyDefaults, updateConfigDefaults } from '../../../src/compose/normalize-deploy.ts';
import { service, serviceErrors } from './load-helper.ts';

describe('deploy defaults (Docker Swarm semantics)', () => {
  it('a service without deploy gets one replica and the Swarm defaults', () => {
    expect(service('image: nginx').deploy).toEqual({
      mode: 'replicated',
      replicas: 1,
      placement: { constraints: [], preferences: [] },
      resources: { limits: {}, reservations: {} },
      restartPolicy: { condition: 'any', delayMs: 5000, windowMs: 0 },
      updateConfig: { parallelism: 1, delayMs: 0, failureAction: 'pause', monitorMs: 5000, maxFailureRatio: 0, order: 'stop-first' },
      rollbackConfig: { parallelism: 1, delayMs: 0, failureAction: 'pause', monitorMs: 5000, maxFailureRatio: 0, order: 'stop-first' },
      labels: {},
    });
    expect(restartPolicyDefaults.delayMs).toBe(5000);
    expect(updateConfigDefaults.monitorMs).toBe(5000);
  });

  it('a full deploy block is normalized field by field', () => {
    const deploy = service(`image: nginx
deploy:
  mode: replicated
  replicas: 6
  labels: ["tier=web"]
  placement:
    constraints: ["node.labels.zone==eu"]
    preferences: [{ spread: node.labels.rack }]
    max_replicas_per_node: 2
  resources:
    limits: { cpus: "0.5", memory: 512m, pids: 100 }
    reservations: { cpus: 0.25, memory: 128M }
  restart_policy:
    condition: on-failure
    delay: 2s
    max_attempts: 3
    window: 2m
  update_config:
    parallelism: 2
    delay: 10s
    failure_action: rollback
    monitor: 30s
    max_failure_ratio: 0.1
    order: start-first
  rollback_config:
    parallelism: 0
    failure_action: continue
    order: stop-first`).deploy;
    expect(deploy).toEqual({
      mode: 'replicated',
      replicas: 6,
      placement: { constraints: ['node.labels.zone==eu'], preferences: [{ spread: 'node.labels.rack' }], maxReplicasPerNode: 2 },
      resources: { limits: { cpus: 0.5, memoryBytes: 512 * 1024 ** 2, pids: 100 }, reservations: { cpus: 0.25, memoryBytes: 128 * 1024 ** 2 } },
      restartPolicy: { condition: 'on-failure', delayMs: 2000, maxAttempts: 3, windowMs: 120_000 },
      updateConfig: { parallelism: 2, delayMs: 10_000, failureAction: 'rollback', monitorMs: 30_000, maxFailureRatio: 0.1, order: 'start-first' },
      rollbackConfig: { parallelism: 0, delayMs: 0, failureAction: 'continue', monitorMs: 5000, maxFailureRatio: 0, order: 'stop-first' },
      labels: { tier: 'web' },
    });
  });

  it('global mode runs one per node and refuses replicas', () => {
    expect(service('image: nginx\ndeploy: { mode: global }').deploy).toMatchObject({ mode: 'global', replicas: 1 });
    expect(serviceErrors('image: nginx\ndeploy: { mode: global, replicas: 3 }')[0]).toMatchObject({ code: composeCodes.invalidDeploy, path: 'services.svc.deploy.replicas' });
  });

  it('job modes are refused by name', () => {
    expect(serviceErrors('image: nginx\ndeploy: { mode: replicated-job }')[0]).toMatchObject({ code: composeCodes.invalidDeploy, path: 'services.svc.deploy.mode' });
  });

  it('scale is the same as replicas; disagreeing values are refused', () => {
    expect(service('image: nginx\nscale: 4').deploy.replicas).toBe(4);
    expect(serviceErrors('image: nginx\nscale: 4\ndeploy: { replicas: 2 }')[0]!.path).toBe('services.svc.scale');
  });

  it('the legacy cpus/mem_limit/mem_reservation/pids_limit keys feed deploy.resources', () => {
    expect(service('image: nginx\ncpus: 1.5\nmem_limit: 1g\nmem_reservation: 256m\npids_limit: 50').deploy.resources).toEqual({
      limits: { cpus: 1.5, memoryBytes: 1024 ** 3, pids: 50 }, reservations: { memoryBytes: 256 * 1024 ** 2 },
    });
  });

  it.each([
    ['replicas: -1', 'services.svc.deploy.replicas', composeCodes.invalidNumber],
    ['replicas: "many"', 'services.svc.deploy.replicas', composeCodes.invalidNumber],
    ['resources: { limits: { memory: lots } }', 'services.svc.deploy.resources.limits.memory', composeCodes.invalidSize],
    ['restart_policy: { delay: soon }', 'services.svc.deploy.restart_policy.delay', composeCodes.invalidDuration],
    ['restart_policy: { condition: always }', 'services.svc.deploy.restart_policy.condition', composeCodes.invalidDeploy],
    ['rollback_config: { failure_action: rollback }', 'services.svc.deploy.rollback_config.failure_action', composeCodes.invalidDeploy],
    ['update_config: { max_failure_ratio: 2 }', 'services.svc.deploy.update_config.max_failure_ratio', composeCodes.invalidNumber],
  ])('deploy.%s is refused at %s', (body, path, code) => {
    const errors = serviceErrors(`image: nginx\ndeploy:\n  ${body}`);
    expect(errors[0]).toMatchObject({ code, path, service: 'svc' });
    expect(errors[0]!.line).toBeGreaterThanOrEqual(4);
  });
});

describe('restart: maps to deploy.restart_policy when that is absent', () => {
  it.each([
    [undefined, { condition: 'any', delayMs: 5000, windowMs: 0 }],
    ['"no"', { condition: 'none', delayMs: 5000, windowMs: 0 }],
    ['always', { condition: 'any', delayMs: 5000, windowMs: 0 }],
    ['unless-stopped', { condition: 'any', delayMs: 5000, windowMs: 0 }],
    ['on-failure', { condition: 'on-failure', delayMs: 5000, windowMs: 0 }],
    ['on-failure:5', { condition: 'on-failure', delayMs: 5000, maxAttempts: 5, windowMs: 0 }],
  ])('restart: %s', (restart, policy) => {
    const svc = service(`image: nginx${restart === undefined ? '' : `\nrestart: ${restart}`}`);
    expect(svc.deploy.restartPolicy).toEqual(policy);
    if (restart !== undefined) expect(svc.restart).toBe(restart.replace(/"/g, '').replace(/:\d+$/, ''));
  });

  it('deploy.restart_policy wins over restart:', () => {
    expect(service('image: nginx\nrestart: "no"\ndeploy:\n  restart_policy: { condition: any }').deploy.restartPolicy.condition).toBe('any');
  });

  it('an unknown restart value is refused', () => {
    expect(serviceErrors('image: nginx\nrestart: sometimes')[0]).toMatchObject({ code: composeCodes.invalidRestart, path: 'services.svc.restart', line: 4 });
  });
});
