// A node agent in a process of its own, for the SIGKILL tests: deploys the stack given as JSON
// (argv[4]) into the file store at argv[3] on the engine at argv[2], then prints one line per
// replica that reaches running ("running NAME") and "converged" once the stack has converged.
import pino from 'pino';
import { createDockerRuntime } from '../../src/adapters/docker/dockerode-runtime.ts';
import { FileStateStore } from '../../src/adapters/file-state-store.ts';
import { systemClock } from '../../src/adapters/system-clock.ts';
import { startDaemonSystem } from '../../src/actors/daemon-system.ts';
import { noopTelemetry } from '../../src/actors/agent-telemetry.ts';
import { stableHash } from '../../src/cluster/stable-hash.ts';
import type { StackSpec } from '../../src/compose/types.ts';

const [dockerHost, dataDir, stackJson, nodeId] = process.argv.slice(2);
if (!dockerHost || !dataDir || !stackJson || !nodeId) throw new Error('usage: agent-process.ts DOCKER_HOST DATA_DIR STACK_JSON NODE_ID');
const stack = JSON.parse(stackJson) as StackSpec;
const store = new FileStateStore(dataDir);
await store.open();
const agent = await startDaemonSystem({ nodeId, runtime: createDockerRuntime(dockerHost), store, clock: systemClock, logger: pino({ level: 'silent' }), telemetry: noopTelemetry, reconcileIntervalMs: 2000 });
const announced = new Set<string>();
agent.subscribe((event) => {
  if (event.type === 'container' && event.container.state === 'running' && !announced.has(event.container.name)) {
    announced.add(event.container.name);
    process.stdout.write(`running ${event.container.name}\n`);
  }
  const services = agent.services();
  if (services.length > 0 && services.every((s) => s.converged)) process.stdout.write('converged\n');
});
await store.submit({ clientId: 'agent-process', seq: Date.now(), command: { type: 'deploy-stack', stack, specHash: stableHash(stack), atMs: Date.now() } });
