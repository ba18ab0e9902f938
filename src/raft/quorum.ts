import type { Membership, NodeId } from './types.ts';

/** Smallest number of voters that forms a majority. */
export function majority(voterCount: number): number {
  return Math.floor(voterCount / 2) + 1;
}

export function isVoter(membership: Membership, id: NodeId): boolean {
  return membership.voters.includes(id);
}

export function isMember(membership: Membership, id: NodeId): boolean {
  return membership.voters.includes(id) || membership.learners.includes(id);
}

/** Every member except `self`: the peers a leader replicates to. */
export function peersOf(membership: Membership, self: NodeId): NodeId[] {
  return [...membership.voters, ...membership.learners].filter((id) => id !== self);
}

/** The highest index that a majority of voters hold (the quorum's match index). */
export function quorumIndex(voters: readonly NodeId[], matchOf: (id: NodeId) => number): number {
  if (voters.length === 0) return 0;
  const matches = voters.map(matchOf).sort((a, b) => b - a);
  return matches[majority(voters.length) - 1] as number;
}

export type VoteResult = 'won' | 'lost' | 'pending';

/** Tallies answers from voters only; a vote from a non-voter never counts. */
export function tallyVotes(voters: readonly NodeId[], votes: Readonly<Record<NodeId, boolean>>): VoteResult {
  let granted = 0;
  let rejected = 0;
  for (const id of voters) {
    if (votes[id] === true) granted++;
    else if (votes[id] === false) rejected++;
  }
  const needed = majority(voters.length);
  if (granted >= needed) return 'won';
  if (rejected > voters.length - needed) return 'lost';
  return 'pending';
}

/** Counts acknowledgements from voters. */
export function hasQuorum(voters: readonly NodeId[], acked: (id: NodeId) => boolean): boolean {
  return voters.filter(acked).length >= majority(voters.length);
}
