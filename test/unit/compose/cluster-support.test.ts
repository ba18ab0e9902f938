import { describe, expect, it } from 'vitest';
import { composeCodes } from '../../../src/compose/compose-codes.ts';
import { ignoredServiceKeys, refusedServiceKeys } from '../../../src/compose/cluster-support.ts';
import { loadCompose } from '../../../src/compose/load-compose.ts';
import { loadErrors, loadOk, serviceErrors } from './load-helper.ts';
import { readFileSync } from 'node:fs';

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
    ['networks: [front]', 'networks'],
    ['privileged: true', 'privileged'],
    ['pid: host', 'pid'],
    ['ipc: host', 'ipc'],
    ['sysctls: { net.core.somaxconn: 1024 }', 'sysctls'],
    ['ulimits: { nofile: 65535 }', 'ulimits'],
    ['network_mode: "service:db"', 'network_mode'],
    ['expose: [3306]', 'expose'],
    ['logging: { driver: syslog }', 'logging'],
  ])('%s → a warning naming "%s" and the service', (body, key) => {
    const { warnings } = loadOk(`services:\n  svc:\n    image: x\n    ${body}\n`);
    const warning = warnings.find((w) => w.path === `services.svc.${key}`);
    expect(warning).toMatchObject({ severity: 'warning', code: composeCodes.ignoredKey, service: 'svc', line: 4 });
    expect(warning!.message).toContain(key === 'network_mode' ? 'service:db' : `"${key}"`);
  });

  it('network_mode service:x is not carried into the spec', () => {
    const { stack } = loadOk('services:\n  svc:\n    image: x\n    network_mode: "service:db"\n');
    expect(stack.services[0]!.networkMode).toBeUndefined();
  });

  it.each(['extends: { service: base }', 'provider: { type: model }'])('%s is refused', (body) => {
    expect(serviceErrors(`image: x\n${body}`)[0]).toMatchObject({ code: composeCodes.unsupportedKey, service: 'svc' });
  });

  it('top-level include is refused; custom networks, secrets and version are warned about per entry', () => {
    expect(loadErrors('include: [other.yaml]\nservices:\n  svc: { image: x }\n')[0]).toMatchObject({ code: composeCodes.unsupportedKey, path: 'include', line: 1 });
    const { warnings } = loadOk('version: "3.8"\nservices:\n  svc: { image: x }\nnetworks:\n  front:\n  back:\nsecrets:\n  token: { file: ./t }\n');
    expect(warnings.map((w) => w.path)).toEqual(['version', 'networks.front', 'networks.back', 'secrets.token']);
  });

  it('every ignored or refused key exists in the vendored compose schema (no typos in the policy)', () => {
    const schema = JSON.parse(readFileSync(new URL('../../../src/compose/schema/compose-spec.json', import.meta.url), 'utf8')) as { $defs: { service: { properties: Record<string, unknown> } } };
    const schemaKeys = Object.keys(schema.$defs.service.properties);
    for (const key of [...Object.keys(ignoredServiceKeys), ...Object.keys(refusedServiceKeys)]) expect(schemaKeys).toContain(key);
  });

  it('every service key of the schema is either normalized, ignored with a reason, or refused', () => {
    const schema = JSON.parse(readFileSync(new URL('../../../src/compose/schema/compose-spec.json', import.meta.url), 'utf8')) as { $defs: { service: { properties: Record<string, unknown> } } };
    const normalized = ['image', 'build', 'command', 'entrypoint', 'environment', 'env_file', 'ports', 'volumes', 'tmpfs', 'labels', 'healthcheck',
      'restart', 'depends_on', 'network_mode', 'cap_add', 'cap_drop', 'devices', 'user', 'working_dir', 'stop_grace_period', 'stop_signal',
      'deploy', 'scale', 'cpus', 'mem_limit', 'mem_reservation', 'pids_limit', 'container_name'];
    const handled = new Set([...normalized, ...Object.keys(ignoredServiceKeys), ...Object.keys(refusedServiceKeys)]);
    expect(Object.keys(schema.$defs.service.properties).filter((key) => !handled.has(key))).toEqual([]);
  });
});

describe('stack name', () => {
  it('comes from the option, else name: in the file, else the directory name', () => {
    const content = 'name: from-file\nservices:\n  svc: { image: x }\n';
    expect(loadCompose({ content, stackName: 'from-option', file: '/srv/Dir_Name/compose.yaml' })).toMatchObject({ ok: true, stack: { name: 'from-option' } });
    expect(loadCompose({ content, file: '/srv/Dir_Name/compose.yaml' })).toMatchObject({ ok: true, stack: { name: 'from-file' } });
    expect(loadCompose({ content: 'services:\n  svc: { image: x }\n', file: '/srv/My.App-DoH/compose.yaml' })).toMatchObject({ ok: true, stack: { name: 'myapp-doh' } });
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
