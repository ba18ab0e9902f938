import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Authentication of one peer RPC on the cluster port: an HMAC-SHA256 under the cluster secret over
 * the time, method, path and body digest. The secret never travels; a captured request replays
 * only within the window, and the RPCs it covers are idempotent (a submit carries its client id
 * and sequence, so it applies once; heartbeats and reads change nothing durable).
 */
export const PEER_AUTH_HEADER = 'x-constellation-peer-auth';
/** Accepted distance between the caller's clock and ours. */
export const PEER_AUTH_WINDOW_MS = 120_000;

function mac(secret: string, timeMs: number, method: string, path: string, body: string): string {
  const digest = createHash('sha256').update(body).digest('hex');
  return createHmac('sha256', secret).update(`constellation-peer-rpc\n${timeMs}\n${method}\n${path}\n${digest}`).digest('hex');
}

export function signPeerRequest(secret: string, nowMs: number, method: string, path: string, body: string): string {
  return `t=${nowMs},mac=${mac(secret, nowMs, method, path, body)}`;
}

export type PeerAuthProblem = 'missing' | 'malformed' | 'expired' | 'bad_mac';

export function verifyPeerRequest(secret: string, nowMs: number, header: string | undefined, method: string, path: string, body: string): PeerAuthProblem | undefined {
  if (header === undefined) return 'missing';
  const match = /^t=(\d{1,16}),mac=([0-9a-f]{64})$/.exec(header);
  if (!match) return 'malformed';
  const timeMs = Number(match[1]);
  if (Math.abs(nowMs - timeMs) > PEER_AUTH_WINDOW_MS) return 'expired';
  const expected = Buffer.from(mac(secret, timeMs, method, path, body), 'hex');
  return timingSafeEqual(expected, Buffer.from(match[2]!, 'hex')) ? undefined : 'bad_mac';
}
