import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApiServer } from '../../../src/api/build-api-server.ts';
import { InspectionHub } from '../../../src/observe/inspection-hub.ts';
import { createRedactor } from '../../../src/observe/redaction.ts';
import { eventually } from '../../support/eventually.ts';
import { startHarness, type Harness } from '../agent/agent-harness.ts';
import { service, stack } from '../agent/fixtures.ts';
import { testDeps, testToken } from '../api/fake-deps.ts';
import { cli } from '../cli/cli-harness.ts';
import { expectWireFrame } from './inspect-support.ts';

// `constellation inspect --json`: the CLI follows /v1/inspect over a real socket, fed by the real
// node agent on the simulated engine, and prints one wire frame per line.
const secretValue = 'cli-json-secret-value';

let harness: Harness | undefined;
let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
  await harness?.stop();
  harness = undefined;
});

describe('constellation inspect --json', () => {
  it('prints the filtered actors as JSON lines in the wire format, sanitized, and exits 0 when the daemon ends the stream', async () => {
    harness = await startHarness();
    const h = harness;
    await h.store.deploy(stack('app', [service('web', { replicas: 2, environment: { API_KEY: secretValue } })]));
    await h.until(() => h.agent.services()[0]?.running === 2, 'two replicas running');
    const hub = new InspectionHub({
      sources: [{ root: h.agent.root }],
      redactor: createRedactor([testToken]),
      wallClockMs: () => Date.now(),
      logger: pino({ level: 'silent' }),
    });
    const app = await buildApiServer(testDeps({ inspection: hub, bind: { host: '127.0.0.1', port: 0 } }));
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    close = async () => {
      hub.close();
      await app.close();
    };

    const run = cli(['inspect', '--json', '--api', address, '--filter', 'kind=container']);
    await eventually(() => app.websocketServer.clients.size === 1 && hub.attachedObservers() === 1, { timeoutMs: 5000, what: 'the CLI watching' });
    // The hub replays while it connects the viewer; the close frame travels behind the replay.
    for (const socket of app.websocketServer.clients) socket.close(1000, 'bye');
    const result = await run;

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    const frames = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const wire = frames.filter((frame) => String(frame.type).startsWith('@xstate.'));
    for (const frame of wire) expectWireFrame(frame);
    expect(frames.find((frame) => frame.type === '@constellation.replayed')).toMatchObject({ actors: 2 });
    const actorNames = wire.filter((frame) => frame.type === '@xstate.actor').map((frame) => String(frame.name));
    expect(actorNames.filter((name) => name.startsWith('container.app_web_'))).toHaveLength(2);
    // The filter held: the agent itself is not a container actor.
    expect(actorNames).not.toContain('node-agent');
    expect(result.stdout).not.toContain(secretValue);
    await eventually(() => hub.attachedObservers() === 0, { timeoutMs: 5000, what: 'the observer detached after the CLI left' });
  });
});
