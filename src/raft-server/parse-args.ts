import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { NodeId } from '../seams/transport.ts';

export interface RaftMemberConfig {
  readonly id: NodeId;
  /** Every founding member's Raft address ("host:port"), this member's included. */
  readonly peers: Readonly<Record<NodeId, string>>;
  readonly dataDir: string;
  readonly secret: string;
  readonly clientHost: string;
  readonly clientPort: number;
  /** Other members' client API addresses, so a follower can redirect to the leader. */
  readonly clientPeers: Readonly<Record<NodeId, string>>;
  readonly electionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly snapshotEveryEntries: number | undefined;
  /** Join an existing cluster (no initial membership: wait until the leader adds us). */
  readonly join: boolean;
  readonly logLevel: string;
}

export type ParseResult = { readonly ok: true; readonly config: RaftMemberConfig } | { readonly ok: false; readonly errors: string[] };

export const USAGE = `usage: node --import tsx src/raft-server/main.ts --id n1 --peers n1=127.0.0.1:7001,n2=127.0.0.1:7002,n3=127.0.0.1:7003
         --data DIR (--secret-file FILE | env CONSTELLATION_CLUSTER_SECRET) --client-port 8001
         [--client-host 127.0.0.1] [--client-peers n1=127.0.0.1:8001,...] [--election-timeout-ms 1000]
         [--heartbeat-interval-ms 100] [--snapshot-every N] [--join] [--log-level info]`;

export const SECRET_ON_COMMAND_LINE =
  '--secret is refused: a command line is readable by every local user (ps, /proc/PID/cmdline). ' +
  'Put the secret in a file only you can read and pass --secret-file FILE, or set CONSTELLATION_CLUSTER_SECRET';

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

function parseAddressList(flag: string, value: string, errors: string[]): Record<NodeId, string> {
  const result: Record<NodeId, string> = {};
  for (const item of value.split(',').map((part) => part.trim()).filter(Boolean)) {
    const eq = item.indexOf('=');
    const id = eq > 0 ? item.slice(0, eq) : '';
    const address = eq > 0 ? item.slice(eq + 1) : '';
    const match = HOST_PORT.exec(address);
    if (!id || !match || Number(match[2]) < 1 || Number(match[2]) > 65535) {
      errors.push(`${flag}: "${item}" is not ID=HOST:PORT`);
      continue;
    }
    if (result[id] !== undefined) errors.push(`${flag}: member "${id}" is listed twice`);
    result[id] = address;
  }
  return result;
}

function positiveInt(flag: string, value: string | undefined, fallback: number | undefined, errors: string[], max = 2 ** 31): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    errors.push(`${flag}: "${value}" is not an integer between 1 and ${max}`);
    return fallback;
  }
  return n;
}

function readSecretFile(path: string, errors: string[]): string {
  try {
    const secret = readFileSync(path, 'utf8').trim();
    if (!secret) errors.push(`--secret-file: ${path} is empty`);
    return secret;
  } catch (error) {
    errors.push(`--secret-file: cannot read ${path}: ${(error as Error).message}`);
    return '';
  }
}

/** Parses and checks the command line; every problem is reported at once, naming its flag. */
export function parseRaftServerArgs(argv: readonly string[], env: NodeJS.ProcessEnv): ParseResult {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        id: { type: 'string' }, peers: { type: 'string' }, data: { type: 'string' }, secret: { type: 'string' },
        'secret-file': { type: 'string' }, 'client-port': { type: 'string' }, 'client-host': { type: 'string' },
        'client-peers': { type: 'string' }, 'election-timeout-ms': { type: 'string' }, 'heartbeat-interval-ms': { type: 'string' },
        'snapshot-every': { type: 'string' }, join: { type: 'boolean' }, 'log-level': { type: 'string' },
      },
    }));
  } catch (error) {
    return { ok: false, errors: [error instanceof Error ? error.message : String(error)] };
  }
  const errors: string[] = [];
  const str = (name: string): string | undefined => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
  const id = str('id');
  if (!id) errors.push('--id is required');
  const peers = parseAddressList('--peers', str('peers') ?? '', errors);
  if (!str('peers')) errors.push('--peers is required');
  else if (id && peers[id] === undefined) errors.push(`--peers must include this member ("${id}") with the address it listens on`);
  const dataDir = str('data');
  if (!dataDir) errors.push('--data is required');
  // --secret is still declared as an option so that it gets this message, not "Unknown option".
  // A secret file wins over the environment variable.
  let secret = '';
  const secretFile = str('secret-file');
  if (values.secret !== undefined) errors.push(SECRET_ON_COMMAND_LINE);
  else if (secretFile !== undefined) secret = readSecretFile(secretFile, errors);
  else {
    secret = env.CONSTELLATION_CLUSTER_SECRET ?? '';
    if (!secret) errors.push('a cluster secret is required: --secret-file FILE or CONSTELLATION_CLUSTER_SECRET');
  }
  const clientPort = positiveInt('--client-port', str('client-port'), undefined, errors, 65535);
  if (clientPort === undefined && !errors.some((e) => e.startsWith('--client-port'))) errors.push('--client-port is required');
  const clientPeers = parseAddressList('--client-peers', str('client-peers') ?? '', errors);
  const electionTimeoutMs = positiveInt('--election-timeout-ms', str('election-timeout-ms'), 1000, errors)!;
  const heartbeatIntervalMs = positiveInt('--heartbeat-interval-ms', str('heartbeat-interval-ms'), 100, errors)!;
  if (heartbeatIntervalMs >= electionTimeoutMs) errors.push(`--heartbeat-interval-ms (${heartbeatIntervalMs}) must be below --election-timeout-ms (${electionTimeoutMs})`);
  const snapshotEveryEntries = positiveInt('--snapshot-every', str('snapshot-every'), undefined, errors);
  if (errors.length > 0 || !id || !dataDir || clientPort === undefined) return { ok: false, errors };
  return {
    ok: true,
    config: {
      id, peers, dataDir, secret, clientHost: str('client-host') ?? '127.0.0.1', clientPort, clientPeers,
      electionTimeoutMs, heartbeatIntervalMs, snapshotEveryEntries, join: values.join === true, logLevel: str('log-level') ?? 'info',
    },
  };
}
