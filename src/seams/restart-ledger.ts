/**
 * How many times the agent restarted each container, kept across daemon restarts. The engine
 * cannot tell us: the agent restarts containers itself (their engine policy is "no"), so Docker's
 * RestartCount stays 0, and a label cannot change on an existing container. Keyed by container
 * id, which the engine never reuses, so a count can never land on another container.
 */
export interface RestartLedger {
  /** Restarts recorded for this container; 0 when none. */
  restartsOf(containerId: string): number;
  /** The container was restarted `restarts` times in all; written behind the caller's back. */
  record(containerId: string, restarts: number): void;
  /** The container is gone for good. */
  forget(containerId: string): void;
  /** Keeps only these containers (after a full listing of the engine): drops what vanished while we were away. */
  retainOnly(containerIds: ReadonlySet<string>): void;
}

/** In memory: for the simulator and tests (a restarted agent given the same ledger keeps the counts). */
export class MemoryRestartLedger implements RestartLedger {
  readonly counts = new Map<string, number>();

  restartsOf(containerId: string): number {
    return this.counts.get(containerId) ?? 0;
  }

  record(containerId: string, restarts: number): void {
    if (restarts > 0) this.counts.set(containerId, restarts);
    else this.counts.delete(containerId);
  }

  forget(containerId: string): void {
    this.counts.delete(containerId);
  }

  retainOnly(containerIds: ReadonlySet<string>): void {
    for (const id of [...this.counts.keys()]) if (!containerIds.has(id)) this.counts.delete(id);
  }
}
