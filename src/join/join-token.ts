import { createHash, timingSafeEqual } from 'node:crypto';
import type { Random } from '../seams/random.ts';
import { JoinError } from './join-error.ts';

/**
 * Join tokens, as Swarm's: a token pins the cluster and the role it admits, so a worker token
 * can never make a manager and a token of another cluster is refused before any secret is used.
 *
 *   CST1-<clusterId>-<M|W><generation>-<secret>-<check>
 *   CST1-3f9c0a1be27d4c55-M1-k3v…(52 base32 chars)…q4-9b1e02aa
 *
 * - clusterId: 16 hex chars, SHA-256 of the cluster's identity (public; names the cluster).
 * - M|W + generation: the role and the rotation counter; together the token's public id.
 * - secret: 32 random bytes (the Random seam) in lowercase base32, so a token survives being
 *   read aloud or typed (no 0/1/8/9, no case).
 * - check: the first 8 hex chars of SHA-256 over everything before it, so a mistyped character
 *   is caught as `token_checksum_mismatch` instead of a confusing authentication failure.
 * The separator is `-`, which neither hex nor base32 contains.
 *
 * Rotation makes a new secret with the next generation; only the current token of each role
 * verifies (a rotated token is `token_rotated`, never silently accepted).
 */
export const TOKEN_PREFIX = 'CST1';
export const SECRET_BYTES = 32;
export type JoinRole = 'manager' | 'worker';

export interface JoinToken {
  readonly clusterId: string;
  readonly role: JoinRole;
  readonly generation: number;
  readonly secret: Buffer;
}

/** The current token of each role: what the leader verifies against (held in the replicated store). */
export interface TokenSet {
  readonly manager: JoinToken;
  readonly worker: JoinToken;
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const roleLetter: Record<JoinRole, string> = { manager: 'M', worker: 'W' };

export function clusterIdOf(clusterIdentity: string): string {
  return createHash('sha256').update('constellation-cluster-id|').update(clusterIdentity).digest('hex').slice(0, 16);
}

export function randomSecret(random: Random, bytes = SECRET_BYTES): Buffer {
  const out = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) out[i] = random.int(0, 256);
  return out;
}

export function generateToken(random: Random, clusterId: string, role: JoinRole, generation = 1): JoinToken {
  return { clusterId, role, generation, secret: randomSecret(random) };
}

export function generateTokenSet(random: Random, clusterId: string): TokenSet {
  return { manager: generateToken(random, clusterId, 'manager'), worker: generateToken(random, clusterId, 'worker') };
}

/** A new secret for one role; the old token of that role stops verifying at once. */
export function rotateToken(random: Random, set: TokenSet, role: JoinRole): TokenSet {
  const current = set[role];
  return { ...set, [role]: generateToken(random, current.clusterId, role, current.generation + 1) };
}

export function formatToken(token: JoinToken): string {
  const body = `${TOKEN_PREFIX}-${token.clusterId}-${roleLetter[token.role]}${token.generation}-${base32(token.secret)}`;
  return `${body}-${checksum(body)}`;
}

/** Parses the shape only; `verifyToken` decides whether it admits anyone. */
export function parseToken(text: unknown): JoinToken {
  if (typeof text !== 'string') throw new JoinError('token_malformed', 'join token: expected a string');
  const trimmed = text.trim();
  const parts = trimmed.split('-');
  if (parts.length !== 5) throw new JoinError('token_malformed', `join token: expected 5 parts separated by '-' (${TOKEN_PREFIX}-cluster-role-secret-check), got ${parts.length}`);
  const [prefix, clusterId, roleAndGeneration, secretText, check] = parts as [string, string, string, string, string];
  if (prefix !== TOKEN_PREFIX) throw new JoinError('token_malformed', `join token: must start with ${TOKEN_PREFIX}-, starts with ${JSON.stringify(prefix.slice(0, 8))}`);
  if (!/^[0-9a-f]{16}$/.test(clusterId)) throw new JoinError('token_malformed', 'join token: the cluster id (part 2) must be 16 lowercase hex characters');
  const roleMatch = /^([MW])([1-9][0-9]{0,8})$/.exec(roleAndGeneration);
  if (!roleMatch) throw new JoinError('token_malformed', 'join token: part 3 must be M or W followed by a generation number (e.g. M1)');
  if (!/^[0-9a-f]{8}$/.test(check)) throw new JoinError('token_malformed', 'join token: the checksum (part 5) must be 8 lowercase hex characters');
  if (checksum(trimmed.slice(0, trimmed.length - check.length - 1)) !== check) {
    throw new JoinError('token_checksum_mismatch', 'join token: checksum mismatch, the token was mistyped or truncated; copy it again');
  }
  const secret = unbase32(secretText);
  if (secret === undefined || secret.length !== SECRET_BYTES) throw new JoinError('token_malformed', `join token: the secret (part 4) must be ${SECRET_BYTES} bytes of base32`);
  return { clusterId, role: roleMatch[1] === 'M' ? 'manager' : 'worker', generation: Number(roleMatch[2]), secret };
}

export interface VerifyOptions {
  readonly clusterId: string;
  readonly current: TokenSet;
  /** The role the node asks for; a worker token never admits a manager, nor the reverse. */
  readonly role?: JoinRole;
}

/** Parses and checks a presented token; returns it when it admits its role now. */
export function verifyToken(text: unknown, options: VerifyOptions): JoinToken {
  const token = parseToken(text);
  checkTokenId(token, options);
  if (!secretsEqual(token.secret, options.current[token.role].secret)) throw new JoinError('token_invalid', `join token: not a valid ${token.role} token of this cluster`);
  return token;
}

/** The public half of a check (cluster, role, generation): also used by the proof of possession. */
export function checkTokenId(id: { clusterId: string; role: JoinRole; generation: number }, options: VerifyOptions): JoinToken {
  if (id.clusterId !== options.clusterId) throw new JoinError('token_wrong_cluster', `join token: belongs to cluster ${id.clusterId}, this is cluster ${options.clusterId}`);
  if (options.role !== undefined && id.role !== options.role) throw new JoinError('token_wrong_role', `join token: a ${id.role} token cannot join as ${options.role}`);
  const current = options.current[id.role];
  if (id.generation !== current.generation) {
    throw new JoinError(id.generation < current.generation ? 'token_rotated' : 'token_invalid', `join token: generation ${id.generation} of the ${id.role} token is not current (current is ${current.generation}); ask an operator for the current token`);
  }
  return current;
}

/** Constant time whatever the inputs: compare digests, which always have the same length. */
export function secretsEqual(a: Buffer, b: Buffer): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db) && a.length === b.length;
}

function checksum(body: string): string {
  return createHash('sha256').update(body).digest('hex').slice(0, 8);
}

function base32(bytes: Buffer): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31];
  return out;
}

function unbase32(text: string): Buffer | undefined {
  const bytes: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of text) {
    const value = BASE32.indexOf(char);
    if (value < 0) return undefined;
    buffer = (buffer << 5) | value;
    bits += 5;
    if (bits >= 8) {
      bytes.push((buffer >>> (bits - 8)) & 255);
      bits -= 8;
    }
    buffer &= (1 << bits) - 1;
  }
  // Leftover bits must be zero padding, or two spellings would decode to one secret.
  if (buffer !== 0) return undefined;
  return Buffer.from(bytes);
}
