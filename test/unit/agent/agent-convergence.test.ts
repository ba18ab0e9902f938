import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './agent-harness.ts';
import { service, stack } from './fixtures.ts';
import { LABEL_SPEC_HASH } from '../../../src/agent/labels.ts';
import { serviceSpecHash } from '../../../src/agent/spec-hash.ts';
import type { ServiceSpec } from '../../../src/compose/types.ts';

// Random schedules of deploys, crashes, removals behind the agent's back, broken event streams,
// engine outages and agent restarts: whatever happens, once the faults stop the engine must hold
// exactly the desired replicas (level-triggered reconcile, no duplicates, nothing left over).

type Op =
  | { type: 'deploy'; web: number; worker: number; api: number; version: number }
  | { type: 'remove' }
  | { type: 'kill'; pick: number; exitCode: number }
  | { type: 'destroy'; pick: number }
  | { type: 'break-streams' }
  | { type: 'outage'; ms: number }
  | { type: 'restart-agent' }
  | { type: 'advance'; ms: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ type: fc.constant('deploy' as const), web: fc.integer({ min: 0, max: 4 }), worker: fc.integer({ min: 0, max: 2 }), api: fc.integer({ min: 0, max: 2 }), version: fc.integer({ min: 1, max: 2 }) }),
  fc.record({ type: fc.constant('remove' as const) }),
  fc.record({ type: fc.constant('kill' as const), pick: fc.nat(), exitCode: fc.constantFrom(0, 1, 137) }),
  fc.record({ type: fc.constant('destroy' as const), pick: fc.nat() }),
  fc.record({ type: fc.constant('break-streams' as const) }),
  fc.record({ type: fc.constant('outage' as const), ms: fc.integer({ min: 0, max: 5000 }) }),
  fc.record({ type: fc.constant('restart-agent' as const) }),
  fc.record({ type: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 3000 }) }),
);

/**
 * A changed deploy rolls slot by slot. The faults here kill new replicas on purpose, which a
 * rollout with failure_action pause would (rightly) stop at: this property is about the agent
 * reaching what the store asks, so its rollouts count failures and go on to the end.
 */
function goOn(spec: ServiceSpec): ServiceSpec {
  return { ...spec, deploy: { ...spec.deploy, updateConfig: { ...spec.deploy.updateConfig, failureAction: 'continue' } } };
}

function servicesFor(o: Extract<Op, { type: 'deploy' }>): ServiceSpec[] {
  return [
    service('web', { replicas: o.web, environment: { VERSION: String(o.version) } }),
    service('worker', { replicas: o.worker }),
    service('api', { replicas: o.api, dependsOn: { worker: { condition: 'service_started', required: true, restart: false } } }),
  ].map(goOn);
}

async function apply(h: Harness, o: Op, desired: { current: ServiceSpec[] | undefined }): Promise<void> {
  switch (o.type) {
    case 'deploy':
      desired.current = servicesFor(o);
      await h.store.deploy(stack('a', desired.current));
      break;
    case 'remove':
      if (desired.current) await h.store.removeStack('a');
      desired.current = undefined;
      break;
    case 'kill': {
      const running = h.runtime.snapshot().filter((c) => c.state === 'running');
      const victim = running[o.pick % Math.max(1, running.length)];
      if (victim) h.runtime.kill(victim.id, o.exitCode);
      break;
    }
    case 'destroy': {
      const all = h.runtime.snapshot();
      const victim = all[o.pick % Math.max(1, all.length)];
      if (victim) h.runtime.destroy(victim.id);
      break;
    }
    case 'break-streams':
      h.runtime.breakStreams();
      break;
    case 'outage':
      h.runtime.goDown();
      await h.clock.advance(o.ms);
      h.runtime.comeBack();
      break;
    case 'restart-agent':
      await h.restartAgent();
      break;
    case 'advance':
      await h.clock.advance(o.ms);
      break;
  }
}

function matchesDesired(h: Harness, desired: ServiceSpec[] | undefined): boolean {
  const expected = new Map<string, string>();
  for (const spec of desired ?? []) {
    for (let slot = 1; slot <= spec.deploy.replicas; slot++) expected.set(`/a_${spec.name}_${slot}`, serviceSpecHash(spec));
  }
  const actual = h.runtime.snapshot();
  if (actual.length !== expected.size) return false;
  return actual.every((c) => c.state === 'running' && expected.get(c.name) === c.labels[LABEL_SPEC_HASH]);
}

/** The agent's own view agrees: every desired service converged, no replica it still tracks is extra. */
function agentAgrees(h: Harness, desired: ServiceSpec[] | undefined): boolean {
  const wanted = (desired ?? []).reduce((n, s) => n + s.deploy.replicas, 0);
  return h.agent.services().every((s) => s.converged) && h.agent.containers().length === wanted;
}

describe('node agent convergence under random faults', () => {
  it('always ends with exactly the desired replicas running', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), fc.integer({ min: 0, max: 800 }), async (ops, startLatencyMs) => {
        const h = await startHarness({ startLatencyMs });
        try {
          const desired: { current: ServiceSpec[] | undefined } = { current: undefined };
          for (const o of ops) await apply(h, o, desired);
          // Faults stop here; the restart policy is `any`, so everything desired must run again.
          const ok = await h.clock.runUntil(() => matchesDesired(h, desired.current) && agentAgrees(h, desired.current), 120_000);
          if (!ok) {
            throw new Error(`did not converge; engine: ${JSON.stringify(h.runtime.snapshot().map((c) => [c.name, c.state, c.labels[LABEL_SPEC_HASH]]))}; agent: ${JSON.stringify(h.agent.containers().map((c) => [c.name, c.state]))}`);
          }
          expect(h.agent.services().every((s) => s.converged)).toBe(true);
        } finally {
          await h.stop();
        }
      }),
      // fast-check prints the seed and the shrunk schedule on failure; replay with { seed, path }.
      { numRuns: Number(process.env.AGENT_CONVERGENCE_RUNS ?? 150) },
    );
  }, 120_000);
});
