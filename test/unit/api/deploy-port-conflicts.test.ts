import { describe, expect, it } from 'vitest';
import type { ClientRequest } from '../../../src/cluster/commands.ts';
import { RecordingStore, testDeps, type TestApi } from './fake-deps.ts';
import { serverPerTest } from './server-per-test.ts';

// On this single node a host port can be bound by one container: a deploy whose published ports
// overlap another stack's is refused before anything is written, instead of its replicas failing
// "port is already allocated" and restarting forever.
const server = serverPerTest();

const publishing = (port: string, extra = ''): string => `services:\n  web:\n    image: busybox\n    ports: ["${port}"]\n${extra}`;
const deploy = (api: TestApi, stack: string, compose: string) => api.inject({ method: 'POST', url: '/v1/deploy', payload: { stack, compose } });

describe('POST /v1/deploy refuses host ports another stack publishes', () => {
  it('409 port_conflict naming the other stack and service; nothing is written', async () => {
    const deps = testDeps();
    const api = await server(deps);
    expect((await deploy(api, 'blog', 'services:\n  proxy:\n    image: nginx\n    ports: ["127.0.0.1:8080:80"]\n')).statusCode).toBe(202);
    const res = await deploy(api, 'shop', publishing('8080:80'));
    expect(res.statusCode).toBe(409);
    const { error } = res.json() as { error: { code: string; message: string; diagnostics: Record<string, unknown>[] } };
    expect(error.code).toBe('port_conflict');
    expect(error.message).toContain('service "proxy" of stack "blog"');
    expect(error.message).toContain('8080/tcp');
    expect(error.diagnostics).toEqual([expect.objectContaining({ code: 'port_conflict', service: 'web', path: 'services.web.ports' })]);
    expect(deps.store.submitted).toHaveLength(1);
    expect(Object.keys(deps.store.current().stacks)).toEqual(['blog']);
  });

  it('redeploying the same stack does not conflict with itself', async () => {
    const deps = testDeps();
    const api = await server(deps);
    expect((await deploy(api, 'shop', publishing('8080:80'))).json().version).toBe(1);
    const changed = await deploy(api, 'shop', publishing('8080:80', '    environment: { A: "1" }\n'));
    expect(changed.statusCode).toBe(202);
    expect(changed.json().version).toBe(2);
  });

  it('other ports, protocols, addresses, ephemeral ports and services scaled to 0 do not conflict', async () => {
    const deps = testDeps();
    const api = await server(deps);
    expect((await deploy(api, 'a', publishing('127.0.0.1:8080:80'))).statusCode).toBe(202);
    expect((await deploy(api, 'b', publishing('8081:80'))).statusCode).toBe(202);
    expect((await deploy(api, 'c', publishing('8080:80/udp'))).statusCode).toBe(202);
    expect((await deploy(api, 'd', publishing('127.0.0.2:8080:80'))).statusCode).toBe(202);
    expect((await deploy(api, 'e', publishing('80', '    deploy: { replicas: 3 }\n'))).statusCode).toBe(202);
    expect((await deploy(api, 'f', publishing('8081:80', '    deploy: { replicas: 0 }\n'))).statusCode).toBe(202);
  });

  it('a removed stack frees its ports', async () => {
    const api = await server(testDeps());
    expect((await deploy(api, 'old', publishing('8080:80'))).statusCode).toBe(202);
    expect((await deploy(api, 'new', publishing('8080:80'))).statusCode).toBe(409);
    expect((await api.inject({ method: 'DELETE', url: '/v1/stacks/old' })).statusCode).toBe(202);
    expect((await deploy(api, 'new', publishing('8080:80'))).statusCode).toBe(202);
  });

  it('two deploys racing for one port: exactly one is accepted, even when the store takes time to persist', async () => {
    // Like the file store: the state changes only once the write is durable, a moment later.
    class SlowStore extends RecordingStore {
      override async submit(request: ClientRequest) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        return super.submit(request);
      }
    }
    const deps = testDeps({ store: new SlowStore() });
    const api = await server(deps);
    const statuses = (await Promise.all([deploy(api, 'one', publishing('8080:80')), deploy(api, 'two', publishing('8080:80'))])).map((r) => r.statusCode);
    expect(statuses.sort()).toEqual([202, 409]);
    expect(deps.store.submitted).toHaveLength(1);
  });

  it('a conflict inside one file is a compose error with the line, before the store is asked', async () => {
    const deps = testDeps();
    const res = await deploy(await server(deps), 'shop', 'services:\n  web:\n    image: busybox\n    ports: [{ target: 80, published: 8080, mode: host }]\n    deploy: { replicas: 3 }\n');
    expect(res.statusCode).toBe(400);
    expect(res.json().error.diagnostics[0]).toMatchObject({ code: 'COMPOSE_PORT_CONFLICT', line: 4, path: 'services.web.ports[0]', service: 'web' });
    expect(deps.store.submitted).toEqual([]);
  });
});
