import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { interpolateString } from '../../../src/compose/interpolate.ts';
import { loadCompose, type LoadComposeResult } from '../../../src/compose/load-compose.ts';
import { parseDotenv } from '../../../src/compose/dotenv.ts';

function expectCodedWithoutInternalError(result: LoadComposeResult): void {
  if (result.ok) return;
  for (const error of result.errors) {
    expect(error.code).toMatch(/^COMPOSE_[A-Z_]+$/);
    expect(error.code, error.message).not.toBe('COMPOSE_INTERNAL_ERROR');
  }
}

describe('robustness', () => {
  it('escaping every "$" as "$$" round-trips any text through interpolation', () => {
    fc.assert(fc.property(fc.string(), (text) => {
      const result = interpolateString(text.replaceAll('$', () => '$$'), () => 'X');
      expect(result.errors).toEqual([]);
      expect(result.value).toBe(text);
    }));
  });

  it('the loader handles arbitrary text without an internal error, and codes every problem', () => {
    // The loader's catch-all turns a throw into COMPOSE_INTERNAL_ERROR, so "never throws" holds
    // even for a loader that throws on every input: what must hold is that it never gets there.
    const composeLines = fc.array(fc.constantFrom(
      'services:', '  web:', '    image: busybox', '    ports: [', '  - x', '${A:?}', '    deploy: {replicas: -1}', ':', '&a *a', '<<: *b', '\t',
      '    command: "a', '    environment: {__proto__: x}', '    volumes: ["/:/host"]', 'name: $$x', '    env_file: .env',
    ), { maxLength: 8 }).map((lines) => lines.join('\n'));
    fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 200 }), composeLines), (content) => {
      expectCodedWithoutInternalError(loadCompose({ content, stackName: 's' }));
    }), { numRuns: 300 });
  });

  it('the loader handles arbitrary YAML shaped like a compose file without an internal error', () => {
    const scalar = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.boolean(), fc.constant(null));
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, scalar, fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 8 }), tie('node'), { maxKeys: 3 })),
    })).node;
    const keys = fc.constantFrom('image', 'ports', 'volumes', 'environment', 'deploy', 'healthcheck', 'command', 'depends_on', 'restart', 'devices', 'env_file', 'tmpfs', 'labels', 'scale', 'build');
    const serviceArb = fc.dictionary(keys, value, { maxKeys: 5 });
    fc.assert(fc.property(fc.dictionary(fc.constantFrom('a', 'b', 'c'), serviceArb, { minKeys: 1, maxKeys: 3 }), (services) => {
      expectCodedWithoutInternalError(loadCompose({ content: stringify({ services }), stackName: 's', workingDir: '/nonexistent' }));
    }), { numRuns: 300 });
  });

  it('the .env parser never throws', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (content) => {
      parseDotenv(content);
    }), { numRuns: 300 });
  });
});
