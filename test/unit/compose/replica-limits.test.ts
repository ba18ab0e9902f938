import { describe, expect, it } from 'vitest';
import { composeCodes } from '../../../src/compose/compose-codes.ts';
import { maxReplicasPerService, maxReplicasPerStack } from '../../../src/compose/replica-limits.ts';
import { loadErrors, loadOk, service, serviceErrors } from './load-helper.ts';

describe('replica limits (each replica is a supervised actor in the daemon)', () => {
  it('the limits are 1000 per service and 1000 per stack', () => {
    expect(maxReplicasPerService).toBe(1000);
    expect(maxReplicasPerStack).toBe(1000);
  });

  it('exactly the limit loads', () => {
    expect(service('image: x\ndeploy: { replicas: 1000 }').deploy.replicas).toBe(1000);
    expect(service('image: x\nscale: 1000').deploy.replicas).toBe(1000);
  });

  it('one more than the limit is refused at deploy.replicas with file, line, key and service', () => {
    const errors = loadErrors('services:\n  web:\n    image: x\n    deploy:\n      replicas: 1001\n', { file: 'app/compose.yaml' });
    expect(errors).toEqual([expect.objectContaining({
      severity: 'error', code: composeCodes.tooManyReplicas, file: 'app/compose.yaml', line: 5, path: 'services.web.deploy.replicas', service: 'web',
    })]);
    expect(errors[0]!.message).toContain('1000');
  });

  it('a count that would exhaust memory is refused, also as a string and through scale', () => {
    expect(serviceErrors('image: x\ndeploy: { replicas: 100000000 }')[0]).toMatchObject({ code: composeCodes.tooManyReplicas, path: 'services.svc.deploy.replicas' });
    expect(serviceErrors('image: x\ndeploy: { replicas: "1e300" }')[0]!.code).toBe(composeCodes.tooManyReplicas);
    expect(serviceErrors('image: x\nscale: 5000')[0]).toMatchObject({ code: composeCodes.tooManyReplicas, path: 'services.svc.scale' });
  });

  it('the stack total is capped too, reported at the service that crosses it', () => {
    const errors = loadErrors(`services:
  a:
    image: x
    deploy: { replicas: 600 }
  b:
    image: x
    scale: 300
  c:
    image: x
    deploy:
      replicas: 101
`);
    expect(errors).toEqual([expect.objectContaining({ code: composeCodes.tooManyReplicas, path: 'services.c.deploy.replicas', line: 11, service: 'c' })]);
    expect(errors[0]!.message).toContain('1001');
  });

  it('a global service counts one replica toward the stack total', () => {
    const { stack } = loadOk('services:\n  a: { image: x, deploy: { replicas: 999 } }\n  g: { image: x, deploy: { mode: global } }\n');
    expect(stack.services.map((s) => s.deploy.replicas)).toEqual([999, 1]);
    const errors = loadErrors('services:\n  a: { image: x, deploy: { replicas: 999 } }\n  g: { image: x, deploy: { mode: global } }\n  h: { image: x, deploy: { mode: global } }\n');
    expect(errors[0]).toMatchObject({ code: composeCodes.tooManyReplicas, path: 'services.h', service: 'h' });
  });
});
