import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../../src/sim/seeded-random.ts';
import { calmNetwork, SimNetwork } from '../../../src/sim/sim-network.ts';
import { VirtualClock } from '../../../src/sim/virtual-clock.ts';

interface Msg {
  n: number;
  payload?: { items: number[] };
}

function setup(seed = 1, faults = calmNetwork) {
  const clock = new VirtualClock();
  const network = new SimNetwork<Msg>(clock, new SeededRandom(seed).fork('net'), faults);
  const inbox = new Map<string, { from: string; n: number; atMs: number }[]>();
  const nodes = ['a', 'b', 'c'].map((id) => {
    const transport = network.endpoint(id);
    inbox.set(id, []);
    transport.onMessage((from, message) => inbox.get(id)!.push({ from, n: message.n, atMs: clock.nowMs() }));
    return transport;
  });
  return { clock, network, inbox, a: nodes[0]!, b: nodes[1]!, c: nodes[2]! };
}

describe('SimNetwork', () => {
  it('delivers after a delay within the configured range, as a clock event', async () => {
    const { clock, inbox, a } = setup(1, { ...calmNetwork, minDelayMs: 3, maxDelayMs: 7 });
    a.send('b', { n: 1 });
    expect(inbox.get('b')).toEqual([]);
    await clock.advance(10);
    const got = inbox.get('b')!;
    expect(got).toHaveLength(1);
    expect(got[0]!.atMs).toBeGreaterThanOrEqual(3);
    expect(got[0]!.atMs).toBeLessThanOrEqual(7);
    expect(got[0]!.from).toBe('a');
  });

  it('copies messages so the receiver never shares the sender object', async () => {
    const clock = new VirtualClock();
    const network = new SimNetwork<Msg>(clock, new SeededRandom(1));
    const a = network.endpoint('a');
    const b = network.endpoint('b');
    let received: Msg | undefined;
    b.onMessage((_from, message) => (received = message));
    const sent: Msg = { n: 1, payload: { items: [1, 2] } };
    a.send('b', sent);
    sent.payload!.items.push(3);
    await clock.advance(10);
    expect(received).toEqual({ n: 1, payload: { items: [1, 2] } });
    expect(received).not.toBe(sent);
  });

  it('reorders messages when delays vary, drops and duplicates at the configured rates, and replays from the seed', async () => {
    const run = async (seed: number) => {
      const { clock, network, inbox, a } = setup(seed, { minDelayMs: 1, maxDelayMs: 50, dropRate: 0.2, duplicateRate: 0.1, slowRate: 0 });
      for (let n = 0; n < 2_000; n++) a.send('b', { n });
      await clock.advance(1_000);
      return { order: inbox.get('b')!.map((m) => m.n), stats: { ...network.stats } };
    };
    const first = await run(9);
    expect(first.stats.dropped / 2_000).toBeGreaterThan(0.15);
    expect(first.stats.dropped / 2_000).toBeLessThan(0.25);
    expect(first.stats.duplicated).toBeGreaterThan(100);
    expect(first.order.length).toBe(2_000 - first.stats.dropped + first.stats.duplicated);
    const inOrder = first.order.every((n, i) => i === 0 || n >= first.order[i - 1]!);
    expect(inOrder).toBe(false);
    expect(await run(9)).toEqual(first);
    expect((await run(10)).order).not.toEqual(first.order);
  });

  it('partitions symmetrically, cuts one way, isolates, and heals', async () => {
    const { clock, network, inbox, a, b, c } = setup();
    const drain = async () => {
      await clock.advance(10);
      const snapshot = Object.fromEntries([...inbox].map(([id, list]) => [id, list.map((m) => m.from).sort()]));
      for (const list of inbox.values()) list.length = 0;
      return snapshot;
    };
    const everyoneSends = () => {
      for (const [from, to] of [[a, 'b'], [a, 'c'], [b, 'a'], [b, 'c'], [c, 'a'], [c, 'b']] as const) from.send(to, { n: 0 });
    };

    network.partition([['a'], ['b', 'c']]);
    everyoneSends();
    expect(await drain()).toEqual({ a: [], b: ['c'], c: ['b'] });

    network.heal();
    network.cutOneWay('a', 'b');
    everyoneSends();
    expect(await drain()).toEqual({ a: ['b', 'c'], b: ['c'], c: ['a', 'b'] });

    network.heal();
    network.isolate('c');
    everyoneSends();
    expect(await drain()).toEqual({ a: ['b'], b: ['a'], c: [] });

    network.heal();
    everyoneSends();
    expect(await drain()).toEqual({ a: ['b', 'c'], b: ['a', 'c'], c: ['a', 'b'] });
  });

  it('loses a message in flight when a partition starts before it arrives', async () => {
    const { clock, network, inbox, a } = setup(1, { ...calmNetwork, minDelayMs: 5, maxDelayMs: 5 });
    a.send('b', { n: 1 });
    await clock.advance(2);
    network.partition([['a'], ['b']]);
    await clock.advance(10);
    expect(inbox.get('b')).toEqual([]);
    expect(network.stats.blocked).toBe(1);
  });

  it('drops traffic of a disconnected node and routes to its new incarnation', async () => {
    const { clock, network, a } = setup();
    network.disconnect('b');
    a.send('b', { n: 1 });
    await clock.advance(10);
    const reborn = network.endpoint('b');
    const got: number[] = [];
    reborn.onMessage((_from, message) => got.push(message.n));
    a.send('b', { n: 2 });
    await clock.advance(10);
    expect(got).toEqual([2]);
  });

  it('rejects nonsensical fault settings', () => {
    const { network } = setup();
    expect(() => network.setFaults({ ...calmNetwork, dropRate: 1.5 })).toThrow(/dropRate/);
    expect(() => network.setFaults({ ...calmNetwork, minDelayMs: 9, maxDelayMs: 1 })).toThrow(/minDelayMs/);
  });

  it('holds deliveries to a paused process until it resumes', async () => {
    const { clock, network, inbox, a } = setup(1, { ...calmNetwork, minDelayMs: 2, maxDelayMs: 2 });
    network.setPauseLookup((id) => (id === 'b' ? 100 : 0));
    a.send('b', { n: 1 });
    a.send('c', { n: 2 });
    await clock.advance(99);
    expect(inbox.get('b')).toEqual([]);
    expect(inbox.get('c')).toHaveLength(1);
    await clock.advance(1);
    expect(inbox.get('b')!.map((m) => m.atMs)).toEqual([100]);
  });
});
