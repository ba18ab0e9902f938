import fc from 'fast-check';
import type { FaultAction, FaultEvent, FaultSchedule } from '../../src/sim/fault-schedule.ts';
import type { NetworkFaults } from '../../src/sim/sim-network.ts';

/** Rates as per-mille integers so schedules print cleanly and never carry -0 or NaN. */
const rate = (maxPerMille: number): fc.Arbitrary<number> => fc.integer({ min: 0, max: maxPerMille }).map((x) => x / 1000);

const networkFaults: fc.Arbitrary<NetworkFaults> = fc
  .record({ minDelayMs: fc.integer({ min: 0, max: 5 }), spreadMs: fc.integer({ min: 0, max: 40 }), dropRate: rate(300), duplicateRate: rate(200), slowRate: rate(50) })
  .map(({ minDelayMs, spreadMs, ...rates }) => ({ minDelayMs, maxDelayMs: minDelayMs + spreadMs, ...rates }));

function actionArbitrary(nodeCount: number): fc.Arbitrary<FaultAction> {
  const node = fc.integer({ min: 0, max: nodeCount - 1 });
  const partition = fc.array(fc.integer({ min: 0, max: 2 }), { minLength: nodeCount, maxLength: nodeCount }).map((sides) => {
    const groups = [0, 1, 2].map((side) => sides.flatMap((s, i) => (s === side ? [i] : []))).filter((g) => g.length > 0);
    return { kind: 'partition', groups } as const;
  });
  const oneWay = fc
    .tuple(node, fc.integer({ min: 1, max: nodeCount - 1 }))
    .map(([from, offset]) => ({ kind: 'one-way', from, to: (from + offset) % nodeCount }) as const);
  return fc.oneof(
    { weight: 3, arbitrary: partition },
    { weight: 2, arbitrary: oneWay },
    { weight: 2, arbitrary: node.map((n) => ({ kind: 'isolate', node: n }) as const) },
    { weight: 3, arbitrary: fc.constant({ kind: 'heal' } as const) },
    {
      weight: 3,
      arbitrary: fc
        .record({ node, tornWrites: fc.boolean(), downMs: fc.integer({ min: 0, max: 1_500 }) })
        .map((crash) => ({ kind: 'crash', ...crash }) as const),
    },
    { weight: 2, arbitrary: networkFaults.map((faults) => ({ kind: 'network', faults }) as const) },
    { weight: 1, arbitrary: node.map((to) => ({ kind: 'transfer-leader', to }) as const) },
    {
      weight: 3,
      arbitrary: fc
        .record({ tornWrites: fc.boolean(), downMs: fc.integer({ min: 0, max: 600 }) })
        .map((crash) => ({ kind: 'crash-leader', ...crash }) as const),
    },
    { weight: 2, arbitrary: fc.constant({ kind: 'isolate-leader' } as const) },
    { weight: 1, arbitrary: fc.constant({ kind: 'add-member' } as const) },
    // One past the founders so a spare that joined can be removed again.
    { weight: 1, arbitrary: fc.integer({ min: 0, max: nodeCount }).map((n) => ({ kind: 'remove-member', node: n }) as const) },
    {
      weight: 2,
      arbitrary: fc.record({ node, ms: fc.integer({ min: 20, max: 800 }) }).map((pause) => ({ kind: 'pause', ...pause }) as const),
    },
  );
}

/**
 * A random fault schedule for an N-member cluster. The property tests draw it from a single seed
 * with `fc.sample(arbitrary, { seed })`, so the seed alone replays the whole run.
 */
export function scheduleArbitrary(nodeCount: number): fc.Arbitrary<FaultSchedule> {
  return fc
    .record({
      safetyMs: fc.integer({ min: 800, max: 3_000 }),
      spareMembers: fc.constantFrom(0, 1),
      clients: fc.integer({ min: 1, max: 4 }),
      keys: fc.integer({ min: 1, max: 3 }),
      maxThinkMs: fc.integer({ min: 0, max: 30 }),
      snapshotEveryEntries: fc.constantFrom(8, 25, 10_000),
      clockDriftPerMille: fc.constantFrom(0, 20, 100, 300),
      events: fc.array(fc.record({ at: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), action: actionArbitrary(nodeCount) }), { maxLength: 24 }),
    })
    .map(({ events, ...rest }) => ({
      nodeCount,
      ...rest,
      events: events
        .map((e): FaultEvent => ({ atMs: Math.floor(e.at * rest.safetyMs), action: e.action }))
        .sort((a, b) => a.atMs - b.atMs),
    }));
}

export function scheduleForSeed(seed: number, nodeCount: number): FaultSchedule {
  return fc.sample(scheduleArbitrary(nodeCount), { seed, numRuns: 1 })[0]!;
}
