import { describe, expect, it } from 'vitest';
import { decideRestart } from '../../../src/orchestrator/restart/restart-policy.ts';
import { composeCodes } from '../../../src/compose/compose-codes.ts';
import { loadOk } from './load-helper.ts';

const file = (migrate: string) => [
  'services:',
  '  migrate:',
  '    image: x',
  ...migrate.split('\n').filter(Boolean).map((line) => `    ${line}`),
  '  api:',
  '    image: x',
  '    depends_on: { migrate: { condition: service_completed_successfully } }',
  '  worker:',
  '    image: x',
  '    depends_on: { migrate: { condition: service_completed_successfully } }',
  '',
].join('\n');

describe('a job others wait to complete (service_completed_successfully)', () => {
  it('without restart or deploy.restart_policy is restarted only on failure, with a warning naming it and its dependants', () => {
    const { stack, warnings } = loadOk(file(''));
    const migrate = stack.services.find((s) => s.name === 'migrate')!;
    expect(migrate.deploy.restartPolicy.condition).toBe('on-failure');
    // Done once it exited 0; retried when it failed.
    expect(decideRestart(migrate.deploy.restartPolicy, 0, [], 0)).toMatchObject({ restart: false, reason: 'exited-successfully' });
    expect(decideRestart(migrate.deploy.restartPolicy, 1, [], 0)).toMatchObject({ restart: true });
    expect(warnings).toEqual([expect.objectContaining({ severity: 'warning', code: composeCodes.restartPolicyDefaulted, service: 'migrate', path: 'services.migrate', line: 2 })]);
    expect(warnings[0]!.message).toMatch(/"api", "worker"/);
    // The dependants keep the orchestrator default.
    expect(stack.services.find((s) => s.name === 'api')!.deploy.restartPolicy.condition).toBe('any');
  });

  it.each([
    ['restart: always', 'any'],
    ['restart: "no"', 'none'],
    ['deploy: { restart_policy: { condition: any } }', 'any'],
  ])('an explicit %s is kept, without a warning', (yaml, condition) => {
    const { stack, warnings } = loadOk(file(yaml));
    expect(stack.services.find((s) => s.name === 'migrate')!.deploy.restartPolicy.condition).toBe(condition);
    expect(warnings.filter((w) => w.code === composeCodes.restartPolicyDefaulted)).toEqual([]);
  });

  it('service_started or service_healthy dependencies change nothing', () => {
    const { stack, warnings } = loadOk('services:\n  db: { image: x }\n  api:\n    image: x\n    depends_on: { db: { condition: service_started } }\n');
    expect(stack.services.find((s) => s.name === 'db')!.deploy.restartPolicy.condition).toBe('any');
    expect(warnings).toEqual([]);
  });
});
