import { Writable } from 'node:stream';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { buildApiServer } from '../../../src/api/build-api-server.ts';
import type { ApiDeps, ContainerInfo, ServiceInfo } from '../../../src/api/api-deps.ts';
import type { ClientRequest, CommandResult } from '../../../src/cluster/commands.ts';
import { ClusterState } from '../../../src/cluster/state.ts';
import { loadCompose } from '../../../src/compose/load-compose.ts';
import { createDaemonMetrics } from '../../../src/metrics/daemon-metrics.ts';

/**
 * A store that applies commands to the real ClusterState in memory and records every submit,
 * so tests can assert that a rejected request never reached it.
 */
export class RecordingStore {
  readonly submitted: ClientRequest[] = [];
  failNext: Error | undefined;
  private readonly state = new ClusterState();

  current() {
    return this.state.view();
  }

  async submit(request: ClientRequest): Promise<CommandResult> {
    if (this.failNext) {
      const error = this.failNext;
      this.failNext = undefined;
      throw error;
    }
    this.submitted.push(request);
    return this.state.apply(this.state.appliedIndex + 1, request);
  }
}

export class FakeAgent {
  containerList: ContainerInfo[] = [];
  serviceList: ServiceInfo[] = [];
  containers() {
    return this.containerList;
  }
  services() {
    return this.serviceList;
  }
}

export interface TestDeps extends ApiDeps {
  readonly store: RecordingStore;
  readonly agent: FakeAgent;
  readonly logLines: string[];
}

export const testToken = 'test-token-0123456789abcdef';
export const testBind = { host: '127.0.0.1', port: 7420 } as const;
/** What a legitimate local client sends: the token, and a Host naming the API's loopback address. */
export const clientHeaders = { authorization: `Bearer ${testToken}`, host: `${testBind.host}:${testBind.port}` } as const;

/** An API server whose `inject` speaks as a legitimate local client (headers given win). */
export interface TestApi {
  readonly app: FastifyInstance;
  inject(options: InjectOptions): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export async function buildTestApi(deps: TestDeps): Promise<TestApi> {
  const app = await buildApiServer(deps);
  return {
    app,
    inject: (options) => app.inject({ ...options, headers: { ...clientHeaders, ...options.headers } }),
    close: () => app.close(),
  };
}

export function testDeps(overrides: Partial<ApiDeps> = {}): TestDeps {
  const logLines: string[] = [];
  const sink = new Writable({ write(chunk, _encoding, done) { logLines.push(String(chunk)); done(); } });
  return {
    nodeId: 'node-a',
    clientId: 'api:test',
    store: new RecordingStore(),
    agent: new FakeAgent(),
    loadCompose,
    logger: pino({ level: 'info' }, sink),
    wallClockMs: () => Date.UTC(2026, 0, 2, 3, 4, 5),
    metrics: createDaemonMetrics({ collectProcessMetrics: false }),
    token: testToken,
    bind: testBind,
    logLines,
    ...overrides,
  } as TestDeps;
}
