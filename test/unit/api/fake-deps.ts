import { Writable } from 'node:stream';
import { pino } from 'pino';
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
    logLines,
    ...overrides,
  } as TestDeps;
}
