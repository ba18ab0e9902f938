import { describe, expect, it } from 'vitest';
import { planReconcile, type EngineContainer, type ObservedReplica } from '../../../src/agent/plan.ts';
import { desiredServices } from '../../../src/agent/desired.ts';
import { serviceSpecHash } from '../../../src/agent/spec-hash.ts';
import { ClusterState } from '../../../src/cluster/state.ts';
import { service, stack } from './fixtures.ts';
import type { StackSpec } from '../../../src/compose/types.ts';

function desired(...stacks: StackSpec[]) {
  const state = new ClusterState();
  stacks.forEach((s, i) => state.apply(i + 1, { clientId: 'c', seq: i + 1, command: { type: 'deploy-stack', stack: s, specHash: String(i), atMs: 0 } }));
  return desiredServices(state.view());
}

const web = service('web', { replicas: 2 });
const hash = serviceSpecHash(web);
const replica = (slot: number, extra: Partial<ObservedReplica> = {}): ObservedReplica => ({ name: `app_web_${slot}`, stack: 'app', service: 'web', slot, specHash: hash, phase: 'running', health: 'none', removing: false, ...extra });
const engine = (name: string, stackName: string, svc: string, slot: number, specHash = hash): EngineContainer => ({ id: `id-${name}`, name, image: 'img', labels: { stack: stackName, service: svc, slot, specHash, nodeId: 'n1' }, state: 'running', health: 'none' });

describe('planReconcile', () => {
  it('creates every missing slot', () => {
    const plan = planReconcile({ desired: desired(stack('app', [web])), replicas: [], engine: [], blockedUntilMs: {} }, 0);
    expect(plan.actions.map((a) => [a.type, a.name])).toEqual([['create', 'app_web_1'], ['create', 'app_web_2']]);
  });

  it('creates no replica into a network whose removal is in flight, and says why', () => {
    const net = { key: 'default', name: 'app_default', external: false, driver: 'bridge' as const, driverOpts: {}, internal: false, attachable: false, enableIpv6: false, labels: {}, ipam: [] };
    const onNet = { ...web, networks: [{ network: net, aliases: ['web'] }] };
    const input = { desired: desired(stack('app', [onNet])), replicas: [], engine: [], blockedUntilMs: {} };
    const waiting = planReconcile({ ...input, networksRemoving: { app_default: true } }, 0);
    expect(waiting.actions).toEqual([]);
    expect(waiting.waiting).toEqual([{ stack: 'app', service: 'web', reason: 'waiting for network app_default to finish its removal' }]);
    expect(planReconcile(input, 0).actions.map((a) => a.type)).toEqual(['create', 'create']);
  });

  it('plans nothing when observed matches desired (idempotent)', () => {
    const plan = planReconcile({ desired: desired(stack('app', [web])), replicas: [replica(1), replica(2)], engine: [], blockedUntilMs: {} }, 0);
    expect(plan.actions).toEqual([]);
  });

  it('removes extra slots, changed specs, and replicas of removed stacks', () => {
    const plan = planReconcile({
      desired: desired(stack('app', [web])),
      replicas: [replica(1, { specHash: 'old' }), replica(2), replica(3), { ...replica(1), name: 'gone_x_1', stack: 'gone', service: 'x' }, replica(4, { removing: true })],
      engine: [],
      blockedUntilMs: {},
    }, 0);
    expect(plan.actions).toEqual([
      { type: 'remove', name: 'app_web_1', reason: 'spec-changed' },
      { type: 'remove', name: 'app_web_3', reason: 'scale-down' },
      { type: 'remove', name: 'gone_x_1', reason: 'stack-removed' },
    ]);
  });

  it('does not create a slot whose name is still held by an old container', () => {
    const plan = planReconcile({ desired: desired(stack('app', [web])), replicas: [replica(2)], engine: [engine('app_web_1', 'app', 'web', 1, 'old')], blockedUntilMs: {} }, 0);
    expect(plan.actions).toEqual([expect.objectContaining({ type: 'remove-orphan', name: 'app_web_1', reason: 'spec-changed' })]);
  });

  it('adopts matching engine containers and removes orphans, ignoring owned ones', () => {
    const plan = planReconcile({
      desired: desired(stack('app', [web])),
      replicas: [replica(2)],
      engine: [engine('app_web_1', 'app', 'web', 1), engine('app_web_2', 'app', 'web', 2), engine('app_db_1', 'app', 'db', 1), engine('renamed', 'app', 'web', 1)],
      blockedUntilMs: {},
    }, 0);
    expect(plan.actions.map((a) => [a.type, a.name])).toEqual([['adopt', 'app_web_1'], ['remove-orphan', 'app_db_1'], ['remove-orphan', 'renamed']]);
  });

  it('leaves slots alone while their respawn back-off runs', () => {
    const input = { desired: desired(stack('app', [web])), replicas: [replica(2)], engine: [engine('app_web_1', 'app', 'web', 1)], blockedUntilMs: { app_web_1: 100 } };
    expect(planReconcile(input, 99).actions).toEqual([]);
    expect(planReconcile(input, 100).actions.map((a) => a.type)).toEqual(['adopt']);
  });

  it('holds dependants back until dependencies are ready, per condition', () => {
    const db = service('db', { healthcheck: { test: ['CMD', 'true'], intervalMs: 1, timeoutMs: 1, retries: 1, startPeriodMs: 0, disable: false } });
    const migrate = service('migrate');
    const api = service('api', { dependsOn: { db: { condition: 'service_healthy', required: true, restart: false }, migrate: { condition: 'service_completed_successfully', required: true, restart: false } } });
    const d = desired(stack('app', [db, migrate, api]));
    const r = (svc: string, spec: typeof db, extra: Partial<ObservedReplica>): ObservedReplica => ({ name: `app_${svc}_1`, stack: 'app', service: svc, slot: 1, specHash: serviceSpecHash(spec), phase: 'running', health: 'none', removing: false, ...extra });
    const run = (replicas: ObservedReplica[]) => planReconcile({ desired: d, replicas, engine: [], blockedUntilMs: {} }, 0);
    expect(run([]).actions.map((a) => a.name)).toEqual(['app_db_1', 'app_migrate_1']);
    expect(run([]).waiting).toEqual([{ stack: 'app', service: 'api', reason: 'waiting for db: 0/1 healthy' }]);
    expect(run([r('db', db, { health: 'starting' }), r('migrate', migrate, { phase: 'exited', exitCode: 0 })]).actions).toEqual([]);
    expect(run([r('db', db, { health: 'healthy' }), r('migrate', migrate, { phase: 'running' })]).waiting[0]!.reason).toBe('waiting for migrate: 0/1 completed');
    expect(run([r('db', db, { health: 'healthy' }), r('migrate', migrate, { phase: 'exited', exitCode: 0 })]).actions.map((a) => a.name)).toEqual(['app_api_1']);
  });

  it('ignores an optional dependency that is not in the stack', () => {
    const api = service('api', { dependsOn: { cache: { condition: 'service_started', required: false, restart: false } } });
    expect(planReconcile({ desired: desired(stack('app', [api])), replicas: [], engine: [], blockedUntilMs: {} }, 0).actions).toHaveLength(1);
  });
});
