import type { ClusterStateData } from '../cluster/state.ts';
import { formatToken, parseToken, type TokenSet } from '../join/join-token.ts';

/**
 * The cluster's current join tokens live in the replicated key/value space, so every manager
 * verifies joins against the same set and a rotation is one committed write.
 */
export const JOIN_TOKENS_KEY = 'constellation/join-tokens';

export function encodeTokenSet(set: TokenSet): string {
  return JSON.stringify({ manager: formatToken(set.manager), worker: formatToken(set.worker) });
}

export function currentTokenSet(state: Readonly<ClusterStateData>): TokenSet | undefined {
  const text = state.kv[JOIN_TOKENS_KEY];
  if (text === undefined) return undefined;
  const parsed = JSON.parse(text) as { manager: string; worker: string };
  return { manager: parseToken(parsed.manager), worker: parseToken(parsed.worker) };
}
