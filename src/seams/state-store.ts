import type { ClientRequest, CommandResult } from '../cluster/commands.ts';
import type { ClusterStateData } from '../cluster/state.ts';

/**
 * Where desired state lives. A single node backs it with an atomically written file in the data
 * directory; a cluster backs it with the replicated Raft log. Either way `submit` resolves only
 * after the command is durable, so an acknowledged deploy survives a crash.
 */
export interface StateStore {
  /** Reads persisted state; call once before anything else. */
  open(): Promise<void>;
  current(): Readonly<ClusterStateData>;
  submit(request: ClientRequest): Promise<CommandResult>;
  /** Called after every applied change; returns an unsubscribe function. */
  subscribe(listener: (state: Readonly<ClusterStateData>) => void): () => void;
  close(): Promise<void>;
}
