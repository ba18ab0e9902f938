import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../../src/sim/seeded-random.ts';
import { JoinError } from '../../../src/join/join-error.ts';
import { clusterIdOf, generateTokenSet, rotateToken } from '../../../src/join/join-token.ts';
import { checkManagerProof, managerProof, newJoinNonce, openClusterSecret, proveToken, sealClusterSecret, verifyClaim } from '../../../src/join/join-proof.ts';

const clusterId = clusterIdOf('cluster-A');
const random = new SeededRandom(3);
const set = generateTokenSet(random, clusterId);
const options = { clusterId, current: set };
const clusterSecret = 'the-transport-cluster-secret-0123456789';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(JoinError);
    return (error as JoinError).code;
  }
}

/** One complete exchange: challenge, claim, manager's answer. */
function handshake(token = set.manager, nodeId = 'node-b') {
  const serverNonce = newJoinNonce(random);
  const claim = proveToken(token, serverNonce, newJoinNonce(random), nodeId);
  return { serverNonce, claim };
}

describe('proof of possession of a join token', () => {
  it('a node holding the manager token proves it without sending the secret, and the manager proves itself back', () => {
    const { serverNonce, claim } = handshake();
    expect(JSON.stringify(claim)).not.toContain(set.manager.secret.toString('hex'));
    expect(Object.keys(claim).sort()).toEqual(['clientNonce', 'clusterId', 'generation', 'nodeId', 'proof', 'role']);
    const { token } = verifyClaim(claim, serverNonce, { ...options, role: 'manager' });
    expect(token.role).toBe('manager');
    expect(() => checkManagerProof(set.manager, serverNonce, claim, managerProof(set.manager, serverNonce, claim))).not.toThrow();
  });

  it('a proof is single-use: replayed against another challenge it fails', () => {
    const { claim } = handshake();
    expect(codeOf(() => verifyClaim(claim, newJoinNonce(random), options))).toBe('join_proof_invalid');
  });

  it('a proof is bound to its node id', () => {
    const { serverNonce, claim } = handshake();
    expect(codeOf(() => verifyClaim({ ...claim, nodeId: 'node-evil' }, serverNonce, options))).toBe('join_proof_invalid');
  });

  it('a worker token cannot claim to be a manager token, nor join as manager', () => {
    const { serverNonce, claim } = handshake(set.worker);
    expect(codeOf(() => verifyClaim(claim, serverNonce, { ...options, role: 'manager' }))).toBe('token_wrong_role');
    // Relabelling the claim breaks the proof (the role is inside the MAC).
    expect(codeOf(() => verifyClaim({ ...claim, role: 'manager', generation: set.manager.generation }, serverNonce, options))).toBe('join_proof_invalid');
  });

  it("refuses another cluster's token, a wrong secret and a rotated token with their codes", () => {
    const foreign = generateTokenSet(new SeededRandom(3), clusterIdOf('cluster-B'));
    const a = handshake(foreign.manager);
    expect(codeOf(() => verifyClaim(a.claim, a.serverNonce, options))).toBe('token_wrong_cluster');
    const forged = generateTokenSet(new SeededRandom(4), clusterId);
    const b = handshake(forged.manager);
    expect(codeOf(() => verifyClaim(b.claim, b.serverNonce, options))).toBe('join_proof_invalid');
    const rotated = rotateToken(new SeededRandom(5), set, 'manager');
    const c = handshake(set.manager);
    expect(codeOf(() => verifyClaim(c.claim, c.serverNonce, { clusterId, current: rotated }))).toBe('token_rotated');
  });

  it('a node refuses a manager that cannot prove the token (an impostor cluster)', () => {
    const { serverNonce, claim } = handshake();
    const impostor = generateTokenSet(new SeededRandom(4), clusterId).manager;
    expect(codeOf(() => checkManagerProof(set.manager, serverNonce, claim, managerProof(impostor, serverNonce, claim)))).toBe('join_proof_invalid');
    expect(codeOf(() => checkManagerProof(set.manager, serverNonce, claim, undefined))).toBe('join_proof_invalid');
  });

  it.each([
    ['null', null, /body must be an object/],
    ['an array', [], /body must be an object/],
    ['a bad cluster id', { clusterId: 'x' }, /clusterId/],
    ['a bad role', { role: 'admin' }, /role/],
    ['a bad generation', { generation: 1.5 }, /generation/],
    ['an empty node id', { nodeId: '' }, /nodeId/],
    ['a short nonce', { clientNonce: 'ab' }, /clientNonce/],
    ['a non-hex proof', { proof: 'z'.repeat(64) }, /proof/],
  ])('refuses a claim with %s as join_proof_malformed, naming the field', (_name, patch, message) => {
    const { serverNonce, claim } = handshake();
    const bad = patch === null || Array.isArray(patch) ? patch : { ...claim, ...patch };
    expect(codeOf(() => verifyClaim(bad, serverNonce, options))).toBe('join_proof_malformed');
    expect(() => verifyClaim(bad, serverNonce, options)).toThrow(message);
  });
});

describe('sealing the cluster secret for a new manager', () => {
  it('the node that proved the manager token opens it', () => {
    const { serverNonce, claim } = handshake();
    const sealed = sealClusterSecret(random, set.manager, serverNonce, claim, clusterSecret);
    expect(sealed.ciphertext).not.toContain(Buffer.from(clusterSecret).toString('hex'));
    expect(openClusterSecret(set.manager, serverNonce, claim, sealed)).toBe(clusterSecret);
  });

  it.each(['iv', 'ciphertext', 'tag'] as const)('a tampered %s is seal_invalid', (field) => {
    const { serverNonce, claim } = handshake();
    const sealed = sealClusterSecret(random, set.manager, serverNonce, claim, clusterSecret);
    const value = sealed[field];
    const flipped = (value[0] === '0' ? '1' : '0') + value.slice(1);
    expect(codeOf(() => openClusterSecret(set.manager, serverNonce, claim, { ...sealed, [field]: flipped }))).toBe('seal_invalid');
  });

  it('a seal made for one join does not open in another (other nonces, other node)', () => {
    const first = handshake();
    const sealed = sealClusterSecret(random, set.manager, first.serverNonce, first.claim, clusterSecret);
    const second = handshake();
    expect(codeOf(() => openClusterSecret(set.manager, second.serverNonce, second.claim, sealed))).toBe('seal_invalid');
    expect(codeOf(() => openClusterSecret(set.manager, first.serverNonce, { ...first.claim, nodeId: 'node-c' }, sealed))).toBe('seal_invalid');
  });

  it('a seal opens only with the token of the role it was sealed for (a worker gets its own key), and a malformed seal is seal_malformed', () => {
    const { serverNonce, claim } = handshake(set.worker);
    const sealed = sealClusterSecret(random, set.manager, serverNonce, claim, clusterSecret);
    expect(codeOf(() => openClusterSecret(set.worker, serverNonce, claim, sealed))).toBe('seal_invalid');
    const forWorker = sealClusterSecret(random, set.worker, serverNonce, claim, 'worker-key');
    expect(openClusterSecret(set.worker, serverNonce, claim, forWorker)).toBe('worker-key');
    expect(codeOf(() => openClusterSecret(set.manager, serverNonce, claim, { iv: 'x', ciphertext: '', tag: '' }))).toBe('seal_malformed');
    expect(codeOf(() => openClusterSecret(set.manager, serverNonce, claim, 'sealed'))).toBe('seal_malformed');
  });
});
