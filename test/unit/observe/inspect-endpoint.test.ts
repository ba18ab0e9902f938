import { createWebSocketReceiver, type StatelyInspectionEvent } from '@statelyai/inspect';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { assign, createActor, setup } from 'xstate';
import { buildApiServer } from '../../../src/api/build-api-server.ts';
import { InspectionHub, type InspectionSource } from '../../../src/observe/inspection-hub.ts';
import { createRedactor } from '../../../src/observe/redaction.ts';
import { eventually } from '../../support/eventually.ts';
import { startHarness, type Harness } from '../agent/agent-harness.ts';
import { service, stack } from '../agent/fixtures.ts';
import { testDeps, testToken } from '../api/fake-deps.ts';
import { expectWireFrame, recordingClient, refusedStatus } from './inspect-support.ts';

// The inspection endpoint over a real socket, fed by the real node agent on the simulated engine.
const secretValue = 'hunter2-do-not-leak';
const plainValue = 'plain-value-also-hidden';

/** The top-level state of a machine snapshot (`{running: 'none'}` → `running`). */
function topState(snapshot: unknown): string | undefined {
  const value = (snapshot as { value?: unknown }).value;
  return typeof value === 'string' ? value : value && typeof value === 'object' ? Object.keys(value)[0] : undefined;
}

let harness: Harness | undefined;
let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
  await harness?.stop();
  harness = undefined;
});

async function serve(sources: (h: Harness | undefined) => InspectionSource[], maxBufferedBytes?: number) {
  const hub = new InspectionHub({
    sources: sources(harness),
    redactor: createRedactor([testToken]),
    wallClockMs: () => Date.now(),
    logger: pino({ level: 'silent' }),
    ...(maxBufferedBytes !== undefined ? { maxBufferedBytes } : {}),
  });
  const app = await buildApiServer(testDeps({ inspection: hub, bind: { host: '127.0.0.1', port: 0 } }));
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  close = async () => {
    hub.close();
    await app.close();
  };
  const port = new URL(address).port;
  return { hub, port, url: `ws://127.0.0.1:${port}/v1/inspect`, headers: { authorization: `Bearer ${testToken}` } };
}

async function agentWithStack(): Promise<Harness> {
  harness = await startHarness();
  const web = service('web', {
    replicas: 2,
    environment: { DB_PASSWORD: secretValue, PLAIN: plainValue },
    // The API token in a command line is scrubbed by value, wherever it turns up.
    command: ['sh', '-c', `echo ${testToken}; sleep 3600`],
  });
  await harness.store.deploy(stack('app', [web]));
  await harness.until(() => harness!.agent.services()[0]?.running === 2, 'two replicas running');
  return harness;
}

describe('GET /v1/inspect', () => {
  it('replays every live actor to a late viewer, then streams; @statelyai/inspect\'s receiver consumes it', async () => {
    const h = await agentWithStack();
    const { port, hub } = await serve((x) => [{ root: x!.agent.root }]);
    expect(hub.attachedObservers()).toBe(0);

    // The token travels as the URL's password: this receiver takes nothing but a URL.
    const receiver = createWebSocketReceiver({ server: `ws://:${testToken}@127.0.0.1:${port}/v1/inspect` });
    const received: StatelyInspectionEvent[] = [];
    receiver.subscribe((event) => received.push(event));
    const actors = () => received.filter((event): event is Extract<StatelyInspectionEvent, { type: '@xstate.actor' }> => event.type === '@xstate.actor');
    await eventually(() => actors().filter((a) => a.name.startsWith('container.app_web_')).length === 2, { timeoutMs: 5000, what: 'the replay of both container actors' });
    expect(hub.attachedObservers()).toBe(1);
    const agent = actors().find((a) => a.name === 'node-agent')!;
    expect(agent.parentId).toBeUndefined();
    // Container actors are named container.<replica>.<generation>.
    const container = actors().find((a) => a.name.startsWith('container.app_web_1.'))!;
    expect(container.parentId).toBe(agent.sessionId);
    expect(container.rootId).toBe(agent.sessionId);
    expect(topState(container.snapshot)).toBe('running');
    const definition = JSON.parse(container.definition!) as { id: string; states: Record<string, unknown> };
    expect(definition.id).toBe('container');
    expect(Object.keys(definition.states)).toEqual(expect.arrayContaining(['creating', 'running', 'backoff']));
    for (const event of received) expectWireFrame(event as unknown as Record<string, unknown>);

    // Live: scaling up announces a new actor, its events and snapshots.
    await h.store.deploy(stack('app', [service('web', { replicas: 3, environment: { DB_PASSWORD: secretValue, PLAIN: plainValue }, command: ['sh', '-c', `echo ${testToken}; sleep 3600`] })]));
    await h.until(() => h.agent.services()[0]?.running === 3, 'three replicas running');
    await eventually(() => actors().some((a) => a.name.startsWith('container.app_web_3.')), { timeoutMs: 5000, what: 'the third container actor, live' });
    const third = actors().find((a) => a.name.startsWith('container.app_web_3.'))!;
    await eventually(() => received.some((e) => e.type === '@xstate.snapshot' && e.sessionId === third.sessionId && topState(e.snapshot) === 'running'), { timeoutMs: 5000, what: 'the third container running, as a snapshot frame' });
    expect(received.some((e) => e.type === '@xstate.event' && e.sessionId === third.sessionId)).toBe(true);
    for (const event of received) expectWireFrame(event as unknown as Record<string, unknown>);
  });

  it('never sends environment values, the token or other secrets; names stay', async () => {
    const h = await agentWithStack();
    const { url, headers } = await serve((x) => [{ root: x!.agent.root }]);
    const client = recordingClient(url, { headers });
    await client.opened;
    await eventually(() => client.frames.some((f) => f.type === '@constellation.replayed'), { timeoutMs: 5000, what: 'the replay' });
    await h.store.deploy(stack('app', [service('web', { replicas: 1, environment: { DB_PASSWORD: secretValue, PLAIN: plainValue } })]));
    await h.until(() => h.agent.services()[0]?.running === 1 && h.agent.containers().length === 1, 'scaled down to one replica');
    await eventually(() => client.frames.some((f) => f.type === '@xstate.event' && JSON.stringify(f.event).includes('desired.changed')), { timeoutMs: 5000, what: 'the desired-state change, as an event frame' });
    const all = client.texts.join('\n');
    expect(all).toContain('DB_PASSWORD');
    expect(all).toContain('<redacted>');
    for (const secret of [secretValue, plainValue, testToken]) expect(all).not.toContain(secret);
    client.socket.close();
  });

  it('filters by actor kind and id prefix (with descendants)', async () => {
    await agentWithStack();
    const { url, headers } = await serve((x) => [{ root: x!.agent.root }]);
    const client = recordingClient(`${url}?kind=container&id=container.app_web_2`, { headers });
    await eventually(() => client.frames.find((f) => f.type === '@constellation.replayed'), { timeoutMs: 5000, what: 'the replay' });
    const names = client.frames.filter((f) => f.type === '@xstate.actor').map((f) => f.name);
    expect(names).toEqual([expect.stringMatching(/^container\.app_web_2\./)]);
    expect(client.frames.find((f) => f.type === '@constellation.replayed')!.actors).toBe(1);
    client.socket.close();
  });

  it('attaches the observer only while someone watches, and detaching leaves none behind', async () => {
    const h = await agentWithStack();
    const { url, headers, hub } = await serve((x) => [{ root: x!.agent.root }]);
    const first = recordingClient(url, { headers });
    const second = recordingClient(url, { headers });
    await Promise.all([first.opened, second.opened]);
    await eventually(() => hub.viewerCount() === 2, { timeoutMs: 5000, what: 'two viewers' });
    expect(hub.attachedObservers()).toBe(1);
    first.socket.close();
    await first.closed;
    await eventually(() => hub.viewerCount() === 1, { timeoutMs: 5000, what: 'one viewer left' });
    expect(hub.attachedObservers()).toBe(1);
    second.socket.close();
    await eventually(() => hub.viewerCount() === 0, { timeoutMs: 5000, what: 'no viewer left' });
    expect(hub.attachedObservers()).toBe(0);

    // Nobody watches: a burst of actor activity reaches no observer at all.
    const seen = hub.stats.inspectionEvents;
    await h.store.deploy(stack('app', [service('web', { replicas: 4 })]));
    await h.until(() => h.agent.services()[0]?.running === 4, 'four replicas running');
    expect(hub.stats.inspectionEvents).toBe(seen);
  });

  it('cuts a viewer that stops reading off with a reason instead of buffering without bound', async () => {
    // A busy actor with a large context: every snapshot frame is about 100 KB.
    const busy = createActor(setup({ types: { context: {} as { blob: string[]; n: number } } }).createMachine({
      id: 'busy',
      context: { blob: Array.from({ length: 50 }, (_, i) => `${i}`.padEnd(1900, 'x')), n: 0 },
      on: { TICK: { actions: assign({ n: ({ context }) => context.n + 1 }) } },
    }));
    busy.start();
    const { url, headers, hub } = await serve(() => [{ root: busy }], 512 * 1024);
    const client = recordingClient(url, { headers });
    await client.opened;
    // Stop reading: the kernel's buffers fill, then the server's.
    (client.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    await eventually(async () => {
      for (let i = 0; i < 20; i++) busy.send({ type: 'TICK' });
      await new Promise((resolve) => setImmediate(resolve));
      return hub.stats.viewersCutOff === 1;
    }, { timeoutMs: 20_000, intervalMs: 1, what: 'the slow viewer to be cut off' });
    expect(hub.viewerCount()).toBe(0);
    expect(hub.attachedObservers()).toBe(0);
    (client.socket as unknown as { _socket: { resume(): void } })._socket.resume();
    const closed = await client.closed;
    expect(closed.code).toBe(4008);
    expect(closed.reason).toMatch(/viewer too slow/);
    busy.stop();
  });

  it('takes the same authentication and cross-site rules as the API', async () => {
    await agentWithStack();
    const { url, headers, port } = await serve((x) => [{ root: x!.agent.root }]);
    expect(await refusedStatus(url)).toBe(401);
    expect(await refusedStatus(url, { headers: { authorization: 'Bearer wrong-token' } })).toBe(401);
    expect(await refusedStatus(url, { headers: { ...headers, origin: 'http://evil.example' } })).toBe(403);
    expect(await refusedStatus(url, { headers: { ...headers, host: `evil.example:${port}` } })).toBe(421);
    // A browser page of the daemon itself: the token as a subprotocol, Origin its own.
    const browserLike = recordingClient(url, {
      protocols: ['constellation.v1', `constellation.bearer.${Buffer.from(testToken).toString('base64url')}`],
      headers: { origin: `http://127.0.0.1:${port}` },
    });
    await browserLike.opened;
    expect(browserLike.socket.protocol).toBe('constellation.v1');
    browserLike.socket.close();
    // Basic credentials count only on a WebSocket handshake, never on a plain request.
    const basic = `Basic ${Buffer.from(`:${testToken}`).toString('base64')}`;
    const plain = await fetch(`http://127.0.0.1:${port}/v1/containers`, { headers: { authorization: basic } });
    expect(plain.status).toBe(401);
    const notUpgraded = await fetch(`http://127.0.0.1:${port}/v1/inspect`, { headers });
    expect(notUpgraded.status).toBe(426);
    expect(((await notUpgraded.json()) as { error: { code: string } }).error.code).toBe('upgrade_required');
  });
});
