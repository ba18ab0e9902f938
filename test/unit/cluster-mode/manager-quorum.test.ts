import { describe, expect, it } from 'vitest';
import { demoteProblem } from '../../../src/cluster-mode/manager-quorum.ts';

const live = (...ids: string[]) => (id: string) => ids.includes(id);

describe('demoteProblem: may a manager give up its vote?', () => {
  it('never the last voter', () => {
    expect(demoteProblem(['a'], 'a', live('a'))).toMatchObject({ code: 'last_manager' });
  });

  it('only while the voters left, counting the live ones, still form a majority', () => {
    // 3 voters all up: 2 left, both live.
    expect(demoteProblem(['a', 'b', 'c'], 'c', live('a', 'b', 'c'))).toBeUndefined();
    // c down: demoting b leaves a and the dead c, 1 live of the 2 needed.
    expect(demoteProblem(['a', 'b', 'c'], 'b', live('a', 'b'))).toMatchObject({ code: 'demote_would_lose_quorum', message: expect.stringContaining('c not') });
    // Demoting the dead one is how the cluster shrinks around it.
    expect(demoteProblem(['a', 'b', 'c'], 'c', live('a', 'b'))).toBeUndefined();
    // 5 voters, 2 down: demoting a live one leaves 4 with 2 live, 3 needed.
    expect(demoteProblem(['a', 'b', 'c', 'd', 'e'], 'a', live('a', 'b', 'c'))).toMatchObject({ code: 'demote_would_lose_quorum' });
    // ... demoting a dead one leaves 4 with 3 live: fine.
    expect(demoteProblem(['a', 'b', 'c', 'd', 'e'], 'e', live('a', 'b', 'c'))).toBeUndefined();
    // 2 voters: the one left must be live.
    expect(demoteProblem(['a', 'b'], 'a', live('a'))).toMatchObject({ code: 'demote_would_lose_quorum' });
    expect(demoteProblem(['a', 'b'], 'a', live('a', 'b'))).toBeUndefined();
  });

  it('a node that is not a voter has nothing to give up', () => {
    expect(demoteProblem(['a'], 'z', live())).toBeUndefined();
  });
});
