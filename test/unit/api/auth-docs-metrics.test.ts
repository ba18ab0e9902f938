import { afterEach, describe, expect, it } from 'vitest';
import { buildApiServer } from '../../../src/api/build-api-server.ts';
import { PrometheusTelemetry } from '../../../src/metrics/prometheus-telemetry.ts';
import { buildTestApi, clientHeaders, testDeps, type TestApi } from './fake-deps.ts';

let app: TestApi | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('bearer token', () => {
  const host = clientHeaders.host;

  it('guards every route but /healthz and the docs, also on loopback', async () => {
    const deps = testDeps({ token: 's3cret-token' });
    app = await buildTestApi(deps);
    const raw = app.app;
    expect((await raw.inject({ url: '/healthz', headers: { host } })).statusCode).toBe(200);
    expect((await raw.inject({ url: '/docs/json', headers: { host } })).statusCode).toBe(200);
    for (const [method, url] of [['GET', '/v1/stacks'], ['GET', '/v1/containers'], ['GET', '/metrics'], ['DELETE', '/v1/stacks/x'], ['GET', '/nothing'], ['POST', '/docs/json'], ['OPTIONS', '/v1/deploy']] as const) {
      const res = await raw.inject({ method, url, headers: { host }, remoteAddress: '127.0.0.1' });
      expect(res.statusCode, `${method} ${url}`).toBe(401);
      expect(res.json().error.code).toBe('unauthorized');
      expect(res.headers['www-authenticate']).toContain('Bearer');
    }
    const wrong = await raw.inject({ url: '/v1/stacks', headers: { host, authorization: 'Bearer nope' } });
    expect(wrong.statusCode).toBe(401);
    const basic = await raw.inject({ url: '/v1/stacks', headers: { host, authorization: 'Basic czNjcmV0LXRva2Vu' } });
    expect(basic.statusCode).toBe(401);
    const right = await raw.inject({ url: '/v1/stacks', headers: { host, authorization: 'Bearer s3cret-token' } });
    expect(right.statusCode).toBe(200);
  });

  it('a rejected (unauthenticated) deploy never reaches the store', async () => {
    const deps = testDeps();
    app = await buildTestApi(deps);
    const res = await app.inject({ method: 'POST', url: '/v1/deploy', headers: { authorization: '' }, payload: { stack: 's', compose: 'services:\n  a:\n    image: busybox\n' } });
    expect(res.statusCode).toBe(401);
    expect(deps.store.submitted).toEqual([]);
  });

  it('there is no API without a token: building one with an empty token fails', async () => {
    await expect(buildApiServer(testDeps({ token: '' }))).rejects.toThrow(/needs a token/);
  });
});

describe('OpenAPI', () => {
  it('serves the document with every route and its schemas, and the UI at /docs', async () => {
    app = await buildTestApi(testDeps());
    const doc = (await app.inject({ url: '/docs/json' })).json();
    expect(doc.openapi).toMatch(/^3\./);
    for (const path of ['/v1/deploy', '/v1/stacks', '/v1/stacks/{name}', '/v1/services', '/v1/services/{name}', '/v1/containers', '/healthz', '/metrics']) {
      expect(doc.paths[path], path).toBeDefined();
    }
    const deploy = doc.paths['/v1/deploy'].post;
    expect(Object.keys(deploy.requestBody.content)).toEqual(expect.arrayContaining(['application/json', 'application/yaml']));
    expect(deploy.requestBody.content['application/json'].schema.required).toEqual(['stack', 'compose']);
    expect(Object.keys(deploy.responses)).toEqual(expect.arrayContaining(['202', '400', '413', '415']));
    const ui = await app.inject({ url: '/docs' });
    expect(ui.statusCode === 200 || ui.statusCode === 302).toBe(true);
    const page = ui.statusCode === 302 ? await app.inject({ url: ui.headers.location as string }) : ui;
    expect(page.body).toContain('swagger-ui');
  });
});

describe('metrics', () => {
  it('exposes the constellation metrics and counts requests', async () => {
    const deps = testDeps();
    app = await buildTestApi(deps);
    const telemetry = new PrometheusTelemetry(deps.metrics!);
    telemetry.observeReconcile(120);
    telemetry.engineError('create');
    telemetry.engineError('create');
    telemetry.setContainerStates({ running: 3, exited: 1 });
    telemetry.setContainerStates({ running: 2 });
    await app.inject({ url: '/v1/stacks' });
    const res = await app.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    const text = res.body;
    expect(text).toContain('constellation_containers{state="running"} 2');
    expect(text).toContain('constellation_containers{state="exited"} 0');
    expect(text).toContain('constellation_reconcile_duration_seconds_bucket{le="0.25"} 1');
    expect(text).toContain('constellation_reconcile_duration_seconds_count 1');
    expect(text).toContain('constellation_engine_errors_total{operation="create"} 2');
    expect(text).toContain('constellation_http_requests_total{method="GET",route="/v1/stacks",status="200"} 1');
    // Latency by route pattern and status, next to the count.
    expect(text).toContain('constellation_http_request_duration_seconds_count{method="GET",route="/v1/stacks",status="200"} 1');
    expect(text).toMatch(/constellation_http_request_duration_seconds_bucket\{le="10",method="GET",route="\/v1\/stacks",status="200"\} 1/);
  });

  it('metrics.enabled: false serves no /metrics', async () => {
    app = await buildTestApi(testDeps({ metrics: undefined }));
    expect((await app.inject({ url: '/metrics' })).statusCode).toBe(404);
  });

  it('two daemons in one process keep separate registries', async () => {
    const a = testDeps();
    const b = testDeps();
    new PrometheusTelemetry(a.metrics!).engineError('start');
    expect(await b.metrics!.registry.metrics()).not.toContain('operation="start"');
    expect(await a.metrics!.registry.metrics()).toContain('operation="start"');
  });
});
