import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../src/api/api-error.ts';
import { assertValidStackName } from '../../../src/api/stack-name.ts';
import { composeCodes } from '../../../src/compose/compose-codes.ts';
import { loadCompose } from '../../../src/compose/load-compose.ts';
import { isValidStackName, stackNameFromDirectory } from '../../../src/compose/stack-name.ts';

const content = 'services:\n  svc: { image: x }\n';

function apiAccepts(name: string): boolean {
  try {
    assertValidStackName(name, 'stack');
    return true;
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return false;
  }
}

// Container names are <stack>_<service>_<slot>: "_" in a stack name would make them ambiguous.
describe('one stack name rule for the loader (--dry-run), the API and the CLI', () => {
  it.each(['my_app', 'a_b', 'x'.repeat(64)])('the loader refuses %j, as the API does', (name) => {
    const explicit = loadCompose({ content, stackName: name });
    expect(explicit.ok).toBe(false);
    if (!explicit.ok) expect(explicit.errors[0]!.code).toBe(composeCodes.invalidStackName);
    const inFile = loadCompose({ content: `name: ${name}\n${content}`, file: 'compose.yaml' });
    expect(inFile).toMatchObject({ ok: false, errors: [{ code: composeCodes.invalidStackName, path: 'name', line: 1 }] });
    expect(apiAccepts(name)).toBe(false);
  });

  it.each(['a', 'shop', 'shop-2', '0day', 'x'.repeat(63)])('%j is accepted by all', (name) => {
    expect(loadCompose({ content, stackName: name }).ok).toBe(true);
    expect(apiAccepts(name)).toBe(true);
    expect(isValidStackName(name)).toBe(true);
  });

  it('the loader and the API agree on every name', () => {
    const nameish = fc.oneof(fc.string({ maxLength: 70 }), fc.stringMatching(/^[a-z0-9_.-]{0,66}$/));
    fc.assert(fc.property(nameish, (name) => {
      expect(loadCompose({ content, stackName: name }).ok).toBe(apiAccepts(name));
    }), { numRuns: 300 });
  });

  it('a name derived from a directory is always valid, or empty', () => {
    expect(stackNameFromDirectory('My_Project.v2')).toBe('my-project-v2');
    expect(stackNameFromDirectory('__')).toBe('');
    expect(stackNameFromDirectory(`${'a'.repeat(62)}_b`)).toBe('a'.repeat(62));
    fc.assert(fc.property(fc.string({ maxLength: 100 }), (dir) => {
      const derived = stackNameFromDirectory(dir);
      expect(derived === '' || isValidStackName(derived)).toBe(true);
    }), { numRuns: 500 });
  });

  it('the loader derives from the directory with the same rule; an empty name: means unset', () => {
    expect(loadCompose({ content, file: '/srv/My_App/compose.yaml' })).toMatchObject({ ok: true, stack: { name: 'my-app' } });
    expect(loadCompose({ content: `name: ""\n${content}`, file: '/srv/shop/compose.yaml' })).toMatchObject({ ok: true, stack: { name: 'shop' } });
    expect(loadCompose({ content, file: '/__/compose.yaml' })).toMatchObject({ ok: false, errors: [{ code: composeCodes.invalidStackName }] });
  });
});
