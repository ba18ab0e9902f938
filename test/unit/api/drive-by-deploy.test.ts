import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import { buildApiServer } from '../../../src/api/build-api-server.ts';
import { clientHeaders, testDeps, testToken, type TestDeps } from './fake-deps.ts';
import { serverPerTest } from './server-per-test.ts';

// The review finding this pins: with the default config any web page the user visited could POST
// a compose file as text/plain (a CORS "simple" request, no preflight) to 127.0.0.1:7420 and get
// a container bind-mounting / started; a DNS-rebinding page the same under its own host name.
const rootMount = 'services:\n  pwn:\n    image: busybox\n    volumes: ["/:/host"]\n    command: ["sleep", "3600"]\n';
const server = serverPerTest();

/** Sends one request and checks it was refused with `status`/`code` and changed nothing. */
async function refused(deps: TestDeps, options: InjectOptions, status: number, code: string): Promise<string> {
  const api = await server(deps);
  const res = await api.inject(options);
  expect(res.statusCode, res.body).toBe(status);
  expect(res.json().error.code).toBe(code);
  expect(deps.store.submitted).toEqual([]);
  // No CORS header ever: a browser never lets the page read an answer.
  expect(Object.keys(res.headers).filter((name) => name.startsWith('access-control-'))).toEqual([]);
  return res.json().error.message as string;
}

const pageDeploy = (headers: Record<string, string>): InjectOptions => ({
  method: 'POST', url: '/v1/deploy?stack=pwn', headers: { 'content-type': 'text/plain', ...headers }, payload: rootMount,
});

describe('a web page cannot deploy through a local browser', () => {
  it('the drive-by request as a browser sends it (no token, text/plain, foreign Origin) is refused', async () => {
    await refused(testDeps(), pageDeploy({ authorization: '', origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }), 403, 'cross_site_request');
  });

  it('without the token a loopback request is refused (401), whatever its content type', async () => {
    for (const type of ['text/plain', 'application/yaml']) {
      await refused(testDeps(), { ...pageDeploy({ authorization: '', 'content-type': type }), remoteAddress: '127.0.0.1' }, 401, 'unauthorized');
    }
  });

  it('a foreign Origin is refused even with the right token, before the body is parsed', async () => {
    for (const origin of ['https://evil.example', 'http://127.0.0.1:7420.evil.example', 'null', 'http://localhost:7420']) {
      const message = await refused(testDeps(), pageDeploy({ origin }), 403, 'cross_site_request');
      expect(message).toContain(origin);
    }
    // Before parsing: a body that is not even JSON gets the 403, not a 400 about JSON.
    await refused(testDeps(), { method: 'POST', url: '/v1/deploy', headers: { origin: 'https://evil.example', 'content-type': 'application/json' }, payload: '{"stack": ' }, 403, 'cross_site_request');
  });

  it('Sec-Fetch-Site cross-site and same-site are refused; same-origin and none pass', async () => {
    for (const site of ['cross-site', 'same-site']) {
      const message = await refused(testDeps(), pageDeploy({ 'sec-fetch-site': site, 'content-type': 'application/yaml' }), 403, 'cross_site_request');
      expect(message).toContain(site);
    }
    for (const site of ['same-origin', 'none']) {
      const deps = testDeps();
      const res = await (await server(deps)).inject({ method: 'POST', url: '/v1/deploy?stack=ok', headers: { 'content-type': 'application/yaml', 'sec-fetch-site': site }, payload: 'services:\n  a:\n    image: busybox\n' });
      expect(res.statusCode, site).toBe(202);
    }
  });

  it('the API\'s own origin (its /docs page) may send requests', async () => {
    const deps = testDeps();
    const res = await (await server(deps)).inject({
      method: 'POST', url: '/v1/deploy?stack=docs', headers: { 'content-type': 'application/yaml', origin: `http://${clientHeaders.host}`, 'sec-fetch-site': 'same-origin' }, payload: 'services:\n  a:\n    image: busybox\n',
    });
    expect(res.statusCode).toBe(202);
  });

  it('a preflight from another origin is refused and carries no CORS header', async () => {
    await refused(testDeps(), {
      method: 'OPTIONS', url: '/v1/deploy', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type', 'sec-fetch-site': 'cross-site' },
    }, 403, 'cross_site_request');
  });

  it('text/plain is not a deploy content type, even for a client with the token (415 naming the ones to use)', async () => {
    const message = await refused(testDeps(), pageDeploy({}), 415, 'unsupported_media_type');
    expect(message).toContain('application/yaml');
    expect(message).toContain('application/json');
    expect(message).toContain('text/plain is refused');
  });
});

describe('DNS rebinding: Host must name this API when it is bound to loopback', () => {
  it('a foreign host name, a wrong port or no port is refused with 421', async () => {
    for (const host of ['evil.example:7420', 'evil.example', 'localhost:7421', 'localhost', '127.0.0.1:80', '10.0.0.1:7420', '[::2]:7420', 'localhost:7420@evil', '']) {
      const message = await refused(testDeps(), { method: 'POST', url: '/v1/deploy', headers: { host }, payload: { stack: 'pwn', compose: rootMount } }, 421, 'host_not_allowed');
      expect(message).toMatch(/Host|missing Host/);
    }
  });

  it('loopback names with the right port, and api.host itself, are accepted', async () => {
    const hosts: [string, string][] = [['127.0.0.1', 'localhost:7420'], ['127.0.0.1', '127.0.0.1:7420'], ['127.0.0.1', '127.1.2.3:7420'], ['127.0.0.1', '[::1]:7420'], ['127.0.0.1', 'LOCALHOST:7420'], ['localhost', 'localhost:7420'], ['::1', '[::1]:7420']];
    for (const [bindHost, host] of hosts) {
      const deps = testDeps({ bind: { host: bindHost, port: 7420 } });
      const res = await (await server(deps)).inject({ url: '/v1/stacks', headers: { host } });
      expect(res.statusCode, `${bindHost} ${host}`).toBe(200);
    }
  });

  it('bound beyond loopback, Host is not checked: remote clients use names we cannot know, the token is the boundary', async () => {
    const deps = testDeps({ bind: { host: '0.0.0.0', port: 7420 } });
    const api = await server(deps);
    expect((await api.inject({ url: '/v1/stacks', headers: { host: 'node-7.example:7420' } })).statusCode).toBe(200);
    expect((await api.inject({ url: '/v1/stacks', headers: { host: 'node-7.example:7420', authorization: '' } })).statusCode).toBe(401);
    // Cross-site refusals still apply there.
    expect((await api.inject({ url: '/v1/stacks', headers: { host: 'node-7.example:7420', origin: 'https://evil.example' } })).statusCode).toBe(403);
  });

  it('over a real socket the port compared is the one the connection arrived on', async () => {
    const deps = testDeps({ bind: { host: '127.0.0.1', port: 0 } });
    const app = await buildApiServer(deps);
    try {
      const port = Number(new URL(await app.listen({ host: '127.0.0.1', port: 0 })).port);
      const get = (host: string) => new Promise<number>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, path: '/v1/stacks', headers: { host, authorization: `Bearer ${testToken}` } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
      expect(await get(`127.0.0.1:${port}`)).toBe(200);
      expect(await get(`localhost:${port}`)).toBe(200);
      expect(await get(`evil.example:${port}`)).toBe(421);
      expect(await get(`127.0.0.1:${port === 65535 ? port - 1 : port + 1}`)).toBe(421);
    } finally {
      await app.close();
    }
  });
});
