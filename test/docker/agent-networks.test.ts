/**
 * Per-stack networks on a real engine: services of one stack reach each other by service name
 * (the engine's DNS answers the alias on the stack network), the network exists before the first
 * container and goes away with the stack, after its containers.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { converged, startRealAgent, type RealAgent } from './agent-harness.ts';
import { loadCompose } from '../../src/compose/load-compose.ts';
import type { StackSpec } from '../../src/compose/types.ts';
import { docker } from '../support/docker-engine.ts';

let a: RealAgent;
const image = inject('testImage');
const dockerHost = `unix://${inject('dockerSocket')}`;
const stackName = `net${process.pid}`;

beforeAll(async () => {
  a = await startRealAgent(inject('dockerSocket'), `networks-${process.pid}`);
});
afterAll(async () => {
  await a?.dispose();
});

function load(yaml: string): StackSpec {
  const result = loadCompose({ content: yaml, stackName, env: {} });
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.stack;
}

const compose = [
  'services:',
  '  db:',
  `    image: ${image}`,
  '    command: ["httpd", "-f", "-p", "80", "-h", "/www"]',
  '  web:',
  `    image: ${image}`,
  '    command: ["sh", "-c", "trap \\"exit 0\\" TERM; sleep 3600 & wait"]',
  '',
].join('\n');

async function ourNetworks(): Promise<string[]> {
  return (await a.runtime.listNetworks({ 'constellation.stack': stackName })).map((n) => n.name).sort();
}

describe('stack networks on a real engine', () => {
  it('two services of a stack resolve and reach each other by service name', async () => {
    await a.deploy(load(compose));
    await a.waitFor((agent) => converged(agent, stackName), `${stackName} converged`);
    expect(await ourNetworks()).toEqual([`${stackName}_default`]);
    const web = a.agent.containers().find((c) => c.service === 'web')!;
    const lookup = await docker(dockerHost, ['exec', web.containerId!, 'nslookup', 'db']);
    expect(lookup.stdout).toMatch(/Address:?\s+\d+\.\d+\.\d+\.\d+/);
    const fetched = await docker(dockerHost, ['exec', web.containerId!, 'wget', '-q', '-O', '-', 'http://db/']);
    expect(fetched.stdout).toBe('constellation test image\n');
    // It is on the stack network only, not on the default bridge.
    const inspected = await docker(dockerHost, ['inspect', '--format', '{{json .NetworkSettings.Networks}}', web.containerId!]);
    expect(Object.keys(JSON.parse(inspected.stdout) as Record<string, unknown>)).toEqual([`${stackName}_default`]);
  });

  it('the network is removed with the stack, after its containers', async () => {
    const from = a.events.length;
    await a.removeStack(stackName);
    await a.waitFor(() => a.events.slice(from).some((e) => e.type === 'network-removed' && e.name === `${stackName}_default`), 'stack network removed', 30_000);
    const order = a.events.slice(from).filter((e) => e.type === 'container-removed' || e.type === 'network-removed').map((e) => e.type);
    expect(order.at(-1)).toBe('network-removed');
    expect(order.filter((t) => t === 'container-removed')).toHaveLength(2);
    expect(await ourNetworks()).toEqual([]);
  });
});
