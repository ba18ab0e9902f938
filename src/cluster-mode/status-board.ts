import type { ContainerView, ServiceStatus } from '../actors/agent-types.ts';

/** What one node last reported of itself. */
export interface NodeReport {
  readonly nodeId: string;
  readonly lastSeenMs: number;
  readonly containers: readonly ContainerView[];
  readonly services: readonly ServiceStatus[];
}

/** The heartbeat body: containers and services only when they changed since the last one. */
export interface Heartbeat {
  readonly nodeId: string;
  /**
   * The node's engine does not answer (dockerd died, the daemon lives): the node reports itself
   * unhealthy. The leader keeps its status report but does not count the beat as the node being
   * alive, so its replicas fail over as a dead node's; the node renews no lease from it.
   */
  readonly engineDown?: boolean;
  readonly status?: { readonly containers: readonly ContainerView[]; readonly services: readonly ServiceStatus[] };
}

/** The board as the views read it: reports by node. */
export type BoardSnapshot = readonly NodeReport[];

/**
 * The board as it travels to follower managers: ages instead of times, because each daemon's
 * clock is monotonic with its own origin.
 */
export type BoardTransfer = readonly (Omit<NodeReport, 'lastSeenMs'> & { readonly ageMs: number })[];

/**
 * The leader's soft state of what runs where, fed by heartbeats (as Swarm's dispatcher holds task
 * status): never written to the log, rebuilt within one heartbeat period after a leader change,
 * because a node whose report the new leader lacks is asked for a full one.
 */
export class StatusBoard {
  private readonly reports = new Map<string, NodeReport>();

  /** Records a heartbeat; `needFull` asks the node to send its whole status next time. */
  receive(heartbeat: Heartbeat, nowMs: number): { readonly needFull: boolean } {
    const previous = this.reports.get(heartbeat.nodeId);
    if (!heartbeat.status && !previous) return { needFull: true };
    this.reports.set(heartbeat.nodeId, {
      nodeId: heartbeat.nodeId,
      lastSeenMs: nowMs,
      containers: heartbeat.status?.containers ?? previous!.containers,
      services: heartbeat.status?.services ?? previous!.services,
    });
    return { needFull: false };
  }

  forget(nodeId: string): void {
    this.reports.delete(nodeId);
  }

  report(nodeId: string): NodeReport | undefined {
    return this.reports.get(nodeId);
  }

  snapshot(): BoardSnapshot {
    return [...this.reports.values()];
  }

  exportAt(nowMs: number): BoardTransfer {
    return this.snapshot().map(({ lastSeenMs, ...report }) => ({ ...report, ageMs: nowMs - lastSeenMs }));
  }

  /** A follower manager mirrors the leader's board from its heartbeat answers. */
  replaceWith(transfer: BoardTransfer, nowMs: number): void {
    this.reports.clear();
    for (const { ageMs, ...report } of transfer) this.reports.set(report.nodeId, { ...report, lastSeenMs: nowMs - ageMs });
  }
}
