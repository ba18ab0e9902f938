import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configSettings, envVarName } from '../../../src/config/config-schema.ts';
import { configCodes, loadConfig, type LoadConfigOptions } from '../../../src/config/load-config.ts';
import { isLoopbackHost } from '../../../src/config/loopback.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function configFile(content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'constellation-config-'));
  dirs.push(dir);
  const file = join(dir, 'constellation.yml');
  writeFileSync(file, content);
  return file;
}

function loadOk(options: Partial<LoadConfigOptions>) {
  const result = loadConfig({ env: {}, ...options });
  if (!result.ok) expect.fail(JSON.stringify(result.errors, null, 2));
  return result.config;
}

function loadErrors(options: Partial<LoadConfigOptions>) {
  const result = loadConfig({ env: {}, ...options });
  if (result.ok) expect.fail(`expected errors, got ${JSON.stringify(result.config)}`);
  return result.errors;
}

describe('defaults', () => {
  it('without a file every key has its documented default', () => {
    expect(loadOk({})).toEqual({
      node: { id: hostname(), dataDir: './data', labels: {} },
      docker: { host: 'unix:///var/run/docker.sock' },
      api: { host: '127.0.0.1', port: 7420, token: '', readOnlyToken: '' },
      cluster: {
        bootstrap: false, token: '', secret: '', listen: { host: '127.0.0.1', port: 7421 }, advertiseAddress: '', seeds: [],
        heartbeatIntervalMs: 500, nodeDownAfterMs: 2000,
        discovery: { tailscale: { enabled: false, socket: '/var/run/tailscale/tailscaled.sock', tag: 'tag:constellation' } },
      },
      raft: { electionTimeoutMs: 1000, heartbeatIntervalMs: 100, snapshotEveryEntries: 10000 },
      reconcile: { intervalMs: 5000 },
      log: { level: 'info', format: 'auto' },
      metrics: { enabled: true },
    });
  });

  it('an empty docker.host falls back to DOCKER_HOST', () => {
    expect(loadOk({ env: { DOCKER_HOST: 'unix:///tmp/d.sock' } }).docker.host).toBe('unix:///tmp/d.sock');
    expect(loadOk({ env: { DOCKER_HOST: 'unix:///tmp/d.sock', CONSTELLATION_DOCKER_HOST: 'tcp://e:2375' } }).docker.host).toBe('tcp://e:2375');
  });

  it('the embedded config/constellation.yml loads', () => {
    const config = loadOk({ file: join(repoRoot, 'config/constellation.yml') });
    expect(config.node.dataDir).toBe('./data');
    expect(config.api).toMatchObject({ host: '127.0.0.1', port: 7420 });
  });
});

describe('config/constellation.yml.example', () => {
  const example = join(repoRoot, 'config/constellation.yml.example');

  it('loads', () => {
    expect(loadOk({ file: example }).node.id).toBe('my-node');
  });

  it('documents every key of the schema, and nothing else', () => {
    const leafKeys = (value: unknown, prefix = ''): string[] => {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return [prefix];
      const entries = Object.entries(value as Record<string, unknown>);
      // node.labels is a map setting: an empty map in the example is the leaf itself.
      if (entries.length === 0) return [prefix];
      return entries.flatMap(([key, child]) => leafKeys(child, prefix === '' ? key : `${prefix}.${key}`));
    };
    const documented = leafKeys(parse(readFileSync(example, 'utf8'))).sort();
    expect(documented).toEqual(configSettings().map((s) => s.key).sort());
  });

  it('shows each default (except node.id, which defaults to the host name)', () => {
    const fromExample = loadOk({ file: example });
    expect({ ...fromExample, node: { ...fromExample.node, id: hostname() } }).toEqual(loadOk({}));
  });
});

describe('file errors are reported with path and line', () => {
  it('a missing file given explicitly is an error naming the file', () => {
    const errors = loadErrors({ file: '/nonexistent/constellation.yml' });
    expect(errors).toEqual([expect.objectContaining({ code: configCodes.fileUnreadable, file: '/nonexistent/constellation.yml' })]);
    expect(errors[0]!.message).toContain('/nonexistent/constellation.yml does not exist');
  });

  it('an unknown key names its path and line', () => {
    const file = configFile('api:\n  host: 127.0.0.1\n  prot: 7500\n');
    expect(loadErrors({ file })).toEqual([{ severity: 'error', code: configCodes.unknownKey, message: 'unknown key "prot"', file, line: 3, path: 'api.prot' }]);
  });

  it('an unknown section is reported', () => {
    const file = configFile('apii:\n  port: 1\n');
    expect(loadErrors({ file })[0]).toMatchObject({ code: configCodes.unknownKey, path: 'apii', line: 1 });
  });

  it('a wrong type names its path and line', () => {
    const file = configFile('node:\n  dataDir: ./d\nraft:\n  electionTimeoutMs: soon\n');
    expect(loadErrors({ file })[0]).toMatchObject({ code: configCodes.wrongType, path: 'raft.electionTimeoutMs', line: 4, message: 'must be an integer, got the string "soon"' });
  });

  it('an out-of-range port and an unknown log level are reported', () => {
    const file = configFile('api:\n  port: 70000\nlog:\n  level: loud\n');
    const errors = loadErrors({ file });
    expect(errors.map((e) => [e.path, e.line])).toEqual(expect.arrayContaining([['api.port', 2], ['log.level', 4]]));
    expect(errors.find((e) => e.path === 'log.level')!.message).toContain('"debug"');
  });

  it('malformed YAML reports the line', () => {
    const file = configFile('log:\n  level: info\napi:\n\tport: 1\n');
    expect(loadErrors({ file })[0]).toMatchObject({ code: configCodes.yamlSyntax, file, line: 4, message: 'invalid YAML: Tabs are not allowed as indentation' });
  });

  it('a file that is not a mapping is refused; an empty file means defaults', () => {
    expect(loadErrors({ file: configFile('- a\n') })[0]!.code).toBe(configCodes.notAMapping);
    expect(loadOk({ file: configFile('# nothing\n') }).api.port).toBe(7420);
  });
});

describe('environment variables and flags', () => {
  it('names are the upper snake case of the path', () => {
    expect(envVarName(['api', 'port'])).toBe('CONSTELLATION_API_PORT');
    expect(envVarName(['node', 'dataDir'])).toBe('CONSTELLATION_NODE_DATA_DIR');
    expect(envVarName(['raft', 'electionTimeoutMs'])).toBe('CONSTELLATION_RAFT_ELECTION_TIMEOUT_MS');
    expect(envVarName(['cluster', 'discovery', 'tailscale', 'enabled'])).toBe('CONSTELLATION_CLUSTER_DISCOVERY_TAILSCALE_ENABLED');
    const names = configSettings().map((s) => envVarName(s.path));
    expect(new Set(names).size).toBe(names.length);
  });

  it('values are coerced by schema type', () => {
    const config = loadOk({
      env: {
        CONSTELLATION_API_PORT: '7500',
        CONSTELLATION_METRICS_ENABLED: 'false',
        CONSTELLATION_CLUSTER_DISCOVERY_TAILSCALE_ENABLED: 'yes',
        CONSTELLATION_CLUSTER_SEEDS: 'a:7421, b:7421',
        CONSTELLATION_CLUSTER_TOKEN: 't',
        CONSTELLATION_NODE_LABELS: 'zone=eu,disk=ssd',
        CONSTELLATION_NODE_DATA_DIR: '/var/lib/constellation',
      },
    });
    expect(config.api.port).toBe(7500);
    expect(config.metrics.enabled).toBe(false);
    expect(config.cluster.discovery.tailscale.enabled).toBe(true);
    expect(config.cluster.seeds).toEqual(['a:7421', 'b:7421']);
    expect(config.node.labels).toEqual({ zone: 'eu', disk: 'ssd' });
    expect(config.node.dataDir).toBe('/var/lib/constellation');
  });

  it('precedence: flags > env > file > defaults', () => {
    const file = configFile('api:\n  port: 7001\nreconcile:\n  intervalMs: 2000\nlog:\n  level: debug\n');
    const config = loadOk({ file, env: { CONSTELLATION_API_PORT: '7002', CONSTELLATION_LOG_LEVEL: 'warn' }, overrides: { 'api.port': '7003' } });
    expect(config.api.port).toBe(7003);
    expect(config.log.level).toBe('warn');
    expect(config.reconcile.intervalMs).toBe(2000);
    expect(config.raft.electionTimeoutMs).toBe(1000);
  });

  it('a bad environment value names the variable', () => {
    const errors = loadErrors({ env: { CONSTELLATION_API_PORT: 'seventy' } });
    expect(errors).toEqual([expect.objectContaining({ code: configCodes.badEnvironmentValue, file: 'environment', path: 'api.port' })]);
    expect(errors[0]!.message).toBe('CONSTELLATION_API_PORT="seventy" must be an integer');
  });

  it('a schema violation from the environment names the variable, not a file line', () => {
    const errors = loadErrors({ env: { CONSTELLATION_LOG_FORMAT: 'xml' } });
    expect(errors[0]).toMatchObject({ file: 'environment', path: 'log.format' });
    expect(errors[0]!.message).toContain('CONSTELLATION_LOG_FORMAT');
  });

  it('unknown CONSTELLATION_ variables are warned about by name', () => {
    const result = loadConfig({ env: { CONSTELLATION_API_PROT: '1', CONSTELLATION_CONFIG: 'x.yml' } });
    expect(result.ok).toBe(true);
    expect(result.warnings.map((w) => w.message)).toEqual(['CONSTELLATION_API_PROT is not a Constellation setting and is ignored']);
  });

  it('a bad or unknown flag names the key', () => {
    expect(loadErrors({ overrides: { 'api.port': 'x' } })[0]).toMatchObject({ code: configCodes.badOverride, file: 'command line', path: 'api.port', message: 'api.port="x" must be an integer' });
    expect(loadErrors({ overrides: { 'api.prot': '1' } })[0]).toMatchObject({ code: configCodes.unknownOverride, path: 'api.prot' });
    expect(loadErrors({ overrides: { 'api.port': '0' } })[0]).toMatchObject({ file: 'command line', path: 'api.port' });
  });
});

describe('security by default', () => {
  it.each(['0.0.0.0', '192.168.1.10', '::', 'example.com'])('api.host %s without a token is refused', (host) => {
    const errors = loadErrors({ overrides: { 'api.host': host } });
    expect(errors[0]).toMatchObject({ code: configCodes.tokenRequired, path: 'api.host' });
    expect(loadOk({ overrides: { 'api.host': host, 'api.token': 't0ken' } }).api.host).toBe(host);
  });

  it('the error points at the file line when the host comes from the file', () => {
    const file = configFile('api:\n  host: 0.0.0.0\n');
    expect(loadErrors({ file })[0]).toMatchObject({ code: configCodes.tokenRequired, file, line: 2 });
  });

  it('the read-only token must differ from the admin token (a viewer could deploy otherwise)', () => {
    const file = configFile('api:\n  token: same-value\n  readOnlyToken: same-value\n');
    expect(loadErrors({ file })[0]).toMatchObject({ code: configCodes.readOnlyTokenSame, path: 'api.readOnlyToken', file, line: 3 });
    expect(loadOk({ env: { CONSTELLATION_API_READ_ONLY_TOKEN: 'viewer' } }).api.readOnlyToken).toBe('viewer');
  });

  it('joining needs a join token; a wildcard cluster listen address needs an advertised one', () => {
    expect(loadErrors({ env: { CONSTELLATION_CLUSTER_SEEDS: '10.0.0.5:7421' } })[0]).toMatchObject({ code: configCodes.joinTokenRequired, path: 'cluster.token' });
    expect(loadErrors({ env: { CONSTELLATION_CLUSTER_BOOTSTRAP: 'true', CONSTELLATION_CLUSTER_LISTEN_HOST: '0.0.0.0' } })[0]).toMatchObject({ code: configCodes.advertiseAddressRequired, path: 'cluster.advertiseAddress' });
    expect(loadOk({ env: { CONSTELLATION_CLUSTER_BOOTSTRAP: 'true', CONSTELLATION_CLUSTER_LISTEN_HOST: '10.0.0.5' } }).cluster.listen.host).toBe('10.0.0.5');
  });

  it.each([['127.0.0.1', true], ['127.1.2.3', true], ['localhost', true], ['::1', true], ['[::1]', true], ['0.0.0.0', false], ['::', false], ['10.1.1.1', false], ['localhost.evil.com', false]])(
    'isLoopbackHost(%s) = %s', (host, expected) => {
      expect(isLoopbackHost(host)).toBe(expected);
    });

  it('heartbeats must be faster than the election timeout', () => {
    expect(loadErrors({ overrides: { 'raft.heartbeatIntervalMs': '1000' } })[0]).toMatchObject({ code: configCodes.timing, path: 'raft.heartbeatIntervalMs' });
  });
});
