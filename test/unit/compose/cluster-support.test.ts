import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { toCreateContainerRequest } from '../../../src/agent/container-request.ts';
import { desiredServices, type DesiredService } from '../../../src/agent/desired.ts';
import { unmetDependency } from '../../../src/agent/plan.ts';
import { decideRestart } from '../../../src/orchestrator/restart/restart-policy.ts';
import { emptyClusterState } from '../../../src/cluster/state.ts';
import { composeCodes } from '../../../src/compose/compose-codes.ts';
import { ignoredServiceKeys, refusedServiceKeys } from '../../../src/compose/cluster-support.ts';
import { loadCompose } from '../../../src/compose/load-compose.ts';
import type { ComposeDiagnostic, ServiceSpec, StackSpec } from '../../../src/compose/types.ts';
import type { CreateContainerRequest } from '../../../src/seams/container-runtime.ts';
import { indent, loadErrors, loadOk, serviceErrors } from './load-helper.ts';

describe('keys a cluster cannot honour are refused or warned about by name', () => {
  it('build without image is refused, naming the service', () => {
    const errors = serviceErrors('build: .');
    expect(errors).toEqual([expect.objectContaining({ code: composeCodes.buildWithoutImage, path: 'services.svc.build', service: 'svc', line: 3 })]);
  });

  it('build with image is a warning: the image is used', () => {
    const { stack, warnings } = loadOk('services:\n  svc:\n    image: registry/app:1\n    build: .\n');
    expect(stack.services[0]!.image).toBe('registry/app:1');
    expect(warnings).toEqual([expect.objectContaining({ code: composeCodes.buildIgnored, path: 'services.svc.build', severity: 'warning' })]);
  });

  it('a service with neither image nor build is refused', () => {
    expect(serviceErrors('environment: { A: 1 }')[0]).toMatchObject({ code: composeCodes.imageMissing, service: 'svc', path: 'services.svc' });
  });

  it('container_name with several replicas is refused; with one it is a warning', () => {
    expect(serviceErrors('image: x\ncontainer_name: web\ndeploy: { replicas: 2 }')[0]).toMatchObject({ code: composeCodes.containerNameWithReplicas, path: 'services.svc.container_name' });
    expect(serviceErrors('image: x\ncontainer_name: web\ndeploy: { mode: global }')[0]!.code).toBe(composeCodes.containerNameWithReplicas);
    const { warnings } = loadOk('services:\n  svc:\n    image: x\n    container_name: web\n');
    expect(warnings[0]).toMatchObject({ code: composeCodes.ignoredKey, path: 'services.svc.container_name' });
  });

  it.each([
    ['links: [db]', 'links'],
    ['external_links: [redis_1]', 'external_links'],
    ['profiles: [debug]', 'profiles'],
    ['secrets: [token]', 'secrets'],
    ['configs: [conf]', 'configs'],
    ['privileged: true', 'privileged'],
    ['pid: host', 'pid'],
    ['ipc: host', 'ipc'],
    ['sysctls: { net.core.somaxconn: 1024 }', 'sysctls'],
    ['ulimits: { nofile: 65535 }', 'ulimits'],
    ['expose: [3306]', 'expose'],
    ['logging: { driver: syslog }', 'logging'],
  ])('%s → a warning naming "%s" and the service', (body, key) => {
    const { warnings } = loadOk(`services:\n  svc:\n    image: x\n    ${body}\n`);
    const warning = warnings.find((w) => w.path === `services.svc.${key}`);
    expect(warning).toMatchObject({ severity: 'warning', code: composeCodes.ignoredKey, service: 'svc', line: 4 });
    expect(warning!.message).toContain(`"${key}"`);
  });

  it.each(['extends: { service: base }', 'provider: { type: model }'])('%s is refused', (body) => {
    expect(serviceErrors(`image: x\n${body}`)[0]).toMatchObject({ code: composeCodes.unsupportedKey, service: 'svc' });
  });

  it('top-level include is refused; secrets and version are warned about per entry, declared networks are not', () => {
    expect(loadErrors('include: [other.yaml]\nservices:\n  svc: { image: x }\n')[0]).toMatchObject({ code: composeCodes.unsupportedKey, path: 'include', line: 1 });
    const { warnings } = loadOk('version: "3.8"\nservices:\n  svc: { image: x }\nnetworks:\n  front:\n  back:\nsecrets:\n  token: { file: ./t }\n');
    expect(warnings.map((w) => w.path)).toEqual(['version', 'secrets.token']);
  });

  it('every ignored or refused key exists in the vendored compose schema (no typos in the policy)', () => {
    const schema = JSON.parse(readFileSync(new URL('../../../src/compose/schema/compose-spec.json', import.meta.url), 'utf8')) as { $defs: { service: { properties: Record<string, unknown> } } };
    const schemaKeys = Object.keys(schema.$defs.service.properties);
    for (const key of [...Object.keys(ignoredServiceKeys), ...Object.keys(refusedServiceKeys)]) expect(schemaKeys).toContain(key);
  });

  it.each([
    ['deploy.placement.constraints', 'deploy:\n  placement:\n    constraints: [node.role == manager]'],
    ['deploy.placement.preferences', 'deploy:\n  placement:\n    preferences: [{ spread: node.labels.zone }]'],
    ['deploy.resources.reservations.cpus', 'deploy:\n  resources:\n    reservations: { cpus: "0.5" }'],
    ['deploy.resources.reservations.memory', 'deploy:\n  resources:\n    reservations: { memory: 64m }'],
    ['mem_reservation', 'mem_reservation: 64m'],
    ['depends_on.db.restart', 'depends_on:\n  db: { condition: service_started, restart: true }'],
    ['deploy.labels', 'deploy:\n  labels: { team: web }'],
  ])('%s is read but not applied → a warning naming it and the service', (key, body) => {
    const { warnings } = loadOk(`services:\n  db:\n    image: x\n  svc:\n    image: x\n${indent(body, 4)}\n`);
    expect(warnings).toEqual([expect.objectContaining({ severity: 'warning', code: composeCodes.ignoredKey, service: 'svc', path: `services.svc.${key}` })]);
    expect(warnings[0]!.message).toContain(key.startsWith('depends_on') ? key : key.split('.').pop());
  });

  it('update_config and rollback_config are applied (rolling updates): no warning', () => {
    const { warnings } = loadOk('services:\n  svc:\n    image: x\n    deploy:\n      update_config: { parallelism: 2 }\n      rollback_config: { order: start-first }\n');
    expect(warnings).toEqual([]);
  });

  it('asking for nothing is not warned about: empty placement lists, depends_on restart: false', () => {
    const { warnings } = loadOk('services:\n  db: { image: x }\n  svc:\n    image: x\n    depends_on: { db: { condition: service_started, restart: false } }\n    deploy: { placement: { constraints: [], preferences: [] }, labels: {} }\n');
    expect(warnings).toEqual([]);
  });
});

describe('every normalized service key reaches what applies it', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Container keys: one service sets them all (each away from its default), goes through the
   * loader and the container-request builder, and each value must show up in the request.
   */
  const inCreateRequest: Record<string, { yaml: string; check: (request: CreateContainerRequest, dir: string) => void }> = {
    image: { yaml: 'image: registry/app:2', check: (r) => expect(r.image).toBe('registry/app:2') },
    command: { yaml: 'command: ["serve", "--port", "80"]', check: (r) => expect(r.command).toEqual(['serve', '--port', '80']) },
    entrypoint: { yaml: 'entrypoint: /bin/entry.sh', check: (r) => expect(r.entrypoint).toEqual(['/bin/entry.sh']) },
    environment: { yaml: 'environment: { FROM_ENVIRONMENT: "1" }', check: (r) => expect(r.env.FROM_ENVIRONMENT).toBe('1') },
    env_file: { yaml: 'env_file: app.env', check: (r) => expect(r.env.FROM_ENV_FILE).toBe('2') },
    ports: { yaml: 'ports: [{ target: 80, published: 8080, protocol: udp, host_ip: 127.0.0.1, mode: host }]', check: (r) => expect(r.ports).toEqual([{ target: 80, published: 8080, protocol: 'udp', hostIp: '127.0.0.1' }]) },
    volumes: {
      yaml: 'volumes: ["./www:/www:ro", "data:/data"]',
      check: (r, dir) => expect(r.mounts).toEqual(expect.arrayContaining([
        { type: 'bind', source: join(dir, 'www'), target: '/www', readOnly: true },
        { type: 'volume', source: 'app_data', target: '/data', readOnly: false },
      ])),
    },
    tmpfs: { yaml: 'tmpfs: /scratch', check: (r) => expect(r.mounts).toContainEqual({ type: 'tmpfs', target: '/scratch', readOnly: false }) },
    labels: { yaml: 'labels: { team: a }', check: (r) => expect(r.labels.team).toBe('a') },
    healthcheck: {
      yaml: 'healthcheck: { test: ["CMD", "check"], interval: 2s, timeout: 3s, retries: 5, start_period: 7s, start_interval: 1s }',
      check: (r) => expect(r.healthcheck).toEqual({ test: ['CMD', 'check'], intervalMs: 2000, timeoutMs: 3000, retries: 5, startPeriodMs: 7000, startIntervalMs: 1000 }),
    },
    networks: {
      yaml: 'networks: { back: { aliases: [api] } }',
      check: (r) => expect(r.networks).toEqual([expect.objectContaining({ name: 'app_back', aliases: ['svc', 'api'], create: expect.objectContaining({ name: 'app_back', driver: 'bridge' }) })]),
    },
    cap_add: { yaml: 'cap_add: [NET_ADMIN]', check: (r) => expect(r.capAdd).toEqual(['NET_ADMIN']) },
    cap_drop: { yaml: 'cap_drop: [MKNOD]', check: (r) => expect(r.capDrop).toEqual(['MKNOD']) },
    devices: { yaml: 'devices: ["/dev/fuse:/dev/fuse:rwm"]', check: (r) => expect(r.devices).toEqual([{ hostPath: '/dev/fuse', containerPath: '/dev/fuse', permissions: 'rwm' }]) },
    user: { yaml: 'user: "1000:1000"', check: (r) => expect(r.user).toBe('1000:1000') },
    working_dir: { yaml: 'working_dir: /srv', check: (r) => expect(r.workingDir).toBe('/srv') },
    stop_grace_period: { yaml: 'stop_grace_period: 42s', check: (r) => expect(r.stopGracePeriodMs).toBe(42_000) },
    stop_signal: { yaml: 'stop_signal: SIGINT', check: (r) => expect(r.stopSignal).toBe('SIGINT') },
    cpus: { yaml: 'cpus: 0.5', check: (r) => expect(r.nanoCpus).toBe(500_000_000) },
    mem_limit: { yaml: 'mem_limit: 64m', check: (r) => expect(r.memoryBytes).toBe(64 * 1024 * 1024) },
    pids_limit: { yaml: 'pids_limit: 99', check: (r) => expect(r.pidsLimit).toBe(99) },
  };

  /** Keys the node agent applies rather than the engine: checked on what the agent computes from them. */
  const byTheAgent: Record<string, { yaml: string; check: (stack: StackSpec) => void }> = {
    restart: {
      yaml: 'restart: "on-failure:2"',
      check: (stack) => {
        const policy = svc(stack).deploy.restartPolicy;
        expect(decideRestart(policy, 0, [], 0)).toMatchObject({ restart: false, reason: 'exited-successfully' });
        expect(decideRestart(policy, 1, [0], 1)).toMatchObject({ restart: true });
        expect(decideRestart(policy, 1, [0, 1], 2)).toMatchObject({ restart: false, reason: 'max-attempts' });
      },
    },
    scale: { yaml: 'scale: 3', check: (stack) => expect(desired(stack).find((d) => d.service === 'svc')!.replicas).toBe(3) },
    deploy: {
      yaml: 'deploy: { replicas: 4, restart_policy: { condition: none }, resources: { limits: { memory: 32m } } }',
      check: (stack) => {
        expect(desired(stack).find((d) => d.service === 'svc')!.replicas).toBe(4);
        expect(decideRestart(svc(stack).deploy.restartPolicy, 1, [], 0)).toMatchObject({ restart: false, reason: 'condition-none' });
        expect(toCreateContainerRequest({ stack: 'app', service: 'svc', slot: 1 }, svc(stack), 'h', 'n').memoryBytes).toBe(32 * 1024 * 1024);
      },
    },
    depends_on: {
      yaml: 'depends_on: { db: { condition: service_healthy } }',
      check: (stack) => {
        const services = desired(stack);
        expect(unmetDependency(services.find((d) => d.service === 'svc')!, services, [])).toBe('waiting for db: 0/1 healthy');
      },
    },
  };

  /** Keys that are read and deliberately not applied: each must be warned about. */
  /** Keys that exclude others in the same service: checked on a service of their own. */
  const alone: Record<string, { yaml: string; check: (request: CreateContainerRequest) => void }> = {
    network_mode: { yaml: 'network_mode: host', check: (r) => expect(r.networkMode).toBe('host') },
  };

  const warnedAbout: Record<string, string> = {
    build: 'build: .',
    container_name: 'container_name: the-one',
    mem_reservation: 'mem_reservation: 64m',
  };

  function desired(stack: StackSpec): DesiredService[] {
    const state = emptyClusterState();
    state.stacks[stack.name] = { name: stack.name, version: 1, specHash: 'h', spec: stack, updatedAtMs: 0 };
    return desiredServices(state);
  }

  function load(serviceYaml: string, dir?: string): { stack: StackSpec; warnings: ComposeDiagnostic[] } {
    const content = `services:\n  db:\n    image: x\n    healthcheck: { test: ["CMD", "true"] }\n  svc:\n${indent(serviceYaml, 4)}\nvolumes:\n  data:\nnetworks:\n  back:\n`;
    const result = loadCompose({ content, stackName: 'app', env: {}, ...(dir === undefined ? {} : { workingDir: dir }) });
    if (!result.ok) return expect.fail(JSON.stringify(result.errors));
    return { stack: result.stack, warnings: result.warnings };
  }

  function svc(stack: StackSpec): ServiceSpec {
    return stack.services.find((s) => s.name === 'svc')!;
  }

  it('one service setting every container key: each value is in the create request', () => {
    const dir = mkdtempSync(join(tmpdir(), 'constellation-keys-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'app.env'), 'FROM_ENV_FILE=2\n');
    const { stack } = load(Object.values(inCreateRequest).map((k) => k.yaml).join('\n'), dir);
    const request = toCreateContainerRequest({ stack: 'app', service: 'svc', slot: 1 }, svc(stack), 'h', 'n');
    for (const [key, { check }] of Object.entries(inCreateRequest)) {
      try {
        check(request, dir);
      } catch (error) {
        throw new Error(`"${key}" did not reach the create request: ${(error as Error).message}`);
      }
    }
  });

  it.each(Object.entries(alone))('%s reaches the create request', (_key, { yaml, check }) => {
    check(toCreateContainerRequest({ stack: 'app', service: 'svc', slot: 1 }, svc(load(`image: x\n${yaml}`).stack), 'h', 'n'));
  });

  it.each(Object.entries(byTheAgent))('%s reaches what the agent decides', (_key, { yaml, check }) => {
    check(load(`image: x\n${yaml}`).stack);
  });

  it.each(Object.entries(warnedAbout))('%s is read but not applied, and warned about', (key, yaml) => {
    const { warnings } = load(`image: x\n${yaml}`);
    expect(warnings).toContainEqual(expect.objectContaining({ severity: 'warning', service: 'svc', path: `services.svc.${key}` }));
  });

  it('every service key of the schema is applied (and checked above), warned about, or refused', () => {
    const schema = JSON.parse(readFileSync(new URL('../../../src/compose/schema/compose-spec.json', import.meta.url), 'utf8')) as { $defs: { service: { properties: Record<string, unknown> } } };
    const covered = new Set([
      ...Object.keys(inCreateRequest), ...Object.keys(alone), ...Object.keys(byTheAgent), ...Object.keys(warnedAbout),
      ...Object.keys(ignoredServiceKeys), ...Object.keys(refusedServiceKeys),
    ]);
    expect(Object.keys(schema.$defs.service.properties).filter((key) => !covered.has(key))).toEqual([]);
  });
});

describe('stack name', () => {
  it('comes from the option, else name: in the file, else the directory name', () => {
    const content = 'name: from-file\nservices:\n  svc: { image: x }\n';
    expect(loadCompose({ content, stackName: 'from-option', file: '/srv/Dir_Name/compose.yaml' })).toMatchObject({ ok: true, stack: { name: 'from-option' } });
    expect(loadCompose({ content, file: '/srv/Dir_Name/compose.yaml' })).toMatchObject({ ok: true, stack: { name: 'from-file' } });
    expect(loadCompose({ content: 'services:\n  svc: { image: x }\n', file: '/srv/My.App-DoH/compose.yaml' })).toMatchObject({ ok: true, stack: { name: 'my-app-doh' } });
  });

  it.each(['Bad', '-leading', 'has space', 'dots.not.allowed', ''])('an explicit name %j is refused', (name) => {
    const result = loadCompose({ content: 'services:\n  svc: { image: x }\n', stackName: name });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors[0]!.code).toBe(composeCodes.invalidStackName);
  });

  it('a bad name: in the file is reported at its line', () => {
    const result = loadCompose({ content: 'services:\n  svc: { image: x }\nname: "Not Valid"\n', file: 'compose.yaml' });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors[0]).toMatchObject({ code: composeCodes.invalidStackName, path: 'name', line: 3 });
  });

  it('text without a file and without a name is refused with a clear message', () => {
    const result = loadCompose({ content: 'services:\n  svc: { image: x }\n' });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors[0]!.message).toContain('no stack name');
  });
});
