import { describe, expect, it } from 'vitest';
import { composeCodes } from '../../../src/compose/compose-codes.ts';
import { loadErrors, loadOk, service, serviceErrors } from './load-helper.ts';

describe('ports: short and long forms', () => {
  it.each([
    ['80', [{ target: 80, protocol: 'tcp', mode: 'ingress' }]],
    ['"8080:80"', [{ target: 80, published: 8080, protocol: 'tcp', mode: 'ingress' }]],
    ['8080:80', [{ target: 80, published: 8080, protocol: 'tcp', mode: 'ingress' }]],
    ['"53:53/udp"', [{ target: 53, published: 53, protocol: 'udp', mode: 'ingress' }]],
    ['"127.0.0.1:8080:80/udp"', [{ target: 80, published: 8080, protocol: 'udp', hostIp: '127.0.0.1', mode: 'ingress' }]],
    ['"127.0.0.1::80"', [{ target: 80, protocol: 'tcp', hostIp: '127.0.0.1', mode: 'ingress' }]],
    ['"[::1]:8080:80"', [{ target: 80, published: 8080, protocol: 'tcp', hostIp: '::1', mode: 'ingress' }]],
    ['"8000-8001:80-81"', [
      { target: 80, published: 8000, protocol: 'tcp', mode: 'ingress' },
      { target: 81, published: 8001, protocol: 'tcp', mode: 'ingress' },
    ]],
    ['"9090-9091"', [{ target: 9090, protocol: 'tcp', mode: 'ingress' }, { target: 9091, protocol: 'tcp', mode: 'ingress' }]],
    ['{ target: 80, published: "8080", protocol: udp, host_ip: 0.0.0.0, mode: host }', [
      { target: 80, published: 8080, protocol: 'udp', hostIp: '0.0.0.0', mode: 'host' },
    ]],
    ['{ target: "443" }', [{ target: 443, protocol: 'tcp', mode: 'ingress' }]],
  ])('%s', (port, expected) => {
    expect(service(`image: nginx\nports:\n  - ${port}`).ports).toEqual(expected);
  });

  it.each([
    ['"70000:80"', 'out of range'],
    ['"8000-8002:80-81"', 'same size'],
    ['"80/http"', 'unknown protocol'],
    ['"a:b:c:d"', 'expected'],
    ['"x:80"', 'not a number'],
    ['{ target: 0 }', '"target" must be a port'],
    ['{ target: 80, mode: sideways }', 'unknown port mode'],
  ])('%s is refused with the item path', (port, message) => {
    const errors = serviceErrors(`image: nginx\nports:\n  - ${port}`);
    expect(errors[0]).toMatchObject({ code: composeCodes.invalidPort, path: 'services.svc.ports[0]', line: 5, service: 'svc' });
    expect(errors[0]!.message).toContain(message);
  });
});

describe('volumes: named, bind, anonymous, tmpfs, long form', () => {
  const withVolumes = (items: string): string => `services:\n  svc:\n    image: nginx\n    volumes:\n${items}\nvolumes:\n  data:\n  shared:\n    name: explicitly-named\n  ext:\n    external: true\n`;

  it.each([
    ['data:/var/lib/data', { type: 'volume', source: 'test_data', target: '/var/lib/data', readOnly: false }],
    ['data:/var/lib/data:ro', { type: 'volume', source: 'test_data', target: '/var/lib/data', readOnly: true }],
    ['shared:/s', { type: 'volume', source: 'explicitly-named', target: '/s', readOnly: false }],
    ['ext:/e:rw', { type: 'volume', source: 'ext', target: '/e', readOnly: false }],
    ['/project/node_modules', { type: 'volume', target: '/project/node_modules', readOnly: false }],
    ['/etc/hosts:/etc/hosts:ro', { type: 'bind', source: '/etc/hosts', target: '/etc/hosts', readOnly: true }],
    ['./conf:/etc/conf', { type: 'bind', source: '/srv/app/conf', target: '/etc/conf', readOnly: false }],
    ['../up:/up', { type: 'bind', source: '/srv/up', target: '/up', readOnly: false }],
    ['.:/code', { type: 'bind', source: '/srv/app', target: '/code', readOnly: false }],
    ['~/minecraft:/data', { type: 'bind', source: '/home/tester/minecraft', target: '/data', readOnly: false }],
    ['{ type: bind, source: ./site, target: /www, read_only: true }', { type: 'bind', source: '/srv/app/site', target: '/www', readOnly: true }],
    ['{ type: volume, source: data, target: /d }', { type: 'volume', source: 'test_data', target: '/d', readOnly: false }],
    ['{ type: volume, target: /anon }', { type: 'volume', target: '/anon', readOnly: false }],
    ['{ type: tmpfs, target: /scratch }', { type: 'tmpfs', target: '/scratch', readOnly: false }],
  ])('%s', (item, expected) => {
    const { stack } = loadOk(withVolumes(`      - ${item}`), { workingDir: '/srv/app', homeDir: '/home/tester' });
    expect(stack.services[0]!.volumes).toEqual([expected]);
  });

  it('service-level tmpfs (string or list) becomes tmpfs mounts', () => {
    expect(service('image: nginx\ntmpfs: /run').volumes).toEqual([{ type: 'tmpfs', target: '/run', readOnly: false }]);
    const { stack, warnings } = loadOk('services:\n  svc:\n    image: nginx\n    tmpfs: ["/run", "/tmp:size=64m"]\n');
    expect(stack.services[0]!.volumes.map((v) => v.target)).toEqual(['/run', '/tmp']);
    expect(warnings).toEqual([expect.objectContaining({ code: composeCodes.ignoredKey, path: 'services.svc.tmpfs[1]' })]);
  });

  it('an undeclared named volume is refused by name', () => {
    const errors = serviceErrors('image: nginx\nvolumes:\n  - missing:/data');
    expect(errors[0]).toMatchObject({ code: composeCodes.undefinedVolume, path: 'services.svc.volumes[0]', service: 'svc' });
    expect(errors[0]!.message).toContain('"missing"');
  });

  it('a relative bind mount without a file or working directory is refused, not guessed', () => {
    const errors = serviceErrors('image: nginx\nvolumes:\n  - ./site:/www');
    expect(errors[0]).toMatchObject({ code: composeCodes.relativePathWithoutWorkingDir, path: 'services.svc.volumes[0]' });
  });

  it.each([
    ['{ type: npipe, source: x, target: /x }', composeCodes.unsupportedKey],
    ['{ type: bind, target: /x }', composeCodes.invalidVolume],
    ['relative:target', composeCodes.invalidVolume],
  ])('%s is refused', (item, code) => {
    const errors = serviceErrors(`image: nginx\nvolumes:\n  - ${item}`, { workingDir: '/srv' });
    expect(errors[0]!.code).toBe(code);
  });
});

describe('environment and labels', () => {
  it('list and map forms agree; KEY without a value comes from the environment or is left out', () => {
    const env = { FROM_ENV: 'yes' };
    const list = service('image: nginx\nenvironment:\n  - A=1\n  - B=x=y\n  - FROM_ENV\n  - NOT_SET\n  - EMPTY=', { env });
    const map = service('image: nginx\nenvironment:\n  A: 1\n  B: x=y\n  FROM_ENV:\n  NOT_SET:\n  EMPTY: ""', { env });
    expect(list.environment).toEqual({ A: '1', B: 'x=y', FROM_ENV: 'yes', EMPTY: '' });
    expect(map.environment).toEqual(list.environment);
  });

  it('booleans and numbers in the map form become strings', () => {
    expect(service('image: nginx\nenvironment:\n  DEBUG: true\n  PORT: 8000\n  RATIO: 0.5').environment).toEqual({ DEBUG: 'true', PORT: '8000', RATIO: '0.5' });
  });

  it('labels take list or map form', () => {
    expect(service('image: nginx\nlabels: ["a=1", "b"]').labels).toEqual({ a: '1', b: '' });
    expect(service('image: nginx\nlabels:\n  com.example.x: "y"').labels).toEqual({ 'com.example.x': 'y' });
  });
});

describe('command, entrypoint, user, working_dir, caps, devices, stop settings', () => {
  it('a command string is split into words; a list is kept as is; null means the image default', () => {
    const svc = service(`image: nginx\ncommand: /bin/bash -c "nginx -g 'daemon off;'"\nentrypoint: ["/docker-entrypoint.sh", "a b"]`);
    expect(svc.command).toEqual(['/bin/bash', '-c', "nginx -g 'daemon off;'"]);
    expect(svc.entrypoint).toEqual(['/docker-entrypoint.sh', 'a b']);
    expect(service('image: nginx\ncommand: null').command).toBeUndefined();
  });

  it('an unterminated quote in a command is refused at its key', () => {
    expect(serviceErrors('image: nginx\ncommand: echo "oops')[0]).toMatchObject({ code: composeCodes.invalidCommand, path: 'services.svc.command', line: 4 });
  });

  it('plain keys are carried over', () => {
    const svc = service('image: nginx\nuser: "1000:1000"\nworking_dir: /app\ncap_add: [NET_ADMIN]\ncap_drop: [ALL]\nnetwork_mode: host\nstop_signal: SIGINT\nstop_grace_period: 1m30s');
    expect(svc).toMatchObject({ user: '1000:1000', workingDir: '/app', capAdd: ['NET_ADMIN'], capDrop: ['ALL'], networkMode: 'host', stopSignal: 'SIGINT', stopGracePeriodMs: 90_000 });
  });

  it('stop_grace_period defaults to 10s', () => {
    expect(service('image: nginx').stopGracePeriodMs).toBe(10_000);
  });

  it.each([
    ['"/dev/ttyUSB0"', { hostPath: '/dev/ttyUSB0', containerPath: '/dev/ttyUSB0', permissions: 'rwm' }],
    ['"/dev/ttyUSB0:/dev/ttyS0"', { hostPath: '/dev/ttyUSB0', containerPath: '/dev/ttyS0', permissions: 'rwm' }],
    ['"/dev/sda:/dev/xvda:r"', { hostPath: '/dev/sda', containerPath: '/dev/xvda', permissions: 'r' }],
    ['{ source: /dev/fuse, target: /dev/fuse, permissions: rw }', { hostPath: '/dev/fuse', containerPath: '/dev/fuse', permissions: 'rw' }],
  ])('device %s', (device, expected) => {
    expect(service(`image: nginx\ndevices:\n  - ${device}`).devices).toEqual([expected]);
  });

  it('bad device permissions are refused', () => {
    expect(serviceErrors('image: nginx\ndevices: ["/dev/x:/dev/y:rwx"]')[0]!.code).toBe(composeCodes.invalidDevice);
  });
});

describe('healthcheck', () => {
  it('a test string becomes CMD-SHELL and Docker defaults fill the rest', () => {
    expect(service('image: nginx\nhealthcheck:\n  test: curl -f http://localhost/').healthcheck).toEqual({
      test: ['CMD-SHELL', 'curl -f http://localhost/'], intervalMs: 30_000, timeoutMs: 30_000, retries: 3, startPeriodMs: 0, disable: false,
    });
  });

  it('a list is kept and durations are converted', () => {
    expect(service('image: nginx\nhealthcheck:\n  test: ["CMD", "wget", "-q", "localhost"]\n  interval: 3s\n  timeout: 500ms\n  retries: 5\n  start_period: 1m\n  start_interval: 1s').healthcheck).toEqual({
      test: ['CMD', 'wget', '-q', 'localhost'], intervalMs: 3000, timeoutMs: 500, retries: 5, startPeriodMs: 60_000, startIntervalMs: 1000, disable: false,
    });
  });

  it.each(['disable: true', 'test: ["NONE"]'])('%s disables the image healthcheck', (body) => {
    expect(service(`image: nginx\nhealthcheck:\n  ${body}`).healthcheck).toMatchObject({ test: ['NONE'], disable: true });
  });

  it.each([
    ['test: ["curl", "x"]', 'must start with'],
    ['test: ["CMD"]', 'needs a command'],
    ['test: x\n  interval: soon', 'invalid duration'],
  ])('%s is refused', (body, message) => {
    const errors = serviceErrors(`image: nginx\nhealthcheck:\n  ${body}`);
    expect(errors[0]!.message).toContain(message);
    expect(errors[0]!.path).toMatch(/^services\.svc\.healthcheck\./);
  });
});

describe('depends_on', () => {
  it('list and map forms normalize to the long form', () => {
    const { stack } = loadOk([
      'services:',
      '  web:',
      '    image: nginx',
      '    depends_on: [api]',
      '  api:',
      '    image: api',
      '    depends_on:',
      '      db: { condition: service_healthy, restart: true }',
      '      cache: { condition: service_started, required: false }',
      '  db: { image: postgres }',
      '  cache: { image: redis }',
    ].join('\n'));
    const byName = Object.fromEntries(stack.services.map((s) => [s.name, s]));
    expect(byName.web!.dependsOn).toEqual({ api: { condition: 'service_started', required: true, restart: false } });
    expect(byName.api!.dependsOn).toEqual({
      db: { condition: 'service_healthy', required: true, restart: true },
      cache: { condition: 'service_started', required: false, restart: false },
    });
  });

  it('services come out in dependency order: each time, the first ready service in file order', () => {
    const { stack } = loadOk('services:\n  web: { image: a, depends_on: [api, cache] }\n  api: { image: b, depends_on: [db] }\n  cache: { image: c }\n  db: { image: d }\n  other: { image: e }\n');
    expect(stack.services.map((s) => s.name)).toEqual(['cache', 'db', 'api', 'web', 'other']);
  });

  it('a cycle is an error naming the services around it', () => {
    const errors = loadErrors('services:\n  a: { image: x, depends_on: [b] }\n  b: { image: x, depends_on: [c] }\n  c: { image: x, depends_on: [a] }\n  d: { image: x, depends_on: [a] }\n');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: composeCodes.dependsOnCycle, service: 'a', path: 'services.a.depends_on', line: 2 });
    expect(errors[0]!.message).toBe('depends_on forms a cycle: a -> b -> c -> a');
  });

  it('a service depending on itself is a cycle', () => {
    expect(loadErrors('services:\n  a: { image: x, depends_on: [a] }\n')[0]!.message).toBe('depends_on forms a cycle: a -> a');
  });

  it('depending on an unknown service is an error naming both', () => {
    const errors = loadErrors('services:\n  web:\n    image: x\n    depends_on:\n      - databse\n');
    expect(errors[0]).toMatchObject({ code: composeCodes.dependsOnUnknown, service: 'web', line: 4 });
    expect(errors[0]!.message).toBe('service "web" depends on "databse", which is not defined in this file');
  });

  it('an optional dependency on an absent service is dropped with a warning', () => {
    const { stack, warnings } = loadOk('services:\n  web:\n    image: x\n    depends_on:\n      extra: { condition: service_started, required: false }\n');
    expect(stack.services[0]!.dependsOn).toEqual({});
    expect(warnings[0]).toMatchObject({ code: composeCodes.dependsOnUnknown, severity: 'warning' });
  });
});
