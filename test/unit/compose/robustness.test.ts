import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { interpolateString } from '../../../src/compose/interpolate.ts';
import { loadCompose } from '../../../src/compose/load-compose.ts';
import { parseDotenv } from '../../../src/compose/dotenv.ts';

describe('robustness', () => {
  it('escaping every "$" as "$$" round-trips any text through interpolation', () => {
    fc.assert(fc.property(fc.string(), (text) => {
      const result = interpolateString(text.replaceAll('$', () => '$$'), () => 'X');
      expect(result.errors).toEqual([]);
      expect(result.value).toBe(text);
    }));
  });

  it('the loader never throws on arbitrary text and reports every problem with a code', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (content) => {
      const result = loadCompose({ content, stackName: 's' });
      if (!result.ok) for (const error of result.errors) expect(error.code).toMatch(/^COMPOSE_[A-Z_]+$/);
    }), { numRuns: 300 });
  });

  it('the loader never throws on arbitrary YAML shaped like a compose file', () => {
    const scalar = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.boolean(), fc.constant(null));
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, scalar, fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 8 }), tie('node'), { maxKeys: 3 })),
    })).node;
    const keys = fc.constantFrom('image', 'ports', 'volumes', 'environment', 'deploy', 'healthcheck', 'command', 'depends_on', 'restart', 'devices', 'env_file', 'tmpfs', 'labels', 'scale', 'build');
    const serviceArb = fc.dictionary(keys, value, { maxKeys: 5 });
    fc.assert(fc.property(fc.dictionary(fc.constantFrom('a', 'b', 'c'), serviceArb, { minKeys: 1, maxKeys: 3 }), (services) => {
      const result = loadCompose({ content: stringify({ services }), stackName: 's', workingDir: '/nonexistent' });
      if (!result.ok) {
        for (const error of result.errors) {
          expect(error.code).toMatch(/^COMPOSE_[A-Z_]+$/);
          expect(error.code).not.toBe('COMPOSE_INTERNAL_ERROR');
        }
      }
    }), { numRuns: 300 });
  });

  it('the .env parser never throws', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (content) => {
      parseDotenv(content);
    }), { numRuns: 300 });
  });
});
