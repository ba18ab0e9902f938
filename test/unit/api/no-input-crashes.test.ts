import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApi, testDeps, type TestDeps, type TestApi } from './fake-deps.ts';

// Whatever arrives, the API answers with a status below 500 and a well-formed body: either an
// accepted deploy or {error: {code, message, diagnostics}} — and a refused one changes nothing.
let deps: TestDeps;
let app: TestApi;

beforeAll(async () => {
  deps = testDeps();
  app = await buildTestApi(deps);
});

afterAll(async () => {
  await app.close();
});

function checkAnswer(status: number, body: string): void {
  expect(status).toBeLessThan(500);
  const parsed = JSON.parse(body) as { error?: { code: unknown; message: unknown; diagnostics: unknown }; stack?: unknown };
  if (status >= 400) {
    expect(typeof parsed.error?.code).toBe('string');
    expect(typeof parsed.error?.message).toBe('string');
    expect(Array.isArray(parsed.error?.diagnostics)).toBe(true);
  } else {
    expect(status).toBe(202);
    expect(typeof parsed.stack).toBe('string');
  }
}

const yamlish = fc.oneof(
  fc.string(),
  fc.jsonValue().map((value) => JSON.stringify(value)),
  fc.array(fc.constantFrom('services:', '  web:', '    image: busybox', '    ports: [', '  - x', '${A:?}', '    deploy: {replicas: -1}', ':', '&a *a', '<<: *b', '\t', '    command: "a'), { maxLength: 8 }).map((lines) => lines.join('\n')),
);

describe('no input crashes the API', () => {
  it('arbitrary compose text in a JSON deploy', async () => {
    await fc.assert(fc.asyncProperty(yamlish, fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }), async (compose, env) => {
      const before = deps.store.submitted.length;
      const res = await app.inject({ method: 'POST', url: '/v1/deploy', payload: { stack: 'fuzz', compose, env } });
      checkAnswer(res.statusCode, res.body);
      if (res.statusCode !== 202) expect(deps.store.submitted.length).toBe(before);
    }), { numRuns: 100 });
  });

  it('arbitrary JSON bodies and raw bodies with any content type', async () => {
    await fc.assert(fc.asyncProperty(
      fc.jsonValue(),
      fc.string(),
      fc.constantFrom('application/json', 'application/yaml', 'text/plain', 'application/xml', 'multipart/form-data', ''),
      fc.string({ maxLength: 20 }),
      async (json, raw, contentType, stack) => {
        const before = deps.store.submitted.length;
        const asJson = await app.inject({ method: 'POST', url: '/v1/deploy', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(json) });
        checkAnswer(asJson.statusCode, asJson.body);
        expect(deps.store.submitted.length).toBe(before);
        const asRaw = await app.inject({ method: 'POST', url: `/v1/deploy?stack=${encodeURIComponent(stack)}`, headers: contentType ? { 'content-type': contentType } : {}, payload: raw });
        checkAnswer(asRaw.statusCode, asRaw.body);
      },
    ), { numRuns: 100 });
  });

  it('arbitrary paths and methods', async () => {
    await fc.assert(fc.asyncProperty(fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'PATCH'), fc.webPath(), async (method, path) => {
      const res = await app.inject({ method, url: path === '' ? '/' : path });
      expect(res.statusCode).toBeLessThan(500);
    }), { numRuns: 100 });
  });
});
