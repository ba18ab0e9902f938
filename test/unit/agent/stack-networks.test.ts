import { afterEach, describe, expect, it } from 'vitest';
import type { NetworkSpec, ServiceSpec } from '../../../src/compose/types.ts';
import { startHarness, type Harness } from './agent-harness.ts';
import { service, stack } from './fixtures.ts';

const network = (name: string, external = false): NetworkSpec => ({
  key: 'default', name, external, driver: 'bridge', driverOpts: {}, internal: false, attachable: false, enableIpv6: false, labels: {}, ipam: [],
});
const onNetwork = (name: string, net: NetworkSpec, replicas = 1): ServiceSpec => ({ ...service(name, { replicas }), networks: [{ network: net, aliases: [name] }] });

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

describe('stack networks (simulated engine)', () => {
  it('creates the network once, before the first container, and removes it after the last one when the stack goes', async () => {
    h = await startHarness();
    await h.store.deploy(stack('shop', [onNetwork('web', network('shop_default'), 3), onNetwork('db', network('shop_default'))]));
    await h.until(() => h!.agent.services().every((s) => s.converged) && h!.agent.services().length === 2, 'converged');
    const calls = h.runtime.calls;
    expect(calls.filter((c) => c === 'create-network shop_default')).toHaveLength(1);
    expect(calls.indexOf('create-network shop_default')).toBeLessThan(calls.findIndex((c) => c.startsWith('create ')));
    await h.store.removeStack('shop');
    await h.until(() => h!.runtime.networkNames().length === 0, 'network removed');
    expect(calls.indexOf('remove-network shop_default')).toBeGreaterThan(calls.map((c) => c.startsWith('remove ')).lastIndexOf(true));
    expect(h.events).toContainEqual({ type: 'network-removed', name: 'shop_default' });
  });

  it('a network removed behind the agent\'s back is made again by the next create', async () => {
    h = await startHarness();
    await h.store.deploy(stack('shop', [onNetwork('web', network('shop_default'))]));
    await h.until(() => h!.agent.services()[0]?.converged === true, 'converged');
    const id = h.agent.containers()[0]!.containerId!;
    h.runtime.destroy(id);
    await h.runtime.removeNetwork('shop_default');
    await h.until(() => h!.agent.services()[0]?.converged === true && h!.runtime.networkNames().includes('shop_default'), 'recreated with its network');
  });

  it('a same-named network of someone else is not used: the replica waits and says why', async () => {
    h = await startHarness();
    h.runtime.addNetwork('shop_default', { owner: 'someone-else' });
    await h.store.deploy(stack('shop', [onNetwork('web', network('shop_default'))]));
    await h.until(() => /not this stack's/.test(h!.agent.services()[0]?.message ?? ''), 'the reason is shown');
    expect(h.runtime.calls.filter((c) => c.startsWith('create '))).toEqual([]);
  });

  it('an external network is never created: the replica waits until it exists, then runs', async () => {
    h = await startHarness();
    await h.store.deploy(stack('shop', [onNetwork('web', network('corp', true))]));
    await h.until(() => /external networks \("corp"\)/.test(h!.agent.services()[0]?.message ?? ''), 'the reason is shown');
    h.runtime.addNetwork('corp');
    await h.until(() => h!.agent.services()[0]?.converged === true, 'runs once the network exists');
    await h.store.removeStack('shop');
    await h.until(() => h!.agent.containers().length === 0, 'removed');
    expect(h.runtime.networkNames()).toEqual(['corp']);
  });
});
