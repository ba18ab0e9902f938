import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRaftServerArgs, SECRET_ON_COMMAND_LINE } from '../../../src/raft-server/parse-args.ts';

const base = ['--id', 'n1', '--peers', 'n1=127.0.0.1:7001,n2=127.0.0.1:7002,n3=[::1]:7003', '--data', '/tmp/x', '--client-port', '8001'];

describe('raft-server arguments', () => {
  it('parses a complete command line, taking the secret from the environment', () => {
    const parsed = parseRaftServerArgs([...base, '--client-peers', 'n2=127.0.0.1:8002', '--join'], { CONSTELLATION_CLUSTER_SECRET: 's3cret' });
    expect(parsed).toEqual({
      ok: true,
      config: {
        id: 'n1', peers: { n1: '127.0.0.1:7001', n2: '127.0.0.1:7002', n3: '[::1]:7003' }, dataDir: '/tmp/x', secret: 's3cret',
        clientHost: '127.0.0.1', clientPort: 8001, clientPeers: { n2: '127.0.0.1:8002' }, electionTimeoutMs: 1000,
        heartbeatIntervalMs: 100, snapshotEveryEntries: undefined, join: true, logLevel: 'info',
      },
    });
  });

  it('reports every problem at once, naming the flag', () => {
    const parsed = parseRaftServerArgs(['--id', 'n9', '--peers', 'n1=127.0.0.1:7001,bad,n2=host:99999', '--client-port', 'x', '--heartbeat-interval-ms', '2000'], {});
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.errors).toEqual([
      '--peers: "bad" is not ID=HOST:PORT',
      '--peers: "n2=host:99999" is not ID=HOST:PORT',
      '--peers must include this member ("n9") with the address it listens on',
      '--data is required',
      'a cluster secret is required: --secret-file FILE or CONSTELLATION_CLUSTER_SECRET',
      '--client-port: "x" is not an integer between 1 and 65535',
      '--heartbeat-interval-ms (2000) must be below --election-timeout-ms (1000)',
    ]);
  });

  it('rejects unknown flags with a clear message', () => {
    const parsed = parseRaftServerArgs([...base, '--frobnicate'], { CONSTELLATION_CLUSTER_SECRET: 'x' });
    expect(parsed).toMatchObject({ ok: false, errors: [expect.stringContaining("Unknown option '--frobnicate'")] });
  });
});

describe('raft-server cluster secret', () => {
  const dir = mkdtempSync(join(tmpdir(), 'raft-secret-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const secretOf = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
    const parsed = parseRaftServerArgs([...base, ...argv], env);
    return parsed.ok ? { secret: parsed.config.secret } : { errors: parsed.errors };
  };

  it('refuses --secret on the command line (visible in ps), saying what to use instead, without echoing it', () => {
    for (const argv of [['--secret', 'hunter2'], ['--secret=hunter2']]) {
      const result = secretOf(argv, { CONSTELLATION_CLUSTER_SECRET: 'from-env' });
      expect(result).toEqual({ errors: [SECRET_ON_COMMAND_LINE] });
      expect(SECRET_ON_COMMAND_LINE).toMatch(/--secret-file FILE.*CONSTELLATION_CLUSTER_SECRET/);
      expect(JSON.stringify(result)).not.toContain('hunter2');
    }
  });

  it('reads --secret-file (trimmed), which wins over the environment', () => {
    const file = join(dir, 'secret');
    writeFileSync(file, 'from-file\n', { mode: 0o600 });
    expect(secretOf(['--secret-file', file], { CONSTELLATION_CLUSTER_SECRET: 'from-env' })).toEqual({ secret: 'from-file' });
    expect(secretOf([], { CONSTELLATION_CLUSTER_SECRET: 'from-env' })).toEqual({ secret: 'from-env' });
  });

  it('names a secret file that is missing or empty', () => {
    const empty = join(dir, 'empty');
    writeFileSync(empty, '  \n');
    expect(secretOf(['--secret-file', empty], { CONSTELLATION_CLUSTER_SECRET: 'from-env' })).toEqual({ errors: [`--secret-file: ${empty} is empty`] });
    const missing = join(dir, 'missing');
    expect(secretOf(['--secret-file', missing])).toEqual({ errors: [expect.stringContaining(`--secret-file: cannot read ${missing}`)] });
  });
});
