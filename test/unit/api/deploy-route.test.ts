import { describe, expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import { testDeps, type TestDeps } from './fake-deps.ts';
import { serverPerTest } from './server-per-test.ts';

const validCompose = `services:
  web:
    image: busybox:1
    command: ["httpd", "-f", "-p", "80"]
    deploy:
      replicas: 2
  worker:
    image: busybox:1
`;

const server = serverPerTest();

function deployJson(body: unknown) {
  return { method: 'POST' as const, url: '/v1/deploy', payload: body as Record<string, unknown> };
}

describe('POST /v1/deploy', () => {
  it('accepts a JSON deploy: normalizes, hashes and submits one deploy-stack command', async () => {
    const deps = testDeps();
    const res = await (await server(deps)).inject(deployJson({ stack: 'shop', compose: validCompose }));
    expect(res.statusCode).toBe(202);
    const body = res.json();
    expect(body).toMatchObject({ stack: 'shop', version: 1, services: ['web', 'worker'], warnings: [] });
    expect(body.specHash).toMatch(/^[0-9a-f]{16}$/);
    expect(deps.store.submitted).toHaveLength(1);
    const request = deps.store.submitted[0]!;
    expect(request.clientId).toBe('api:test');
    expect(request.command).toMatchObject({ type: 'deploy-stack', specHash: body.specHash, atMs: Date.UTC(2026, 0, 2, 3, 4, 5) });
    const command = request!.command as Extract<typeof request.command, { type: 'deploy-stack' }>;
    expect(command.stack.name).toBe('shop');
    expect(command.stack.services.find((s) => s.name === 'web')?.deploy.replicas).toBe(2);
  });

  it('accepts a raw YAML body with ?stack=', async () => {
    const deps = testDeps();
    const res = await (await server(deps)).inject({
      method: 'POST', url: '/v1/deploy?stack=shop', headers: { 'content-type': 'application/yaml' }, payload: validCompose,
    });
    expect(res.statusCode).toBe(202);
    expect(res.json().services).toEqual(['web', 'worker']);
    expect(deps.store.submitted).toHaveLength(1);
  });

  it('accepts compose JSON text in the compose field', async () => {
    const deps = testDeps();
    const compose = JSON.stringify({ services: { api: { image: 'busybox:1' } } });
    const res = await (await server(deps)).inject(deployJson({ stack: 'js', compose }));
    expect(res.statusCode).toBe(202);
    expect(res.json().services).toEqual(['api']);
  });

  it('interpolates from the env field, never from the daemon environment', async () => {
    const deps = testDeps();
    const compose = 'services:\n  web:\n    image: "busybox:${TAG}"\n';
    const res = await (await server(deps)).inject(deployJson({ stack: 'envy', compose, env: { TAG: '1.36' } }));
    expect(res.statusCode).toBe(202);
    const command = deps.store.submitted[0]!.command as unknown as { stack: { services: { image: string }[] } };
    expect(command.stack.services[0]!.image).toBe('busybox:1.36');
  });

  it('redeploying the same spec keeps the version; a changed spec bumps it', async () => {
    const deps = testDeps();
    const api = await server(deps);
    expect((await api.inject(deployJson({ stack: 'shop', compose: validCompose }))).json().version).toBe(1);
    expect((await api.inject(deployJson({ stack: 'shop', compose: validCompose }))).json().version).toBe(1);
    const changed = validCompose.replace('replicas: 2', 'replicas: 3');
    expect((await api.inject(deployJson({ stack: 'shop', compose: changed }))).json().version).toBe(2);
    expect(deps.store.submitted.map((r) => r.seq)).toEqual([1, 2, 3]);
  });

  describe('rejects bad input before any side effect', () => {
    async function rejected(deps: TestDeps, inject: InjectOptions) {
      const res = await (await server(deps)).inject(inject);
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
      expect(deps.store.submitted).toEqual([]);
      const body = res.json();
      expect(body.error.code).toEqual(expect.any(String));
      expect(body.error.message).toEqual(expect.any(String));
      expect(Array.isArray(body.error.diagnostics)).toBe(true);
      return { status: res.statusCode, error: body.error as { code: string; message: string; diagnostics: Record<string, unknown>[] } };
    }

    it('malformed YAML: names the line', async () => {
      const compose = 'services:\n  web:\n    image: busybox\n    ports: [80\n';
      const { status, error } = await rejected(testDeps(), deployJson({ stack: 'bad', compose, file: 'compose.yaml' }));
      expect(status).toBe(400);
      expect(error.code).toBe('invalid_compose');
      expect(error.diagnostics.length).toBeGreaterThan(0);
      expect(error.diagnostics[0]).toMatchObject({ severity: 'error', file: 'compose.yaml' });
      expect(error.diagnostics[0]!.line).toBeGreaterThanOrEqual(4);
    });

    it('unknown key: names the key and the service', async () => {
      const compose = 'services:\n  web:\n    image: busybox\n    imagez: typo\n';
      const { error } = await rejected(testDeps(), deployJson({ stack: 'bad', compose }));
      expect(error.code).toBe('invalid_compose');
      const diagnostic = error.diagnostics.find((d) => JSON.stringify(d).includes('imagez'));
      expect(diagnostic).toBeDefined();
      expect(diagnostic!.line).toBe(4);
      expect(JSON.stringify(diagnostic)).toContain('web');
    });

    it('unset required variable: names the variable', async () => {
      const compose = 'services:\n  web:\n    image: "${IMAGE:?set IMAGE to the image to run}"\n';
      const { error } = await rejected(testDeps(), deployJson({ stack: 'bad', compose }));
      expect(error.code).toBe('invalid_compose');
      expect(JSON.stringify(error.diagnostics)).toContain('IMAGE');
      expect(error.diagnostics[0]!.line).toBe(3);
    });

    it('bad stack name', async () => {
      for (const stack of ['Has_Underscore', 'UPPER', '-dash', 'a b', 'x'.repeat(64)]) {
        const { error } = await rejected(testDeps(), deployJson({ stack, compose: validCompose }));
        expect(['invalid_stack_name', 'invalid_request']).toContain(error.code);
      }
    });

    it('missing stack name with a YAML body', async () => {
      const { error } = await rejected(testDeps(), { method: 'POST', url: '/v1/deploy', headers: { 'content-type': 'application/yaml' }, payload: validCompose });
      expect(error.code).toBe('missing_stack');
    });

    it('unknown body property and missing compose', async () => {
      expect((await rejected(testDeps(), deployJson({ stack: 's', compose: validCompose, replicas: 3 }))).error.diagnostics[0]).toMatchObject({ path: 'body.replicas' });
      expect((await rejected(testDeps(), deployJson({ stack: 's' }))).error.diagnostics[0]).toMatchObject({ path: 'body.compose' });
    });

    it('wrong types in the body', async () => {
      const { error } = await rejected(testDeps(), deployJson({ stack: 's', compose: validCompose, env: { A: 1 } }));
      expect(error.code).toBe('invalid_request');
      expect(error.message).toContain('env');
    });

    it('wrong content type → 415', async () => {
      const { status, error } = await rejected(testDeps(), { method: 'POST', url: '/v1/deploy?stack=s', headers: { 'content-type': 'application/xml' }, payload: '<compose/>' });
      expect(status).toBe(415);
      expect(error.code).toBe('unsupported_media_type');
      expect(error.message).toContain('application/xml');
    });

    it('invalid JSON → 400', async () => {
      const { status, error } = await rejected(testDeps(), { method: 'POST', url: '/v1/deploy', headers: { 'content-type': 'application/json' }, payload: '{"stack": ' });
      expect(status).toBe(400);
      expect(error.code).toBe('invalid_json');
    });

    it('oversized body → 413', async () => {
      const deps = testDeps({ bodyLimitBytes: 1024 });
      const { status, error } = await rejected(deps, { method: 'POST', url: '/v1/deploy?stack=s', headers: { 'content-type': 'application/yaml' }, payload: `# ${'x'.repeat(4096)}\n${validCompose}` });
      expect(status).toBe(413);
      expect(error.code).toBe('body_too_large');
    });

    it('empty body', async () => {
      const { status } = await rejected(testDeps(), { method: 'POST', url: '/v1/deploy?stack=s', headers: { 'content-type': 'application/yaml' }, payload: '' });
      expect(status).toBe(400);
    });

    it('no body at all', async () => {
      const { status, error } = await rejected(testDeps(), { method: 'POST', url: '/v1/deploy?stack=s' });
      expect(status).toBe(400);
      expect(error.code).toBe('missing_body');
    });

    it('a huge replica count (which would exhaust the daemon) → 400, never saved', async () => {
      const compose = 'services:\n  web:\n    image: busybox\n    deploy:\n      replicas: 100000000\n';
      const { status, error } = await rejected(testDeps(), deployJson({ stack: 'huge', compose, file: 'compose.yaml' }));
      expect(status).toBe(400);
      expect(error.code).toBe('invalid_compose');
      expect(error.diagnostics[0]).toMatchObject({
        code: 'COMPOSE_TOO_MANY_REPLICAS', file: 'compose.yaml', line: 5, path: 'services.web.deploy.replicas', service: 'web',
      });
    });

    it('a compose file that is not a mapping', async () => {
      const { error } = await rejected(testDeps(), deployJson({ stack: 's', compose: '- just\n- a list\n' }));
      expect(error.code).toBe('invalid_compose');
    });
  });

  it('a store that cannot persist answers 503 and the daemon keeps serving', async () => {
    const deps = testDeps();
    deps.store.failNext = new Error('disk full');
    const api = await server(deps);
    const res = await api.inject(deployJson({ stack: 'shop', compose: validCompose }));
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('store_unavailable');
    expect((await api.inject(deployJson({ stack: 'shop', compose: validCompose }))).statusCode).toBe(202);
  });
});
