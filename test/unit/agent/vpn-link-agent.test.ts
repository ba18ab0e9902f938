import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './agent-harness.ts';
import { service, stack } from './fixtures.ts';
import type { ServiceSpec, VpnOnUnhealthy } from '../../../src/compose/types.ts';
import type { AgentEvent } from '../../../src/actors/agent-types.ts';

// The node agent with its vpn-link actors on the simulated engine (which, like Docker, refuses to
// start a container whose network container is missing or stopped).

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const healthcheck = { test: ['CMD', 'true'], intervalMs: 1000, timeoutMs: 1000, retries: 1, startPeriodMs: 0, disable: false } as unknown as NonNullable<ServiceSpec['healthcheck']>;
const policy = { condition: 'any', delayMs: 1000, windowMs: 0 } as const;

function group(onUnhealthy: VpnOnUnhealthy = 'stop', gwCommand = ['sleep', '3600'], webCommand = ['sleep', '3600']) {
  const dependent = (name: string, after: string[], command = ['sleep', '3600']) => service(name, {
    networkMode: 'service:gw',
    command,
    restartPolicy: policy,
    dependsOn: Object.fromEntries(after.map((d) => [d, { condition: 'service_started', required: true, restart: false }])),
  });
  return stack('vpn', [
    service('gw', { healthcheck, vpn: { onUnhealthy }, command: gwCommand, restartPolicy: policy }),
    dependent('web', ['gw'], webCommand),
    dependent('api', ['gw', 'web']),
    dependent('dl', ['gw', 'api']),
  ]);
}

const ids = (r: Harness) => Object.fromEntries(['gw', 'web', 'api', 'dl'].map((s) => [s, r.runtime.byName(`vpn_${s}_1`)?.id]));
const states = (r: Harness) => ['web', 'api', 'dl'].map((s) => r.runtime.byName(`vpn_${s}_1`)?.state ?? 'none');
const link = (r: Harness) => r.agent.vpnLinks()[0];

/** Every dependent runs inside gw's current container, and started after gw's current run. */
function linked(r: Harness): boolean {
  const gw = r.runtime.byName('vpn_gw_1');
  if (gw?.state !== 'running') return false;
  return ['web', 'api', 'dl'].every((s) => {
    const c = r.runtime.byName(`vpn_${s}_1`);
    return c?.state === 'running' && c.networkMode === `container:${gw.id}` && (c.startedAtMs ?? 0) >= (gw.startedAtMs ?? Infinity);
  });
}

async function up(r: Harness): Promise<void> {
  await r.until(() => r.runtime.byName('vpn_gw_1')?.health === 'starting', 'gw started');
  r.runtime.setHealth(r.runtime.byName('vpn_gw_1')!.id, 'healthy');
  await r.until(() => linked(r) && link(r)?.state === 'up', 'group up');
}

/** The order the dependents were started in, from the engine's calls after `from`. */
function starts(r: Harness, from: number): string[] {
  return r.runtime.calls.slice(from).filter((c) => /^start vpn_(web|api|dl)_1$/.test(c)).map((c) => c.slice('start vpn_'.length, -2));
}

describe('vpn-link in the node agent', () => {
  it('starts X first, waits for it to be healthy, then the dependents in depends_on order inside its container', async () => {
    h = await startHarness();
    await h.store.deploy(group());
    await h.until(() => h!.runtime.byName('vpn_gw_1')?.health === 'starting', 'gw started');
    await h.clock.runUntil(() => false, 3000);
    expect(h.runtime.byName('vpn_web_1')).toBeUndefined();
    expect(h.agent.services().find((s) => s.service === 'web')?.message).toBe('waiting for gw to be healthy: web runs only inside its network');
    h.runtime.setHealth(h.runtime.byName('vpn_gw_1')!.id, 'healthy');
    await h.until(() => linked(h!) && link(h!)?.state === 'up', 'group up');
    expect(starts(h, 0)).toEqual(['web', 'api', 'dl']);
    expect(link(h)).toMatchObject({ stack: 'vpn', vpn: 'gw', state: 'up', detail: 'up', dependents: 3 });
  });

  it('X restarted by the engine: every dependent is restarted into its new namespace, same containers', async () => {
    h = await startHarness();
    await h.store.deploy(group());
    await up(h);
    const before = ids(h);
    const mark = h.runtime.calls.length;
    h.runtime.restart(before.gw!);
    await h.until(() => states(h!).every((s) => s === 'exited'), 'dependents stopped while gw is not healthy');
    expect(link(h)?.detail).toMatch(/^down \(gw (not running|not healthy yet); kill switch stop/);
    h.runtime.setHealth(before.gw!, 'healthy');
    await h.until(() => linked(h!) && link(h!)?.state === 'up', 'recovered');
    expect(ids(h)).toEqual(before);
    expect(starts(h, mark)).toEqual(['web', 'api', 'dl']);
    const recovered = h.events.filter((e): e is Extract<AgentEvent, { type: 'vpn-link' }> => e.type === 'vpn-link' && e.recoveredSeconds !== undefined);
    expect(recovered).toHaveLength(1);
    expect(recovered[0]!.link.recoveries).toBe(1);
  });

  it('X recreated (spec changed): every dependent is recreated against the new id', async () => {
    h = await startHarness();
    await h.store.deploy(group());
    await up(h);
    const before = ids(h);
    await h.store.deploy(group('stop', ['sleep', '7200']));
    await h.until(() => h!.runtime.byName('vpn_gw_1')?.id !== before.gw && h!.runtime.byName('vpn_gw_1')?.health === 'starting', 'new gw');
    h.runtime.setHealth(h.runtime.byName('vpn_gw_1')!.id, 'healthy');
    await h.until(() => linked(h!) && link(h!)?.state === 'up', 'recovered');
    const after = ids(h);
    for (const s of ['web', 'api', 'dl']) expect(after[s]).not.toBe(before[s]);
    expect(h.runtime.snapshot().every((c) => !c.networkMode?.startsWith('container:') || c.networkMode === `container:${after.gw}`)).toBe(true);
  });

  it('X unhealthy: the kill switch stops the dependents until X is healthy again', async () => {
    h = await startHarness();
    await h.store.deploy(group());
    await up(h);
    const gw = ids(h).gw!;
    h.runtime.setHealth(gw, 'unhealthy');
    await h.until(() => states(h!).every((s) => s === 'exited'), 'dependents stopped');
    await h.until(() => h!.runtime.byName('vpn_gw_1')?.state === 'running' && h!.runtime.byName('vpn_gw_1')?.health === 'starting', 'gw replaced by its policy');
    expect(states(h)).toEqual(['exited', 'exited', 'exited']);
    h.runtime.setHealth(gw, 'healthy');
    await h.until(() => linked(h!) && link(h!)?.state === 'up', 'back');
  });

  it('pause: dependents are frozen while X is unhealthy, thawed after', async () => {
    h = await startHarness();
    await h.store.deploy(group('pause'));
    await up(h);
    const gw = ids(h).gw!;
    h.runtime.setHealth(gw, 'unhealthy');
    await h.until(() => states(h!).every((s) => s === 'paused'), 'dependents paused');
    await h.until(() => h!.runtime.byName('vpn_gw_1')?.health === 'starting', 'gw back');
    h.runtime.setHealth(gw, 'healthy');
    // gw restarted: thawed, then restarted into its new namespace.
    await h.until(() => linked(h!) && link(h!)?.state === 'up', 'back');
  });

  it('one dependent updated: X and the other dependents are left alone', async () => {
    h = await startHarness();
    await h.store.deploy(group());
    await up(h);
    const before = ids(h);
    const mark = h.runtime.calls.length;
    await h.store.deploy(group('stop', ['sleep', '3600'], ['sleep', '7200']));
    await h.until(() => h!.runtime.byName('vpn_web_1')?.id !== before.web && linked(h!), 'web replaced');
    const after = ids(h);
    expect([after.gw, after.api, after.dl]).toEqual([before.gw, before.api, before.dl]);
    expect(h.runtime.calls.slice(mark).filter((c) => !c.endsWith('vpn_web_1'))).toEqual([]);
    expect(link(h)?.state).toBe('up');
  });

  it('a daemon restarted during a recovery finishes it', async () => {
    h = await startHarness();
    await h.store.deploy(group());
    await up(h);
    const gw = ids(h).gw!;
    h.runtime.restart(gw);
    await h.until(() => states(h!).every((s) => s === 'exited'), 'dependents held');
    await h.restartAgent();
    h.runtime.setHealth(gw, 'healthy');
    await h.until(() => linked(h!), 'the new agent brought them back');
    // And a dependent left running in the dead namespace while no daemon watched is restarted too.
    const mark = h.runtime.calls.length;
    await h.stop();
    await h.clock.runUntil(() => false, 1000);
    h.runtime.restart(gw);
    h.runtime.setHealth(gw, 'healthy');
    expect(linked(h)).toBe(false);
    await h.restartAgent();
    await h.until(() => linked(h!) && link(h!)?.state === 'up', 'restarted into the new namespace');
    expect(starts(h, mark)).toEqual(['web', 'api', 'dl']);
  });
});
