import { describe, expect, it } from 'vitest';
import { parseRaftServerArgs } from '../../../src/raft-server/parse-args.ts';

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
      'a cluster secret is required: --secret, --secret-file or CONSTELLATION_CLUSTER_SECRET',
      '--client-port: "x" is not an integer between 1 and 65535',
      '--heartbeat-interval-ms (2000) must be below --election-timeout-ms (1000)',
    ]);
  });

  it('rejects unknown flags with a clear message', () => {
    const parsed = parseRaftServerArgs([...base, '--secret', 'x', '--frobnicate'], {});
    expect(parsed).toMatchObject({ ok: false, errors: [expect.stringContaining("Unknown option '--frobnicate'")] });
  });
});
