import { describe, expect, it } from 'vitest';
import { composeCodes } from '../../../src/compose/compose-codes.ts';
import { loadErrors, loadOk } from './load-helper.ts';

describe('placement rules in a compose file', () => {
  it('refuses a constraint on an attribute nodes do not have, naming file, line, key and service', () => {
    const content = [
      'services:',
      '  web:',
      '    image: busybox',
      '    deploy:',
      '      placement:',
      '        constraints:',
      '          - node.role == worker',
      '          - engine.labels.os == ubuntu',
      '        preferences:',
      '          - spread: node.platform.os',
      '',
    ].join('\n');
    const errors = loadErrors(content, { file: 'compose.yaml' });
    expect(errors).toEqual([
      expect.objectContaining({ code: composeCodes.unknownConstraintAttribute, file: 'compose.yaml', line: 8, path: 'services.web.deploy.placement.constraints[1]', service: 'web', message: expect.stringContaining('"engine.labels.os"') }),
      expect.objectContaining({ code: composeCodes.invalidPlacementPreference, file: 'compose.yaml', line: 10, path: 'services.web.deploy.placement.preferences[0]', service: 'web' }),
    ]);
  });

  it('refuses a constraint without == or !=', () => {
    const errors = loadErrors('services:\n  web:\n    image: busybox\n    deploy:\n      placement:\n        constraints: ["node.labels.zone=east"]\n');
    expect(errors.map((e) => e.code)).toEqual([composeCodes.invalidConstraint]);
  });

  it('loads every attribute Swarm constraints know of our nodes', () => {
    const constraints = ['node.id==abc', 'node.hostname!=h', 'node.role==manager', 'node.labels.zone==east', 'node.platform.os==linux', 'node.platform.arch==x86_64'];
    const { stack } = loadOk(`services:\n  web:\n    image: busybox\n    deploy:\n      placement:\n        constraints: ${JSON.stringify(constraints)}\n        preferences: [{ spread: node.labels.zone }]\n`);
    expect(stack.services[0]!.deploy.placement.constraints).toEqual(constraints);
  });
});
