import type { RaftTelemetry } from '../metrics/raft-metrics.ts';
import { secondsSince } from '../metrics/raft-metrics.ts';
import { NotLeaderError } from '../raft/errors.ts';
import type { RaftNode } from '../raft/raft-node.ts';
import type { RaftStorage } from '../seams/raft-storage.ts';

/**
 * Measures the Raft member from the outside, so the consensus core stays free of metrics: each
 * WAL flush (`sync()`: group commit, one per batch) and each proposal on the leader (propose() to
 * committed and applied). Without telemetry the originals are returned untouched.
 */
export function timedStorage(storage: RaftStorage, telemetry: RaftTelemetry | undefined): RaftStorage {
  if (!telemetry) return storage;
  return {
    load: () => storage.load(),
    setHardState: (hardState) => storage.setHardState(hardState),
    append: (entries) => storage.append(entries),
    saveSnapshot: (snapshot) => storage.saveSnapshot(snapshot),
    sync: async () => {
      const start = process.hrtime.bigint();
      await storage.sync();
      telemetry.walSynced(secondsSince(start));
    },
    close: () => storage.close(),
  };
}

/** The member with propose() timed; every other property is the member's own. */
export function timedProposals(raft: RaftNode, telemetry: RaftTelemetry | undefined): RaftNode {
  if (!telemetry) return raft;
  const propose: RaftNode['propose'] = async (request) => {
    const start = process.hrtime.bigint();
    try {
      const result = await raft.propose(request);
      telemetry.appended(secondsSince(start), 'committed');
      return result;
    } catch (error) {
      // A follower's refusal is no append: only what the leader took and lost counts as failed.
      if (!(error instanceof NotLeaderError)) telemetry.appended(secondsSince(start), 'failed');
      throw error;
    }
  };
  return new Proxy(raft, {
    get(target, property) {
      if (property === 'propose') return propose;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
