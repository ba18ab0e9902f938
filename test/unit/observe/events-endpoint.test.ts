import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApiServer } from '../../../src/api/build-api-server.ts';
import { ClusterEventSource } from '../../../src/observe/cluster-event-source.ts';
import { EventLog } from '../../../src/observe/event-log.ts';
import { eventually } from '../../support/eventually.ts';
import { startHarness, type Harness } from '../agent/agent-harness.ts';
import { service, stack } from '../agent/fixtures.ts';
import { testDeps, testToken } from '../api/fake-deps.ts';
import { recordingClient, type RecordingClient } from './inspect-support.ts';
import { cli } from '../cli/cli-harness.ts';

// GET /v1/events over real sockets, fed by the real node agent on the simulated engine.
let harness: Harness | undefined;
let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
  await harness?.stop();
  harness = undefined;
});

async function serve(capacity = 1000) {
  harness = await startHarness();
  const h = harness;
  const log = new EventLog(capacity, 'stream-test', () => Date.now());
  const source = new ClusterEventSource({
    log,
    logger: pino({ level: 'silent' }),
    inputs: {
      localNodeId: 'n1',
      clustered: false,
      state: () => h.store.current(),
      containers: () => h.agent.containers(),
      nodes: () => [{ id: 'n1', status: 'ready', availability: 'active', role: 'manager' }],
      leader: () => 'n1',
      changes: [(listener) => h.store.subscribe(listener), (listener) => h.agent.subscribe(listener)],
    },
  });
  source.start();
  const app = await buildApiServer(testDeps({ events: log, bind: { host: '127.0.0.1', port: 0 } }));
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  close = async () => {
    source.stop();
    await app.close();
  };
  return { h, log, source, app, address, url: `${address.replace('http', 'ws')}/v1/events`, headers: { authorization: `Bearer ${testToken}` } };
}

async function deployAndRun(h: Harness, source: ClusterEventSource, replicas: number) {
  await h.store.deploy(stack('web', [service('app', { replicas })]));
  await h.until(() => h.agent.services()[0]?.running === replicas && h.agent.containers().length === replicas, `${replicas} replicas running`);
  source.lookNow();
}

const events = (client: RecordingClient) => client.frames.filter((frame) => typeof frame.index === 'number');
const types = (client: RecordingClient) => events(client).map((frame) => `${String(frame.type)}${frame.slot !== undefined ? ` ${String(frame.slot)}` : ''}`);

describe('GET /v1/events', () => {
  it('streams typed events in index order: deploy accepted, scheduled, started, removed', async () => {
    const { h, source, url, headers } = await serve();
    const client = recordingClient(url, { headers });
    await client.opened;
    await eventually(() => client.frames[0]?.type === 'stream.hello', { timeoutMs: 5000, what: 'the hello frame' });
    expect(client.frames[0]).toEqual({ type: 'stream.hello', streamId: 'stream-test', firstIndex: 1, lastIndex: 0 });
    await deployAndRun(h, source, 2);
    await eventually(() => types(client).filter((t) => t.startsWith('replica.started')).length === 2, { timeoutMs: 5000, what: 'both replicas started' });
    const seen = types(client);
    expect(seen.slice(0, 3)).toEqual(['deploy.accepted', 'replica.scheduled 1', 'replica.scheduled 2']);
    expect(seen.filter((t) => t.startsWith('replica.started')).sort()).toEqual(['replica.started 1', 'replica.started 2']);
    const indexes = events(client).map((e) => e.index as number);
    expect(indexes).toEqual(indexes.map((_, i) => i + 1));
    expect(events(client)[0]).toMatchObject({ type: 'deploy.accepted', stack: 'web', version: 1, services: ['app'], index: 1 });
    expect(events(client).find((e) => e.type === 'replica.started')).toMatchObject({ stack: 'web', service: 'app', node: 'n1', container: expect.stringMatching(/^web_app_\d$/) });

    await h.store.removeStack('web');
    await h.until(() => h.agent.containers().length === 0, 'the stack gone');
    source.lookNow();
    await eventually(() => types(client).filter((t) => t.startsWith('replica.removed')).length === 2, { timeoutMs: 5000, what: 'both replicas removed' });
    expect(types(client)).toContain('stack.removed');
    client.socket.close();
  });

  it('resumes after a disconnect mid-stream from ?since=INDEX with nothing lost or repeated', async () => {
    const { h, source, url, headers } = await serve();
    const first = recordingClient(url, { headers });
    await first.opened;
    await deployAndRun(h, source, 1);
    await eventually(() => types(first).includes('replica.started 1'), { timeoutMs: 5000, what: 'the first replica started' });
    const lastSeen = Math.max(...events(first).map((e) => e.index as number));
    first.socket.terminate();
    await first.closed;
    // While nobody listens: scale up.
    await deployAndRun(h, source, 3);
    const second = recordingClient(`${url}?since=${lastSeen}`, { headers });
    await eventually(() => types(second).filter((t) => t.startsWith('replica.started')).length === 2, { timeoutMs: 5000, what: 'the two new replicas, replayed' });
    const resumed = events(second).map((e) => e.index as number);
    expect(resumed[0]).toBe(lastSeen + 1);
    expect(resumed).toEqual(resumed.map((_, i) => lastSeen + 1 + i));
    expect(types(second)).toEqual(expect.arrayContaining(['deploy.accepted', 'replica.scheduled 2', 'replica.scheduled 3', 'replica.started 2', 'replica.started 3']));
    second.socket.close();
  });

  it('reports a gap when the history no longer holds the index asked for, and a reset for a later one', async () => {
    const { h, source, log, url, headers } = await serve(2);
    await deployAndRun(h, source, 3);
    expect(log.firstIndex()).toBeGreaterThan(2);
    const client = recordingClient(`${url}?since=1`, { headers });
    await eventually(() => client.frames.some((f) => f.type === 'stream.gap'), { timeoutMs: 5000, what: 'the gap report' });
    const gap = client.frames.find((f) => f.type === 'stream.gap')!;
    expect(gap).toMatchObject({ from: 2, to: log.firstIndex() - 1 });
    expect(events(client)[0]!.index).toBe(log.firstIndex());
    client.socket.close();
    const ahead = recordingClient(`${url}?since=999`, { headers });
    await eventually(() => ahead.frames.some((f) => f.type === 'stream.reset'), { timeoutMs: 5000, what: 'the reset report' });
    ahead.socket.close();
  });

  it('filters by type, stack, service and node', async () => {
    const { h, source, url, headers } = await serve();
    const started = recordingClient(`${url}?type=replica.started&stack=web&service=app&node=n1`, { headers });
    const otherNode = recordingClient(`${url}?node=n2`, { headers });
    const scheduling = recordingClient(`${url}?type=replica.sch*,deploy.*`, { headers });
    await Promise.all([started.opened, otherNode.opened, scheduling.opened]);
    await deployAndRun(h, source, 2);
    await eventually(() => events(started).length === 2, { timeoutMs: 5000, what: 'two started events' });
    expect(types(started).sort()).toEqual(['replica.started 1', 'replica.started 2']);
    expect(types(scheduling)).toEqual(['deploy.accepted', 'replica.scheduled 1', 'replica.scheduled 2']);
    expect(events(otherNode)).toEqual([]);
    for (const client of [started, otherNode, scheduling]) client.socket.close();
  });

  it('serves Server-Sent Events without an upgrade, resuming from Last-Event-ID', async () => {
    const { h, source, address, headers } = await serve();
    await deployAndRun(h, source, 1);
    const controller = new AbortController();
    const response = await fetch(`${address}/v1/events`, { headers: { ...headers, 'last-event-id': '1' }, signal: controller.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = response.body!.getReader();
    let text = '';
    await eventually(async () => {
      const { value } = await reader.read();
      text += Buffer.from(value ?? new Uint8Array()).toString('utf8');
      return text.includes('event: replica.started');
    }, { timeoutMs: 5000, intervalMs: 1, what: 'replica.started over SSE' });
    expect(text).toContain('event: stream.hello');
    expect(text).toMatch(/id: 2\nevent: replica.scheduled\ndata: \{/);
    expect(text).not.toMatch(/id: 1\n/);
    controller.abort();
    const refused = await fetch(`${address}/v1/events?since=-4`, { headers });
    expect(refused.status).toBe(400);
    const unauthenticated = await fetch(`${address}/v1/events`);
    expect(unauthenticated.status).toBe(401);
  });

  it('constellation events prints the replayed and live events until the stream ends', async () => {
    const { h, source, app, address } = await serve();
    await deployAndRun(h, source, 2);
    const run = cli(['events', '--api', address, '--since', '0', '--filter', 'type=replica.*', '--filter', 'stack=web']);
    await eventually(() => app.websocketServer.clients.size === 1, { timeoutMs: 5000, what: 'the CLI connected' });
    // The daemon ends the stream after the replay (a close frame travels behind the events).
    for (const socket of app.websocketServer.clients) socket.close(1000, 'bye');
    const result = await run;
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines.filter((line) => / replica\.scheduled {2}web\/app\.\d on n1$/.test(line))).toHaveLength(2);
    expect(lines.filter((line) => / replica\.started {2}web\/app\.\d on n1 {2}containerId=/.test(line))).toHaveLength(2);
    expect(lines.some((line) => line.includes('deploy.accepted'))).toBe(false);
    expect(lines[0]).toMatch(/^#2 {2}\d\d:\d\d:\d\d {2}replica\.scheduled/);

    const refused = await cli(['events', '--api', address, '--token', 'wrong']);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/bearer token is wrong \[unauthorized\]/);
    const badFilter = await cli(['events', '--api', address, '--filter', 'colour=red']);
    expect(badFilter.code).toBe(2);
    expect(badFilter.stderr).toMatch(/expected KEY=VALUE with KEY one of type, stack, service, node/);
    const inspectUrl = await cli(['inspect', '--api', address, '--filter', 'kind=container']);
    expect(inspectUrl.code).toBe(0);
    expect(inspectUrl.stdout.trim()).toBe(`${address}/inspect#token=${testToken}&kind=container`);
  });
});
