import { describe, expect, it } from 'vitest';
import { constraintHolds, isConstraintError, parseConstraint, type Constraint } from '../../../src/scheduler/constraints.ts';
import { schedulerCodes } from '../../../src/scheduler/scheduler-codes.ts';
import { validateConstraints, validateStackPlacement } from '../../../src/scheduler/validate-placement.ts';
import { node, service } from './scheduler-harness.ts';

function parsed(text: string): Constraint {
  const result = parseConstraint(text);
  if (isConstraintError(result)) throw new Error(result.message);
  return result;
}

describe('placement constraints (Swarm syntax)', () => {
  const worker = node('n1', { hostname: 'alpha', role: 'worker', labels: { zone: 'east', Disk: 'ssd' }, platform: { os: 'linux', arch: 'x86_64' } });

  it.each([
    ['node.id==n1', true], ['node.id!=n1', false],
    ['node.hostname == alpha', true], ['node.hostname==beta', false],
    ['node.role==worker', true], ['node.role==manager', false], ['node.role != manager', true],
    ['node.labels.zone==east', true], ['node.labels.zone==west', false], ['node.labels.zone!=west', true],
    ['node.platform.os==linux', true], ['node.platform.os==windows', false],
    ['node.platform.arch==x86_64', true], ['node.platform.arch==amd64', true], ['node.platform.arch==arm64', false],
  ])('%s on a worker "alpha" in zone east → %s', (text, holds) => {
    expect(constraintHolds(parsed(text), worker)).toBe(holds);
  });

  it('compares attribute names and values without case, label names with case', () => {
    expect(constraintHolds(parsed('NODE.Role==WORKER'), worker)).toBe(true);
    expect(constraintHolds(parsed('node.labels.zone==EAST'), worker)).toBe(true);
    expect(constraintHolds(parsed('node.labels.Disk==ssd'), worker)).toBe(true);
    expect(constraintHolds(parsed('node.labels.disk==ssd'), worker)).toBe(false);
  });

  it('treats a label the node lacks as empty: == fails, != holds', () => {
    expect(constraintHolds(parsed('node.labels.gpu==yes'), worker)).toBe(false);
    expect(constraintHolds(parsed('node.labels.gpu!=yes'), worker)).toBe(true);
  });

  it.each([
    ['node.labels.zone', schedulerCodes.invalidConstraint],
    ['node.labels.zone=east', schedulerCodes.invalidConstraint],
    ['node.labels.zone==', schedulerCodes.invalidConstraint],
    ['node.role==manager==worker', schedulerCodes.invalidConstraint],
    ['engine.labels.os==ubuntu', schedulerCodes.unknownConstraintAttribute],
    ['node.name==alpha', schedulerCodes.unknownConstraintAttribute],
    ['node.labels.==x', schedulerCodes.unknownConstraintAttribute],
    ['constructor==x', schedulerCodes.unknownConstraintAttribute],
  ])('refuses "%s" with %s', (text, code) => {
    const result = parseConstraint(text);
    expect(isConstraintError(result) && result.code).toBe(code);
  });

  it('validates a service and names where each bad rule is', () => {
    const spec = service('web', { constraints: ['node.role==worker', 'node.rack==r1'], spread: ['node.labels.zone', 'engine.labels.dc'] });
    const problems = validateConstraints(spec);
    expect(problems).toEqual([
      { code: schedulerCodes.unknownConstraintAttribute, message: expect.stringContaining('"node.rack"'), service: 'web', path: ['deploy', 'placement', 'constraints', 1] },
      { code: schedulerCodes.invalidPreference, message: expect.stringContaining('node.labels.<label>'), service: 'web', path: ['deploy', 'placement', 'preferences', 1] },
    ]);
    expect(validateStackPlacement({ name: 's', services: [service('ok'), spec] })).toEqual(problems);
    expect(validateConstraints(service('fine', { constraints: ['node.labels.zone!=west'], spread: ['node.labels.zone'] }))).toEqual([]);
  });
});
