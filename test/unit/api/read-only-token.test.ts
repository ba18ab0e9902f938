import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createActor, setup } from 'xstate';
import type { FastifyInstance } from 'fastify';
import { buildApiServer } from '../../../src/api/build-api-server.ts';
import { EventLog } from '../../../src/observe/event-log.ts';
import { InspectionHub } from '../../../src/observe/inspection-hub.ts';
import { createRedactor } from '../../../src/observe/redaction.ts';
import type { ClusterApi } from '../../../src/api/api-deps.ts';
import { eventually } from '../../support/eventually.ts';
import { recordingClient, refusedStatus } from '../observe/inspect-support.ts';
import { testDeps, testToken } from './fake-deps.ts';

// The read-only token on an API bound beyond loopback: viewers read everything a viewer needs and
// change nothing. inject() speaks from a non-loopback address, as another machine would.
const readOnlyToken = 'viewer-token-0123456789';
const remote = '192.0.2.7';
const wideBind = { host: '0.0.0.0', port: 7420 } as const;
const compose = 'services:\n  a:\n    image: busybox\n    environment:\n      PASSWORD: hunter2\n';

const cluster: ClusterApi = {
  nodes: () => [],
  tokens: () => ({ clusterId: 'c1', manager: 'SECRET-MANAGER-JOIN', worker: 'SECRET-WORKER-JOIN', managers: ['10.0.0.1:7421'] }),
  rotateToken: () => Promise.reject(new Error('must not be reached')),
  setRole: () => Promise.reject(new Error('must not be reached')),
  removeNode: () => Promise.reject(new Error('must not be reached')),
};

let app: FastifyInstance | undefined;
let cleanup: (() => void) | undefined;
afterEach(async () => {
  cleanup?.();
  cleanup = undefined;
  await app?.close();
  app = undefined;
});

async function build(overrides: Parameters<typeof testDeps>[0] = {}) {
  const deps = testDeps({ readOnlyToken, bind: wideBind, cluster, ...overrides });
  app = await buildApiServer(deps);
  const as = (token: string | undefined) => (method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT' | 'OPTIONS', url: string, payload?: unknown) =>
    app!.inject({ method, url, remoteAddress: remote, headers: { host: '203.0.113.1:7420', ...(token ? { authorization: `Bearer ${token}` } : {}) }, ...(payload !== undefined ? { payload: payload as string } : {}) });
  return { deps, admin: as(testToken), viewer: as(readOnlyToken), anonymous: as(undefined) };
}

describe('the read-only token', () => {
  it('beyond loopback, nothing but /healthz and the static pages answers without a token', async () => {
    const { anonymous } = await build();
    for (const url of ['/v1/stacks', '/v1/services', '/v1/containers', '/v1/events', '/v1/inspect', '/metrics', '/v1/cluster/tokens']) {
      const res = await anonymous('GET', url);
      expect(res.statusCode, url).toBe(401);
      expect(res.json().error.code).toBe('unauthorized');
    }
    expect((await anonymous('POST', '/v1/deploy', { stack: 'x', compose })).statusCode).toBe(401);
    expect((await anonymous('GET', '/healthz')).statusCode).toBe(200);
    expect((await anonymous('GET', '/')).statusCode).toBe(200);
  });

  it('reads every read route, /metrics included', async () => {
    const { admin, viewer } = await build();
    expect((await admin('POST', '/v1/deploy', { stack: 'web', compose })).statusCode).toBe(202);
    for (const url of ['/v1/stacks', '/v1/stacks/web', '/v1/services', '/v1/services/web_a', '/v1/containers', '/metrics']) {
      const res = await viewer('GET', url);
      expect(res.statusCode, url).toBe(200);
    }
    // Environment values stay redacted for it.
    const service = (await viewer('GET', '/v1/services/web_a')).json();
    expect(JSON.stringify(service)).not.toContain('hunter2');
  });

  it('every write answers 403 read_only_token before anything reaches the store', async () => {
    const { deps, admin, viewer } = await build();
    expect((await admin('POST', '/v1/deploy', { stack: 'web', compose })).statusCode).toBe(202);
    const before = deps.store.submitted.length;
    const writes = [
      ['POST', '/v1/deploy', { stack: 'evil', compose }],
      ['DELETE', '/v1/stacks/web', undefined],
      ['PATCH', '/v1/nodes/node-a', { availability: 'drain' }],
      ['DELETE', '/v1/nodes/node-a', undefined],
      ['POST', '/v1/cluster/tokens/rotate', { role: 'manager' }],
      // Routes other engineers add later (rollback, scale…) are writes by their method too.
      ['POST', '/v1/stacks/web/rollback', {}],
      ['PUT', '/v1/anything', {}],
      ['OPTIONS', '/v1/deploy', undefined],
    ] as const;
    for (const [method, url, payload] of writes) {
      const res = await viewer(method, url, payload);
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      const body = res.json();
      expect(body.error.code).toBe('read_only_token');
      expect(body.error.message).toContain(`${method} ${url}`);
      expect(body.error.message).toContain('admin token');
    }
    expect(deps.store.submitted).toHaveLength(before);
    expect(Object.keys(deps.store.current().stacks)).toEqual(['web']);
  });

  it('does not hand out credentials: join tokens and environment values need the admin token', async () => {
    const { admin, viewer } = await build();
    expect((await admin('POST', '/v1/deploy', { stack: 'web', compose })).statusCode).toBe(202);
    const tokens = await viewer('GET', '/v1/cluster/tokens');
    expect(tokens.statusCode).toBe(403);
    expect(tokens.json().error.code).toBe('read_only_token');
    expect(tokens.body).not.toContain('SECRET-MANAGER-JOIN');
    expect((await admin('GET', '/v1/cluster/tokens')).json().manager).toBe('SECRET-MANAGER-JOIN');
    const revealed = await viewer('GET', '/v1/services/web_a?reveal=env');
    expect(revealed.statusCode).toBe(403);
    expect(revealed.json().error.code).toBe('read_only_token');
    expect(revealed.body).not.toContain('hunter2');
    expect((await admin('GET', '/v1/services/web_a?reveal=env')).body).toContain('hunter2');
  });

  it('the admin token still does everything; a wrong token is 401, not 403', async () => {
    const { admin, viewer } = await build();
    expect((await admin('POST', '/v1/deploy', { stack: 'web', compose })).statusCode).toBe(202);
    expect((await admin('DELETE', '/v1/stacks/web')).statusCode).toBe(202);
    const wrong = await app!.inject({ method: 'POST', url: '/v1/deploy', remoteAddress: remote, headers: { host: 'x', authorization: `Bearer ${readOnlyToken}x` }, payload: { stack: 'x', compose } });
    expect(wrong.statusCode).toBe(401);
    expect((await viewer('GET', '/v1/stacks')).statusCode).toBe(200);
  });

  it('without a read-only token configured, that value is just a wrong token', async () => {
    app = await buildApiServer(testDeps({ bind: wideBind }));
    const res = await app.inject({ url: '/v1/stacks', remoteAddress: remote, headers: { host: 'x', authorization: `Bearer ${readOnlyToken}` } });
    expect(res.statusCode).toBe(401);
  });

  it('cannot equal the admin token', async () => {
    await expect(buildApiServer(testDeps({ readOnlyToken: testToken }))).rejects.toThrow(/differ from the admin token/);
  });

  it('follows /v1/events and /v1/inspect over WebSockets (header, subprotocol, URL password)', async () => {
    const log = new EventLog(100, 'ro-stream', () => Date.now());
    const actor = createActor(setup({}).createMachine({ id: 'probe', initial: 'idle', states: { idle: {} } })).start();
    const hub = new InspectionHub({ sources: [{ root: actor }], redactor: createRedactor([testToken, readOnlyToken]), wallClockMs: () => Date.now(), logger: pino({ level: 'silent' }) });
    app = await buildApiServer(testDeps({ readOnlyToken, events: log, inspection: hub, bind: { host: '127.0.0.1', port: 0 } }));
    cleanup = () => {
      hub.close();
      actor.stop();
    };
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const ws = address.replace('http', 'ws');
    const events = recordingClient(`${ws}/v1/events`, { headers: { authorization: `Bearer ${readOnlyToken}` } });
    await events.opened;
    log.append({ type: 'stack.removed', stack: 'web' });
    await eventually(() => events.frames.some((frame) => frame.type === 'stack.removed'), { timeoutMs: 5000, what: 'the event at the viewer' });
    const inspect = recordingClient(`${ws}/v1/inspect`, { protocols: ['constellation.v1', `constellation.bearer.${Buffer.from(readOnlyToken).toString('base64url')}`] });
    await inspect.opened;
    await eventually(() => inspect.frames.some((frame) => frame.type === '@constellation.replayed'), { timeoutMs: 5000, what: 'the replay' });
    expect(inspect.frames.some((frame) => frame.type === '@xstate.actor')).toBe(true);
    const byUrl = recordingClient(`${ws.replace('://', `://:${readOnlyToken}@`)}/v1/inspect`);
    await byUrl.opened;
    expect(await refusedStatus(`${ws}/v1/inspect`, { headers: { authorization: 'Bearer nope' } })).toBe(401);
    for (const client of [events, inspect, byUrl]) client.socket.close();
    await Promise.all([events.closed, inspect.closed, byUrl.closed]);
  });
});
