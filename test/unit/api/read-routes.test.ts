import { afterEach, describe, expect, it } from 'vitest';
import type { ContainerInfo, ServiceInfo } from '../../../src/api/api-deps.ts';
import { buildTestApi, testDeps, type TestDeps, type TestApi } from './fake-deps.ts';

const compose = `services:
  web:
    image: busybox:1
    deploy:
      replicas: 2
  db:
    image: busybox:1
`;

let app: TestApi | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function deployed(): Promise<{ deps: TestDeps; api: TestApi }> {
  const deps = testDeps();
  app = await buildTestApi(deps);
  const res = await app.inject({ method: 'POST', url: '/v1/deploy', payload: { stack: 'shop', compose } });
  expect(res.statusCode).toBe(202);
  return { deps, api: app };
}

function container(name: string, state: ContainerInfo['state'], extra: Partial<ContainerInfo> = {}): ContainerInfo {
  const [stack, service, slot] = name.split('_');
  return { containerId: `${name}-id`, name, stack: stack!, service: service!, slot: Number(slot), image: 'busybox:1', specHash: 'h1', state, health: 'none', restarts: 0, ...extra };
}

function status(service: string, running: number, desired: number, extra: Partial<ServiceInfo> = {}): ServiceInfo {
  return { stack: 'shop', service, image: 'busybox:1', desiredReplicas: desired, running, healthy: 0, healthcheck: false, converged: running === desired, failed: false, ...extra };
}

describe('read routes', () => {
  it('GET /v1/stacks lists stacks with convergence from the agent', async () => {
    const { deps, api } = await deployed();
    let stacks = (await api.inject({ url: '/v1/stacks' })).json();
    expect(stacks).toEqual([expect.objectContaining({ name: 'shop', version: 1, services: ['web', 'db'], converged: false, updatedAt: '2026-01-02T03:04:05.000Z' })]);
    deps.agent.serviceList = [status('web', 2, 2), status('db', 1, 1)];
    stacks = (await api.inject({ url: '/v1/stacks' })).json();
    expect(stacks[0].converged).toBe(true);
  });

  it('GET /v1/stacks/:name has per-service status; unknown stack → 404', async () => {
    const { deps, api } = await deployed();
    deps.agent.serviceList = [status('web', 1, 2, { message: 'starting' })];
    const res = await api.inject({ url: '/v1/stacks/shop' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.converged).toBe(false);
    expect(body.serviceStatus).toEqual([
      expect.objectContaining({ id: 'shop_db', running: 0, desiredReplicas: 1, converged: false }),
      expect.objectContaining({ id: 'shop_web', running: 1, desiredReplicas: 2, message: 'starting' }),
    ]);
    const missing = await api.inject({ url: '/v1/stacks/nope' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('stack_not_found');
  });

  it('GET /v1/services merges desired services with observed ones; ?stack= filters', async () => {
    const { deps, api } = await deployed();
    deps.agent.serviceList = [status('web', 2, 2), { ...status('old', 1, 0), stack: 'gone' }];
    const all = (await api.inject({ url: '/v1/services' })).json();
    expect(all.map((row: { id: string }) => row.id)).toEqual(['gone_old', 'shop_db', 'shop_web']);
    const shop = (await api.inject({ url: '/v1/services?stack=shop' })).json();
    expect(shop.map((row: { id: string }) => row.id)).toEqual(['shop_db', 'shop_web']);
    expect(shop[1]).toMatchObject({ running: 2, desiredReplicas: 2, converged: true, failed: false });
  });

  it('GET /v1/services/:name returns status and the normalized spec', async () => {
    const { api } = await deployed();
    const res = await api.inject({ url: '/v1/services/shop_web' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ id: 'shop_web', stack: 'shop', service: 'web', desiredReplicas: 2 });
    expect(body.spec).toMatchObject({ name: 'web', image: 'busybox:1', deploy: { replicas: 2 } });
    for (const url of ['/v1/services/shop_nope', '/v1/services/nounderscore', '/v1/services/other_web']) {
      const missing = await api.inject({ url });
      expect(missing.statusCode).toBe(404);
      expect(missing.json().error.code).toBe('service_not_found');
    }
  });

  it('GET /v1/services/:name redacts environment values unless asked with ?reveal=env', async () => {
    const deps = testDeps();
    app = await buildTestApi(deps);
    const secretCompose = 'services:\n  db:\n    image: busybox:1\n    environment:\n      DB_PASSWORD: hunter2\n      MODE: prod\n';
    expect((await app.inject({ method: 'POST', url: '/v1/deploy', payload: { stack: 'vault', compose: secretCompose } })).statusCode).toBe(202);
    const plain = await app.inject({ url: '/v1/services/vault_db' });
    expect(plain.statusCode).toBe(200);
    expect(plain.body).not.toContain('hunter2');
    expect(plain.json().spec.environment).toEqual({ DB_PASSWORD: '<redacted>', MODE: '<redacted>' });
    const revealed = await app.inject({ url: '/v1/services/vault_db?reveal=env' });
    expect(revealed.json().spec.environment).toEqual({ DB_PASSWORD: 'hunter2', MODE: 'prod' });
    const unknown = await app.inject({ url: '/v1/services/vault_db?reveal=everything' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.body).not.toContain('hunter2');
    // The stored spec keeps the values: only the answer is redacted.
    expect(deps.store.current().stacks.vault!.spec.services[0]!.environment.DB_PASSWORD).toBe('hunter2');
  });

  it('GET /v1/containers lists containers with state, extra fields passed through, filters work', async () => {
    const { deps, api } = await deployed();
    deps.agent.containerList = [
      container('shop_web_2', 'running', { specHash: 'abc', exitCode: 0 }),
      container('shop_web_1', 'running'),
      container('shop_db_1', 'backoff'),
      container('other_x_1', 'running'),
    ];
    const all = (await api.inject({ url: '/v1/containers' })).json();
    expect(all.map((c: ContainerInfo) => c.name)).toEqual(['other_x_1', 'shop_db_1', 'shop_web_1', 'shop_web_2']);
    expect(all[3]).toMatchObject({ state: 'running', specHash: 'abc', slot: 2, health: 'none', containerId: 'shop_web_2-id', exitCode: 0, restarts: 0 });
    const web = (await api.inject({ url: '/v1/containers?stack=shop&service=web' })).json();
    expect(web.map((c: ContainerInfo) => c.name)).toEqual(['shop_web_1', 'shop_web_2']);
    const badQuery = await api.inject({ url: '/v1/containers?color=red' });
    expect(badQuery.statusCode).toBe(400);
  });

  it('DELETE /v1/stacks/:name submits remove-stack; unknown → 404 without submitting', async () => {
    const { deps, api } = await deployed();
    const missing = await api.inject({ method: 'DELETE', url: '/v1/stacks/nope' });
    expect(missing.statusCode).toBe(404);
    expect(deps.store.submitted).toHaveLength(1);
    const bad = await api.inject({ method: 'DELETE', url: '/v1/stacks/Bad_Name' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('invalid_stack_name');
    const res = await api.inject({ method: 'DELETE', url: '/v1/stacks/shop' });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ stack: 'shop', removed: true });
    expect(deps.store.submitted.at(-1)!.command).toMatchObject({ type: 'remove-stack', name: 'shop' });
    expect((await api.inject({ url: '/v1/stacks' })).json()).toEqual([]);
  });

  it('GET /healthz', async () => {
    const { api } = await deployed();
    const res = await api.inject({ url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ok', nodeId: 'node-a' });
  });

  it('unknown routes answer 404 in the error shape', async () => {
    const { api } = await deployed();
    const res = await api.inject({ url: '/v2/nothing' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'not_found', message: 'no route GET /v2/nothing', diagnostics: [] } });
  });

  it('an agent that throws becomes a 500 with a code, and the server keeps answering', async () => {
    const { deps, api } = await deployed();
    deps.agent.containers = () => { throw new Error('boom'); };
    const res = await api.inject({ url: '/v1/containers' });
    expect(res.statusCode).toBe(500);
    expect(res.json().error.code).toBe('internal_error');
    expect(res.body).not.toContain('boom');
    expect(deps.logLines.join('')).toContain('boom');
    expect((await api.inject({ url: '/healthz' })).statusCode).toBe(200);
  });
});
