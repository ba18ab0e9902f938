// Properties of the replicated state machine that Raft relies on: applying the same log gives the
// same state on every member, a snapshot restores to a state that goes on identically, and a
// retried request (the same client id and sequence reaching the log again) changes nothing.
// Ids and keys include names of Object.prototype members, and states are compared structurally
// with node's deepStrictEqual (prototypes included), not through their JSON, which would hide an
// entry that became a prototype.
import { deepStrictEqual } from 'node:assert/strict';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ClientRequest, ClusterCommand } from '../../src/cluster/commands.ts';
import { ClusterState, type ClusterStateData } from '../../src/cluster/state.ts';
import { service, stack } from '../unit/agent/fixtures.ts';

const stackNames = ['web', '__proto__', 'constructor'] as const;
const serviceNames = ['api', 'toString', '__proto__'] as const;
const nodeIds = ['n1', '__proto__', 'valueOf'] as const;
const keys = ['a', '__proto__', 'constructor', 'toString', 'hasOwnProperty'] as const;
const clientIds = ['c1', '__proto__', 'constructor', 'hasOwnProperty'] as const;

const deployArb: fc.Arbitrary<ClusterCommand> = fc
  .record({
    name: fc.constantFrom(...stackNames),
    services: fc.uniqueArray(fc.record({ name: fc.constantFrom(...serviceNames), replicas: fc.integer({ min: 0, max: 4 }) }), { selector: (s) => s.name, minLength: 1 }),
    atMs: fc.nat(),
  })
  .map(({ name, services, atMs }) => ({
    type: 'deploy-stack' as const,
    stack: stack(name, services.map((s) => service(s.name, { replicas: s.replicas }))),
    specHash: services.map((s) => `${s.name}:${s.replicas}`).join(','),
    atMs,
  }));

const placeArb: fc.Arbitrary<ClusterCommand> = fc.record({
  type: fc.constant('place-service' as const),
  stack: fc.constantFrom(...stackNames),
  service: fc.constantFrom(...serviceNames),
  stackVersion: fc.oneof({ arbitrary: fc.integer({ min: 1, max: 3 }), weight: 4 }, { arbitrary: fc.integer({ min: 0, max: 4 }), weight: 1 }),
  // Mostly placements that can apply, sometimes ones that must be refused (bad slot, unknown node).
  slots: fc.oneof(
    { arbitrary: fc.dictionary(fc.constantFrom('1', '2'), fc.constantFrom(...nodeIds), { maxKeys: 2 }), weight: 4 },
    { arbitrary: fc.dictionary(fc.constantFrom('0', '1', '4', '5', 'x', '__proto__'), fc.constantFrom(...nodeIds, 'n9'), { maxKeys: 3 }), weight: 1 },
  ),
});

// Weighted so that a good share of placements meet a deployed stack and registered nodes and apply.
const commandArb: fc.Arbitrary<ClusterCommand> = fc.oneof(
  { arbitrary: deployArb, weight: 3 },
  { arbitrary: placeArb, weight: 6 },
  { arbitrary: fc.constantFrom(...nodeIds).map((id) => ({ type: 'register-node' as const, node: { id, address: `${id}:7421`, labels: {} } })), weight: 3 },
  { arbitrary: fc.record({ type: fc.constant('remove-stack' as const), name: fc.constantFrom(...stackNames), atMs: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ type: fc.constant('remove-node' as const), nodeId: fc.constantFrom(...nodeIds) }), weight: 1 },
  { arbitrary: fc.record({ type: fc.constant('put' as const), key: fc.constantFrom(...keys), value: fc.string({ maxLength: 3 }) }), weight: 1 },
  { arbitrary: fc.record({ type: fc.constant('delete' as const), key: fc.constantFrom(...keys) }), weight: 1 },
);

/** Requests from a few clients, each numbering its own requests 1, 2, 3, ... */
const logArb = fc.array(fc.tuple(fc.constantFrom(...clientIds), commandArb), { maxLength: 60, size: 'max' }).map((entries) => {
  const seqs = new Map<string, number>();
  return entries.map(([clientId, command]): ClientRequest => {
    const seq = (seqs.get(clientId) ?? 0) + 1;
    seqs.set(clientId, seq);
    return { clientId, seq, command };
  });
});

function applyAll(requests: readonly ClientRequest[], state = new ClusterState()): ClusterState {
  for (const request of requests) state.apply(state.appliedIndex + 1, request);
  return state;
}

/**
 * Everything but the log positions, which retries legitimately move: the applied index is dropped,
 * and a slot's fencing token (the index of the entry that placed it) is replaced by the request at
 * that index, so a retry that re-stamped a token would still show as a change.
 */
function content(state: ClusterState, log: readonly ClientRequest[]): unknown {
  const { appliedIndex: _, ...rest } = state.view();
  const requestAt = (index: number): string => {
    const request = log[index - 1];
    return request === undefined ? `index ${index}` : `${request.clientId}#${request.seq}`;
  };
  const placements = Object.fromEntries(
    Object.entries(rest.placements).map(([stack, services]) => [
      stack,
      Object.fromEntries(
        Object.entries(services).map(([service, record]) => [
          service,
          record.tokens ? { ...record, tokens: Object.fromEntries(Object.entries(record.tokens).map(([slot, index]) => [slot, requestAt(index)])) } : record,
        ]),
      ),
    ]),
  );
  return { ...rest, placements };
}

function placementsFitTheirStacks(view: Readonly<ClusterStateData>): void {
  for (const [stackName, services] of Object.entries(view.placements)) {
    const record = view.stacks[stackName];
    expect(record, `placements of a removed stack ${stackName}`).toBeDefined();
    for (const [serviceName, placement] of Object.entries(services)) {
      const spec = record?.spec.services.find((s) => s.name === serviceName);
      expect(spec, `placement of removed service ${stackName}/${serviceName}`).toBeDefined();
      expect(placement.stackVersion).toBeLessThanOrEqual(record?.version ?? 0);
      for (const slot of Object.keys(placement.slots)) expect(Number(slot)).toBeLessThanOrEqual(spec?.deploy.replicas ?? 0);
    }
  }
}

describe('replicated cluster state', () => {
  it('the same log gives identical state (and snapshot bytes), versions never go backwards, placements always fit their stack', () => {
    fc.assert(
      fc.property(logArb, (requests) => {
        const a = new ClusterState();
        const b = new ClusterState();
        const versions = new Map<string, number>();
        for (const request of requests) {
          expect(a.apply(a.appliedIndex + 1, request)).toEqual(b.apply(b.appliedIndex + 1, request));
          const view = a.view();
          for (const record of Object.values(view.stacks)) {
            expect(record.version).toBeGreaterThanOrEqual(versions.get(`stack ${record.name}`) ?? 0);
            versions.set(`stack ${record.name}`, record.version);
          }
          placementsFitTheirStacks(view);
        }
        deepStrictEqual(a.view(), b.view());
        expect(a.snapshot()).toBe(b.snapshot());
      }),
      { numRuns: 300 },
    );
  });

  it('a snapshot taken anywhere restores to a state that goes on identically', () => {
    fc.assert(
      fc.property(logArb, fc.nat(), (requests, at) => {
        const cut = requests.length === 0 ? 0 : at % requests.length;
        const whole = applyAll(requests);
        const restored = applyAll(requests.slice(cut), ClusterState.restore(applyAll(requests.slice(0, cut)).snapshot()));
        deepStrictEqual(restored.view(), whole.view());
        expect(restored.snapshot()).toBe(whole.snapshot());
      }),
      { numRuns: 300 },
    );
  });

  it('a request that reaches the log again, at any later point, changes nothing', () => {
    fc.assert(
      fc.property(logArb, fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 10 }), (requests, retries) => {
        fc.pre(requests.length > 0);
        const withRetries = [...requests];
        for (const [which, delay] of retries) {
          // A retry lands after the original: somewhere later in the log.
          const original = which % requests.length;
          const position = withRetries.indexOf(requests[original]!) + 1 + (delay % (withRetries.length - withRetries.indexOf(requests[original]!)));
          withRetries.splice(position, 0, requests[original]!);
        }
        deepStrictEqual(content(applyAll(withRetries), withRetries), content(applyAll(requests), requests));
      }),
      { numRuns: 300 },
    );
  });
});
