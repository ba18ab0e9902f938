import { Writable } from 'node:stream';
import pino from 'pino';
import { VirtualClock } from '../../../src/sim/virtual-clock.ts';
import { SimRuntime, type SimRuntimeOptions } from '../../../src/sim/sim-runtime.ts';
import { startDaemonSystem, type DaemonSystem } from '../../../src/actors/daemon-system.ts';
import type { AgentEvent } from '../../../src/actors/agent-types.ts';
import type { AgentTelemetry } from '../../../src/actors/agent-telemetry.ts';
import { MemoryRestartLedger } from '../../../src/seams/restart-ledger.ts';
import { MemoryStateStore } from './fixtures.ts';

export interface LogLine { level: number; msg: string; [field: string]: unknown }

export interface Harness {
  clock: VirtualClock;
  runtime: SimRuntime;
  store: MemoryStateStore;
  agent: DaemonSystem;
  events: AgentEvent[];
  engineErrors: string[];
  restartLedger: MemoryRestartLedger;
  /** The agent's log lines at info and above, parsed. */
  logs: LogLine[];
  /** Runs virtual time until `predicate` holds; fails the test naming `what` otherwise. */
  until(predicate: () => boolean, what: string, limitMs?: number): Promise<void>;
  restartAgent(): Promise<void>;
  stop(): Promise<void>;
}

export async function startHarness(options: Partial<SimRuntimeOptions> = {}, shared?: { clock: VirtualClock; runtime: SimRuntime; store: MemoryStateStore; restartLedger?: MemoryRestartLedger }, system: Pick<Parameters<typeof startDaemonSystem>[0], 'rollouts'> = {}): Promise<Harness> {
  const clock = shared?.clock ?? new VirtualClock(1_000_000);
  const runtime = shared?.runtime ?? new SimRuntime({ clock, ...options });
  const store = shared?.store ?? new MemoryStateStore();
  const events: AgentEvent[] = [];
  const engineErrors: string[] = [];
  const telemetry: AgentTelemetry = { observeReconcile: () => {}, engineError: (op) => engineErrors.push(op), setContainerStates: () => {} };
  const logs: LogLine[] = [];
  const sink = new Writable({ write(chunk, _encoding, done) { logs.push(JSON.parse(String(chunk)) as LogLine); done(); } });
  const logger = pino({ level: 'info' }, sink);
  // Like the daemon's file in its data dir: a restarted agent finds the restart counts again.
  const restartLedger = shared?.restartLedger ?? new MemoryRestartLedger();
  const start = () => startDaemonSystem({ nodeId: 'n1', runtime, store, clock, logger, telemetry, reconcileIntervalMs: 5000, restartLedger, ...system });
  const h: Harness = {
    clock,
    runtime,
    store,
    agent: await start(),
    events,
    engineErrors,
    restartLedger,
    logs,
    async until(predicate, what, limitMs = 60_000) {
      const held = await clock.runUntil(predicate, limitMs);
      if (!held) throw new Error(`never happened within ${limitMs} virtual ms: ${what}\ncontainers: ${JSON.stringify(h.agent.containers(), null, 1)}`);
    },
    async restartAgent() {
      await h.agent.stop();
      h.agent = await start();
      h.agent.subscribe((e) => events.push(e));
    },
    async stop() {
      await h.agent.stop();
    },
  };
  h.agent.subscribe((e) => events.push(e));
  return h;
}

export function runningNames(runtime: SimRuntime): string[] {
  return runtime.snapshot().filter((c) => c.state === 'running').map((c) => c.name.slice(1)).sort();
}
