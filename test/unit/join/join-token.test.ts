import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../../src/sim/seeded-random.ts';
import { cryptoRandom } from '../../../src/adapters/crypto-random.ts';
import { JoinError } from '../../../src/join/join-error.ts';
import { clusterIdOf, formatToken, generateTokenSet, parseToken, rotateToken, verifyToken } from '../../../src/join/join-token.ts';

const clusterId = clusterIdOf('cluster-identity-A');
const otherCluster = clusterIdOf('cluster-identity-B');

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(JoinError);
    return (error as JoinError).code;
  }
}

describe('join tokens', () => {
  const set = generateTokenSet(new SeededRandom(7), clusterId);
  const managerText = formatToken(set.manager);
  const workerText = formatToken(set.worker);

  it('has the CST1-cluster-role+generation-secret-check shape and pins cluster and role', () => {
    expect(managerText).toMatch(/^CST1-[0-9a-f]{16}-M1-[a-z2-7]{52}-[0-9a-f]{8}$/);
    expect(workerText).toMatch(/^CST1-[0-9a-f]{16}-W1-[a-z2-7]{52}-[0-9a-f]{8}$/);
    expect(managerText.split('-')[1]).toBe(clusterId);
    expect(clusterId).not.toBe(otherCluster);
    expect(clusterIdOf('cluster-identity-A')).toBe(clusterId); // derived, stable
  });

  it('round-trips through parse (and tolerates surrounding whitespace from a paste)', () => {
    const parsed = parseToken(`  ${managerText}\n`);
    expect(parsed).toEqual(set.manager);
    expect(parseToken(workerText).role).toBe('worker');
  });

  it('draws its secret from the Random seam: the same seed gives the same token, another seed another', () => {
    expect(formatToken(generateTokenSet(new SeededRandom(7), clusterId).manager)).toBe(managerText);
    expect(formatToken(generateTokenSet(new SeededRandom(8), clusterId).manager)).not.toBe(managerText);
    expect(set.manager.secret.equals(set.worker.secret)).toBe(false);
    const a = generateTokenSet(cryptoRandom, clusterId);
    const b = generateTokenSet(cryptoRandom, clusterId);
    expect(a.manager.secret.equals(b.manager.secret)).toBe(false);
  });

  it('catches every single-character typo by its checksum or shape', () => {
    // Change each character of the token (except the prefix) to another valid character of its part.
    const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
    let checked = 0;
    for (let i = 5; i < managerText.length; i++) {
      const char = managerText[i]!;
      if (char === '-') continue;
      const replacement = char === 'a' ? 'b' : /[0-9]/.test(char) && char !== '2' ? '2' : 'a';
      expect(alphabet.includes(replacement)).toBe(true);
      const typo = managerText.slice(0, i) + replacement + managerText.slice(i + 1);
      const code = codeOf(() => parseToken(typo));
      expect(['token_checksum_mismatch', 'token_malformed'], `typo at ${i}`).toContain(code);
      checked += 1;
    }
    expect(checked).toBe(16 + 2 + 52 + 8); // every character after the prefix
    expect(codeOf(() => parseToken(managerText.slice(0, 40) + managerText.slice(41)))).toBe('token_checksum_mismatch');
  });

  it.each([
    ['not a string', 42, /expected a string/],
    ['too few parts', 'CST1-abc', /expected 5 parts/],
    ['wrong prefix', 'SWMTKN-1-aaaaaaaaaaaaaaaa-M1-x-00000000', /expected 5 parts|must start with CST1/],
    ['wrong prefix, right shape', 'CST2-aaaaaaaaaaaaaaaa-M1-abc-00000000', /must start with CST1-/],
    ['bad cluster id', 'CST1-XYZ-M1-abc-00000000', /cluster id \(part 2\)/],
    ['bad role', 'CST1-aaaaaaaaaaaaaaaa-X1-abc-00000000', /part 3 must be M or W/],
    ['generation 0', 'CST1-aaaaaaaaaaaaaaaa-M0-abc-00000000', /part 3/],
    ['bad checksum shape', 'CST1-aaaaaaaaaaaaaaaa-M1-abc-zz', /checksum \(part 5\)/],
  ])('refuses %s as token_malformed, saying which part', (_name, text, message) => {
    expect(codeOf(() => parseToken(text))).toBe('token_malformed');
    expect(() => parseToken(text)).toThrow(message);
  });

  it('refuses a well-formed token whose secret has the wrong length', () => {
    const body = `CST1-${clusterId}-M1-abcdefgh`;
    // A valid checksum for the short secret, so only the length is wrong.
    const text = `${body}-${createHash('sha256').update(body).digest('hex').slice(0, 8)}`;
    expect(codeOf(() => parseToken(text))).toBe('token_malformed');
    expect(() => parseToken(text)).toThrow(/32 bytes of base32/);
  });
});

describe('verifying a presented token', () => {
  const set = generateTokenSet(new SeededRandom(11), clusterId);
  const current = { clusterId, current: set };

  it('admits the current manager token as manager and the worker token as worker', () => {
    expect(verifyToken(formatToken(set.manager), { ...current, role: 'manager' }).role).toBe('manager');
    expect(verifyToken(formatToken(set.worker), { ...current, role: 'worker' }).role).toBe('worker');
    expect(verifyToken(formatToken(set.worker), current).role).toBe('worker');
  });

  it('refuses a worker token for a manager join, and the reverse (token_wrong_role)', () => {
    expect(codeOf(() => verifyToken(formatToken(set.worker), { ...current, role: 'manager' }))).toBe('token_wrong_role');
    expect(codeOf(() => verifyToken(formatToken(set.manager), { ...current, role: 'worker' }))).toBe('token_wrong_role');
  });

  it("refuses another cluster's token before looking at its secret (token_wrong_cluster)", () => {
    const foreign = generateTokenSet(new SeededRandom(11), otherCluster); // same secrets, other cluster
    expect(codeOf(() => verifyToken(formatToken(foreign.manager), current))).toBe('token_wrong_cluster');
    expect(() => verifyToken(formatToken(foreign.manager), current)).toThrow(new RegExp(`cluster ${otherCluster}, this is cluster ${clusterId}`));
  });

  it('refuses a forged token with the right id but another secret (token_invalid)', () => {
    const forged = generateTokenSet(new SeededRandom(99), clusterId).manager;
    expect(codeOf(() => verifyToken(formatToken(forged), current))).toBe('token_invalid');
  });

  it('rotation: the new token verifies, the old one is token_rotated, the other role is untouched', () => {
    const rotated = rotateToken(new SeededRandom(12), set, 'worker');
    expect(rotated.worker.generation).toBe(2);
    expect(rotated.manager).toBe(set.manager);
    const after = { clusterId, current: rotated };
    expect(verifyToken(formatToken(rotated.worker), after).generation).toBe(2);
    expect(codeOf(() => verifyToken(formatToken(set.worker), after))).toBe('token_rotated');
    expect(verifyToken(formatToken(set.manager), after).role).toBe('manager');
    // A token from the future (generation above the current one) is simply invalid.
    expect(codeOf(() => verifyToken(formatToken(rotated.worker), current))).toBe('token_invalid');
  });
});
