import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Mutual authentication in the first frames of every connection, so no Raft message is accepted
 * from (or sent to) a member that cannot prove it holds the cluster secret:
 *
 *   server → client  {kind: "challenge", serverId, serverNonce}
 *   client → server  {kind: "hello", clientId, serverId, clientNonce, proof}
 *                    proof = HMAC-SHA256(secret, "client" | serverNonce | clientNonce | clientId | serverId)
 *   server → client  {kind: "welcome", proof}
 *                    proof = HMAC-SHA256(secret, "server" | serverNonce | clientNonce | serverId | clientId)
 *
 * Both nonces are fresh 32-byte randoms, so a recorded proof is useless on another connection;
 * the role label and both ids stop reflection and relay to a different member. The secret
 * itself never crosses the wire and proofs are compared in constant time.
 */
export const PROTOCOL = 'constellation-raft/v1';
export const NONCE_BYTES = 32;
/** A handshake frame is tiny; anything bigger before authentication is hostile. */
export const MAX_HANDSHAKE_FRAME_BYTES = 2048;

export interface Challenge {
  readonly kind: 'challenge';
  readonly protocol: string;
  readonly serverId: string;
  readonly serverNonce: string;
}
export interface Hello {
  readonly kind: 'hello';
  readonly clientId: string;
  readonly serverId: string;
  readonly clientNonce: string;
  readonly proof: string;
}
export interface Welcome {
  readonly kind: 'welcome';
  readonly proof: string;
}

export const newNonce = (): string => randomBytes(NONCE_BYTES).toString('hex');

export function clientProof(secret: string, serverNonce: string, clientNonce: string, clientId: string, serverId: string): string {
  return mac(secret, ['client', serverNonce, clientNonce, clientId, serverId]);
}

export function serverProof(secret: string, serverNonce: string, clientNonce: string, serverId: string, clientId: string): string {
  return mac(secret, ['server', serverNonce, clientNonce, serverId, clientId]);
}

function mac(secret: string, parts: readonly string[]): string {
  // Length-prefixing each part keeps "ab"+"c" and "a"+"bc" distinct.
  const hmac = createHmac('sha256', secret).update(PROTOCOL);
  for (const part of parts) hmac.update(`|${part.length}:${part}`);
  return hmac.digest('hex');
}

export function proofsMatch(expected: string, received: unknown): boolean {
  if (typeof received !== 'string') return false;
  const a = Buffer.from(expected, 'hex');
  const b = Buffer.from(received, 'hex');
  return a.length === b.length && a.length > 0 && timingSafeEqual(a, b);
}

const isHex = (value: unknown, bytes: number): value is string => typeof value === 'string' && value.length === bytes * 2 && /^[0-9a-f]+$/.test(value);
const isId = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && value.length <= 256;

function parseObject(text: string): Record<string, unknown> | undefined {
  if (text.length > MAX_HANDSHAKE_FRAME_BYTES) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function parseChallenge(text: string): Challenge | undefined {
  const o = parseObject(text);
  if (!o || o.kind !== 'challenge' || o.protocol !== PROTOCOL || !isId(o.serverId) || !isHex(o.serverNonce, NONCE_BYTES)) return undefined;
  return { kind: 'challenge', protocol: PROTOCOL, serverId: o.serverId, serverNonce: o.serverNonce };
}

export function parseHello(text: string): Hello | undefined {
  const o = parseObject(text);
  if (!o || o.kind !== 'hello' || !isId(o.clientId) || !isId(o.serverId) || !isHex(o.clientNonce, NONCE_BYTES) || !isHex(o.proof, 32)) return undefined;
  return { kind: 'hello', clientId: o.clientId, serverId: o.serverId, clientNonce: o.clientNonce, proof: o.proof };
}

export function parseWelcome(text: string): Welcome | undefined {
  const o = parseObject(text);
  if (!o || o.kind !== 'welcome' || !isHex(o.proof, 32)) return undefined;
  return { kind: 'welcome', proof: o.proof };
}
