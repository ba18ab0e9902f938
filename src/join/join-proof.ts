import { createCipheriv, createDecipheriv, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { Random } from '../seams/random.ts';
import { JoinError } from './join-error.ts';
import { checkTokenId, type JoinRole, type JoinToken, randomSecret, type VerifyOptions } from './join-token.ts';

/**
 * Proof of possession of a join token, so the token never crosses the wire (a recorded join
 * reveals nothing that lets anyone else join):
 *
 *   manager → node   {serverNonce}
 *   node → manager   {clusterId, role, generation, nodeId, clientNonce, proof}
 *                    proof = HMAC-SHA256(secret, "join-client" | serverNonce | clientNonce | nodeId | clusterId | role | generation)
 *   manager → node   {proof: HMAC-SHA256(secret, "join-server" | …same…)}  — the node knows it joined the real cluster
 *                    and the sealed secret of its role: the cluster secret for a manager token, the key
 *                    derived for its node id for a worker token (src/cluster-mode/worker/worker-key.ts)
 *
 * Fresh 32-byte nonces on both sides make every proof single-use; the role labels stop a
 * reflected proof, and the node id binds the proof to the node that is joining. Proofs are
 * compared in constant time. Same shape as the transport handshake (ws-transport/handshake.ts),
 * keyed by the token's secret instead of the cluster secret.
 *
 * Sealing: a node that proved a manager token receives the cluster secret (the transport's key),
 * encrypted with AES-256-GCM under HKDF-SHA256(token secret, salt = both nonces, info = node id):
 * a key no other handshake shares, so the IV may come from the Random seam without any
 * uniqueness worry, and the tag refuses any tampered byte.
 */
export const JOIN_NONCE_BYTES = 32;
const PROOF_HEX = 64;

export interface JoinClaim {
  readonly clusterId: string;
  readonly role: JoinRole;
  readonly generation: number;
  readonly nodeId: string;
  readonly clientNonce: string;
  readonly proof: string;
}

export interface Sealed {
  readonly iv: string;
  readonly ciphertext: string;
  readonly tag: string;
}

export function newJoinNonce(random: Random): string {
  return randomSecret(random, JOIN_NONCE_BYTES).toString('hex');
}

/** The joining node's answer to the manager's challenge. */
export function proveToken(token: JoinToken, serverNonce: string, clientNonce: string, nodeId: string): JoinClaim {
  const proof = mac(token.secret, 'join-client', serverNonce, clientNonce, nodeId, token.clusterId, token.role, token.generation);
  return { clusterId: token.clusterId, role: token.role, generation: token.generation, nodeId, clientNonce, proof };
}

/**
 * The manager's check of a claim against the current tokens. Returns the token that was proved;
 * throws a JoinError naming why otherwise (wrong cluster, wrong role, rotated, bad proof).
 */
export function verifyClaim(claim: unknown, serverNonce: string, options: VerifyOptions): { token: JoinToken; claim: JoinClaim } {
  const parsed = parseClaim(claim);
  const token = checkTokenId(parsed, options);
  const expected = mac(token.secret, 'join-client', serverNonce, parsed.clientNonce, parsed.nodeId, token.clusterId, token.role, token.generation);
  if (!hexEqual(expected, parsed.proof)) throw new JoinError('join_proof_invalid', `join: node ${parsed.nodeId} did not prove the ${parsed.role} token`);
  return { token, claim: parsed };
}

/** The manager's proof back to the node. */
export function managerProof(token: JoinToken, serverNonce: string, claim: JoinClaim): string {
  return mac(token.secret, 'join-server', serverNonce, claim.clientNonce, claim.nodeId, token.clusterId, token.role, token.generation);
}

export function checkManagerProof(token: JoinToken, serverNonce: string, claim: JoinClaim, proof: unknown): void {
  if (typeof proof !== 'string' || !hexEqual(managerProof(token, serverNonce, claim), proof)) {
    throw new JoinError('join_proof_invalid', 'join: the manager did not prove it holds this token; it is not this cluster');
  }
}

export function sealClusterSecret(random: Random, token: JoinToken, serverNonce: string, claim: JoinClaim, clusterSecret: string): Sealed {
  const iv = randomSecret(random, 12);
  const cipher = createCipheriv('aes-256-gcm', sealKey(token, serverNonce, claim), iv);
  cipher.setAAD(aad(token, claim));
  const ciphertext = Buffer.concat([cipher.update(clusterSecret, 'utf8'), cipher.final()]);
  return { iv: iv.toString('hex'), ciphertext: ciphertext.toString('hex'), tag: cipher.getAuthTag().toString('hex') };
}

export function openClusterSecret(token: JoinToken, serverNonce: string, claim: JoinClaim, sealed: unknown): string {
  const s = sealed as Partial<Record<keyof Sealed, unknown>> | null;
  if (typeof s !== 'object' || s === null || !isHex(s.iv, 24) || !isHex(s.tag, 32) || typeof s.ciphertext !== 'string' || !/^(?:[0-9a-f]{2}){1,4096}$/.test(s.ciphertext)) {
    throw new JoinError('seal_malformed', 'join: the sealed cluster secret must be {iv: 12 bytes hex, ciphertext: hex, tag: 16 bytes hex}');
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', sealKey(token, serverNonce, claim), Buffer.from(s.iv, 'hex'));
    decipher.setAAD(aad(token, claim));
    decipher.setAuthTag(Buffer.from(s.tag, 'hex'));
    return Buffer.concat([decipher.update(Buffer.from(s.ciphertext, 'hex')), decipher.final()]).toString('utf8');
  } catch {
    throw new JoinError('seal_invalid', 'join: the sealed cluster secret does not authenticate (tampered, or sealed for another join)');
  }
}

function sealKey(token: JoinToken, serverNonce: string, claim: JoinClaim): Buffer {
  const salt = Buffer.from(`${serverNonce}|${claim.clientNonce}`, 'utf8');
  return Buffer.from(hkdfSync('sha256', token.secret, salt, `constellation-join-seal/v1|${claim.nodeId}`, 32));
}

function aad(token: JoinToken, claim: JoinClaim): Buffer {
  return Buffer.from(`${token.clusterId}|${claim.nodeId}|${token.generation}`, 'utf8');
}

function mac(secret: Buffer, label: string, ...parts: ReadonlyArray<string | number>): string {
  // Length-prefixed parts keep "ab"+"c" and "a"+"bc" distinct.
  const hmac = createHmac('sha256', secret).update(label);
  for (const part of parts) {
    const text = String(part);
    hmac.update(`|${text.length}:${text}`);
  }
  return hmac.digest('hex');
}

function hexEqual(expected: string, received: string): boolean {
  if (!isHex(received, PROOF_HEX)) return false;
  return timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(received, 'hex'));
}

const isHex = (value: unknown, chars: number): value is string => typeof value === 'string' && value.length === chars && /^[0-9a-f]+$/.test(value);

function parseClaim(value: unknown): JoinClaim {
  const o = value as Partial<Record<keyof JoinClaim, unknown>> | null;
  const fail = (what: string) => new JoinError('join_proof_malformed', `join: the claim's ${what}`);
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw fail('body must be an object');
  if (typeof o.clusterId !== 'string' || !/^[0-9a-f]{16}$/.test(o.clusterId)) throw fail('clusterId must be 16 hex characters');
  if (o.role !== 'manager' && o.role !== 'worker') throw fail('role must be "manager" or "worker"');
  if (typeof o.generation !== 'number' || !Number.isInteger(o.generation) || o.generation < 1) throw fail('generation must be a positive integer');
  if (typeof o.nodeId !== 'string' || o.nodeId.length === 0 || o.nodeId.length > 256) throw fail('nodeId must be a non-empty string of at most 256 characters');
  if (!isHex(o.clientNonce, JOIN_NONCE_BYTES * 2)) throw fail(`clientNonce must be ${JOIN_NONCE_BYTES} bytes of hex`);
  if (!isHex(o.proof, PROOF_HEX)) throw fail('proof must be 32 bytes of hex');
  return { clusterId: o.clusterId, role: o.role, generation: o.generation, nodeId: o.nodeId, clientNonce: o.clientNonce, proof: o.proof };
}
